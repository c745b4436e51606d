// TCP segments (RFC 793, options from RFC 7323) and sequence-number arithmetic modulo 2^32.

import type { Ipv4 } from "./addresses.ts";
import { PROTOCOL_TCP, transportChecksum } from "./ipv4.ts";

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

const HEADER = 20;
const OPTION_END = 0;
const OPTION_NOP = 1;
const OPTION_MSS = 2;
const OPTION_WINDOW_SCALE = 3;

export interface TcpSegment {
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  /** The window field as sent (not yet scaled). */
  readonly window: number;
  readonly mss: number | undefined;
  readonly windowScale: number | undefined;
  readonly payload: Uint8Array;
}

export type TcpProblem = "truncated" | "data-offset" | "checksum";

export function parseTcp(source: Ipv4, destination: Ipv4, bytes: Uint8Array): TcpSegment | TcpProblem {
  if (bytes.length < HEADER) return "truncated";
  const headerLength = (bytes[12]! >>> 4) * 4;
  if (headerLength < HEADER || headerLength > bytes.length) return "data-offset";
  if (transportChecksum(source, destination, PROTOCOL_TCP, bytes) !== 0) return "checksum";
  let mss: number | undefined;
  let windowScale: number | undefined;
  let at = HEADER;
  // Options end at the header's end or at END; a malformed one ends the walk (the segment stays).
  while (at < headerLength) {
    const kind = bytes[at]!;
    if (kind === OPTION_END) break;
    if (kind === OPTION_NOP) {
      at++;
      continue;
    }
    if (at + 1 >= headerLength) break;
    const length = bytes[at + 1]!;
    if (length < 2 || at + length > headerLength) break;
    if (kind === OPTION_MSS && length === 4) mss = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    if (kind === OPTION_WINDOW_SCALE && length === 3) windowScale = bytes[at + 2]!;
    at += length;
  }
  return {
    sourcePort: (bytes[0]! << 8) | bytes[1]!,
    destinationPort: (bytes[2]! << 8) | bytes[3]!,
    seq: readWord(bytes, 4),
    ack: readWord(bytes, 8),
    flags: bytes[13]! & 0x3f,
    window: (bytes[14]! << 8) | bytes[15]!,
    mss,
    windowScale,
    payload: bytes.subarray(headerLength),
  };
}

export interface TcpOutgoing {
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly window: number;
  readonly mss?: number;
  readonly windowScale?: number;
  readonly payload: Uint8Array;
}

export function buildTcp(
  source: Ipv4,
  sourcePort: number,
  destination: Ipv4,
  destinationPort: number,
  segment: TcpOutgoing,
): Uint8Array {
  const optionLength = (segment.mss !== undefined ? 4 : 0) + (segment.windowScale !== undefined ? 4 : 0);
  const headerLength = HEADER + optionLength;
  const bytes = new Uint8Array(headerLength + segment.payload.length);
  bytes[0] = sourcePort >>> 8;
  bytes[1] = sourcePort & 0xff;
  bytes[2] = destinationPort >>> 8;
  bytes[3] = destinationPort & 0xff;
  writeWord(bytes, 4, segment.seq);
  writeWord(bytes, 8, segment.ack);
  bytes[12] = (headerLength / 4) << 4;
  bytes[13] = segment.flags;
  bytes[14] = segment.window >>> 8;
  bytes[15] = segment.window & 0xff;
  if (segment.mss !== undefined) bytes.set([OPTION_MSS, 4, segment.mss >>> 8, segment.mss & 0xff], HEADER);
  if (segment.windowScale !== undefined) {
    const at = HEADER + (segment.mss !== undefined ? 4 : 0);
    bytes.set([OPTION_NOP, OPTION_WINDOW_SCALE, 3, segment.windowScale], at);
  }
  bytes.set(segment.payload, headerLength);
  const sum = transportChecksum(source, destination, PROTOCOL_TCP, bytes);
  bytes[16] = sum >>> 8;
  bytes[17] = sum & 0xff;
  return bytes;
}

function readWord(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

function writeWord(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = (value >>> 16) & 0xff;
  bytes[at + 2] = (value >>> 8) & 0xff;
  bytes[at + 3] = value & 0xff;
}

// Sequence numbers live modulo 2^32 and compare by their signed 32-bit difference (RFC 1982 style),
// which is right whenever the two are less than 2^31 apart, as in-window numbers always are.

/** `a - b` as a signed 32-bit distance. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}
export function seqLt(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}
export function seqLe(a: number, b: number): boolean {
  return seqDiff(a, b) <= 0;
}
export function seqGt(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}
export function seqGe(a: number, b: number): boolean {
  return seqDiff(a, b) >= 0;
}
