// The deterministic bytes served at /bytes/<N>: a 32-bit xorshift stream, written little-endian.
//
// Marsaglia's shifts 13, 17, 5 from PATTERN_SEED; byte i is the same in every response whatever N
// is, so a test can recompute any download's checksum:
//   x = 0x2545f491; repeat { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; emit x & 0xff, x >>> 8 & 0xff, ... }

import type { HttpBodyStream } from "./http-server.ts";

export const PATTERN_SEED = 0x2545f491;

/** Produces the pattern from its start, in pieces of any size. */
export class BytePattern implements HttpBodyStream {
  private state = PATTERN_SEED;
  /** The current word's bytes not yet emitted (0-3), from `pending`'s low end. */
  private pending = 0;
  private pendingCount = 0;
  private produced = 0;

  constructor(readonly length: number) {}

  next(max: number): Uint8Array {
    const size = Math.max(0, Math.min(max, this.length - this.produced));
    const out = new Uint8Array(size);
    let at = 0;
    while (at < size && this.pendingCount > 0) {
      out[at++] = this.pending & 0xff;
      this.pending >>>= 8;
      this.pendingCount--;
    }
    let x = this.state;
    while (at + 4 <= size) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[at] = x & 0xff;
      out[at + 1] = (x >>> 8) & 0xff;
      out[at + 2] = (x >>> 16) & 0xff;
      out[at + 3] = (x >>> 24) & 0xff;
      at += 4;
    }
    if (at < size) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      let word = x >>> 0;
      this.pendingCount = 4;
      while (at < size) {
        out[at++] = word & 0xff;
        word >>>= 8;
        this.pendingCount--;
      }
      this.pending = word;
    }
    this.state = x;
    this.produced += size;
    return out;
  }
}

/** The first `length` bytes of the pattern in one array (for tests and small responses). */
export function patternBytes(length: number): Uint8Array {
  return new BytePattern(length).next(length);
}
