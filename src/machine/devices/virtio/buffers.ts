// Moving bytes between a descriptor chain's buffers and the device: gathered out of the device-readable
// buffers, scattered into the device-writable ones, at any offset across the chain's segments.

import type { DeviceDma } from "./dma.ts";
import type { BufferSegment } from "./virtqueue.ts";

/** `length` bytes of the chain's buffers, starting `skip` bytes in, copied out of guest RAM. */
export function gather(
  dma: DeviceDma,
  segments: readonly BufferSegment[],
  skip: number,
  length: number,
): Uint8Array {
  const out = new Uint8Array(length);
  let filled = 0;
  for (const { addr, len } of segments) {
    if (filled === length) break;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    const n = Math.min(len - skip, length - filled);
    dma.read(addr + skip, out.subarray(filled, filled + n));
    filled += n;
    skip = 0;
  }
  return out.subarray(0, filled);
}

/** Writes `bytes` into the chain's buffers starting `skip` bytes in; returns how many fitted. */
export function scatter(
  dma: DeviceDma,
  segments: readonly BufferSegment[],
  bytes: Uint8Array,
  skip = 0,
): number {
  let done = 0;
  for (const { addr, len } of segments) {
    if (done === bytes.length) break;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    const n = Math.min(len - skip, bytes.length - done);
    dma.write(addr + skip, bytes.subarray(done, done + n));
    done += n;
    skip = 0;
  }
  return done;
}
