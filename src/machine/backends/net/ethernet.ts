// Ethernet II framing: the 14-byte header the guest's NIC puts on every frame (no FCS on the wire).

import type { Mac } from "./addresses.ts";

export const ETHERNET_HEADER = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;

export interface EthernetHeader {
  readonly destination: Mac;
  readonly source: Mac;
  readonly type: number;
}

/** The header of `frame`, or undefined when the frame is too short to have one. */
export function parseEthernet(frame: Uint8Array): EthernetHeader | undefined {
  if (frame.length < ETHERNET_HEADER) return undefined;
  return {
    destination: frame.subarray(0, 6),
    source: frame.subarray(6, 12),
    type: (frame[12]! << 8) | frame[13]!,
  };
}

/** A new frame with the header written and `payload` copied after it. */
export function buildEthernet(destination: Mac, source: Mac, type: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(ETHERNET_HEADER + payload.length);
  frame.set(destination, 0);
  frame.set(source, 6);
  frame[12] = type >>> 8;
  frame[13] = type & 0xff;
  frame.set(payload, ETHERNET_HEADER);
  return frame;
}

/** Group (multicast or broadcast) addresses have the low bit of the first byte set. */
export function isGroupMac(mac: Mac): boolean {
  return (mac[0]! & 1) !== 0;
}
