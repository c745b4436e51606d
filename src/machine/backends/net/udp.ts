// UDP (RFC 768): datagram parsing with the length and optional checksum checked, and building.

import type { Ipv4 } from "./addresses.ts";
import { PROTOCOL_UDP, transportChecksum } from "./ipv4.ts";

export const UDP_HEADER = 8;

export interface UdpDatagram {
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly payload: Uint8Array;
}

export type UdpProblem = "truncated" | "length" | "checksum";

export function parseUdp(source: Ipv4, destination: Ipv4, bytes: Uint8Array): UdpDatagram | UdpProblem {
  if (bytes.length < UDP_HEADER) return "truncated";
  const length = (bytes[4]! << 8) | bytes[5]!;
  if (length < UDP_HEADER || length > bytes.length) return "length";
  const datagram = bytes.subarray(0, length);
  // A zero checksum means the sender did not compute one (allowed over IPv4).
  const sent = (bytes[6]! << 8) | bytes[7]!;
  if (sent !== 0 && transportChecksum(source, destination, PROTOCOL_UDP, datagram) !== 0) return "checksum";
  return {
    sourcePort: (bytes[0]! << 8) | bytes[1]!,
    destinationPort: (bytes[2]! << 8) | bytes[3]!,
    payload: datagram.subarray(UDP_HEADER),
  };
}

export function buildUdp(
  source: Ipv4,
  sourcePort: number,
  destination: Ipv4,
  destinationPort: number,
  payload: Uint8Array,
): Uint8Array {
  const datagram = new Uint8Array(UDP_HEADER + payload.length);
  datagram[0] = sourcePort >>> 8;
  datagram[1] = sourcePort & 0xff;
  datagram[2] = destinationPort >>> 8;
  datagram[3] = destinationPort & 0xff;
  datagram[4] = datagram.length >>> 8;
  datagram[5] = datagram.length & 0xff;
  datagram.set(payload, UDP_HEADER);
  // A computed checksum of zero is sent as all ones (RFC 768).
  const sum = transportChecksum(source, destination, PROTOCOL_UDP, datagram) || 0xffff;
  datagram[6] = sum >>> 8;
  datagram[7] = sum & 0xff;
  return datagram;
}
