// IPv4 (RFC 791): parsing a guest's datagram with every length checked, and building ours.
//
// No options are sent, and fragments are not reassembled: a guest's TCP and DNS never fragment
// (see docs/networking.md).

import { checksum, readIpv4, writeIpv4, type Ipv4 } from "./addresses.ts";

export const PROTOCOL_ICMP = 1;
export const PROTOCOL_TCP = 6;
export const PROTOCOL_UDP = 17;
export const IPV4_HEADER = 20;

export interface Ipv4Packet {
  readonly source: Ipv4;
  readonly destination: Ipv4;
  readonly protocol: number;
  readonly ttl: number;
  /** The whole datagram: header then payload (any Ethernet padding cut off). */
  readonly datagram: Uint8Array;
  readonly headerLength: number;
  readonly payload: Uint8Array;
  readonly fragment: boolean;
}

export type Ipv4Problem = "truncated" | "version" | "header-length" | "total-length" | "checksum";

/** The datagram in `bytes` (an Ethernet payload), or the reason it is malformed. */
export function parseIpv4(bytes: Uint8Array): Ipv4Packet | Ipv4Problem {
  if (bytes.length < IPV4_HEADER) return "truncated";
  if (bytes[0]! >>> 4 !== 4) return "version";
  const headerLength = (bytes[0]! & 0x0f) * 4;
  if (headerLength < IPV4_HEADER || headerLength > bytes.length) return "header-length";
  const totalLength = (bytes[2]! << 8) | bytes[3]!;
  if (totalLength < headerLength || totalLength > bytes.length) return "total-length";
  if (checksum(bytes, 0, headerLength) !== 0) return "checksum";
  const datagram = bytes.subarray(0, totalLength);
  const flagsOffset = (bytes[6]! << 8) | bytes[7]!;
  return {
    source: readIpv4(bytes, 12),
    destination: readIpv4(bytes, 16),
    protocol: bytes[9]!,
    ttl: bytes[8]!,
    datagram,
    headerLength,
    payload: datagram.subarray(headerLength),
    // More-fragments set, or a non-zero offset.
    fragment: (flagsOffset & 0x3fff) !== 0,
  };
}

/** A datagram with a fresh 20-byte header in front of `payload`. */
export function buildIpv4(
  source: Ipv4,
  destination: Ipv4,
  protocol: number,
  identification: number,
  payload: Uint8Array,
  ttl = 64,
): Uint8Array {
  const datagram = new Uint8Array(IPV4_HEADER + payload.length);
  datagram[0] = 0x45;
  datagram[2] = datagram.length >>> 8;
  datagram[3] = datagram.length & 0xff;
  datagram[4] = (identification >>> 8) & 0xff;
  datagram[5] = identification & 0xff;
  datagram[8] = ttl;
  datagram[9] = protocol;
  writeIpv4(datagram, 12, source);
  writeIpv4(datagram, 16, destination);
  const sum = checksum(datagram, 0, IPV4_HEADER);
  datagram[10] = sum >>> 8;
  datagram[11] = sum & 0xff;
  datagram.set(payload, IPV4_HEADER);
  return datagram;
}

/** The unfolded sum of the TCP/UDP pseudo-header (RFC 793 §3.1, RFC 768). */
export function pseudoHeaderSum(source: Ipv4, destination: Ipv4, protocol: number, length: number): number {
  return (
    (source >>> 16) + (source & 0xffff) + (destination >>> 16) + (destination & 0xffff) + protocol + length
  );
}

/** The checksum of a TCP or UDP segment (its checksum field zero or, to verify, as received). */
export function transportChecksum(
  source: Ipv4,
  destination: Ipv4,
  protocol: number,
  segment: Uint8Array,
): number {
  return checksum(segment, 0, segment.length, pseudoHeaderSum(source, destination, protocol, segment.length));
}
