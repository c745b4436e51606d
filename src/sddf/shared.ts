// What every sDDF queue class shares: little-endian fields in a shared region, capacity checks, and
// finding a PD's regions by setvar name. Byte layouts themselves live in each class's queue module.

import type { Pd } from "../microkit/index.ts";
import { hex } from "../util/hex.ts";

/**
 * A misconfigured queue (a capacity that is not a power of two, a region too small for it, a
 * setvar the PD does not have). Thrown while a PD sets up, so the PD faults with this message
 * before it touches shared memory. What a peer writes into shared memory never throws it: peers
 * are untrusted, so their garbage is reported and refused instead.
 */
export class SddfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SddfError";
  }
}

/**
 * Fields of a shared region, little-endian as on AArch64. Reads and writes go straight to the
 * region's bytes: a PD's view is the memory region itself, so the peer sees each store at once.
 * virtkit runs one PD at a time on one host thread, so the fences sDDF's C code places around
 * these accesses have nothing to order; the protocol's *sequence* (write the entry, then publish
 * the index; clear the flag, then re-check) is kept because a preempting peer still observes it.
 */
export class SharedFields {
  private readonly data: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.byteLength;
  }
  u8(at: number): number {
    return this.data.getUint8(at);
  }
  u16(at: number): number {
    return this.data.getUint16(at, true);
  }
  u32(at: number): number {
    return this.data.getUint32(at, true);
  }
  /** A 64-bit field as a number; values past 2^53 come back as Infinity so bounds checks refuse them. */
  u64(at: number): number {
    const value = this.data.getBigUint64(at, true);
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(value);
  }
  setU8(at: number, value: number): void {
    this.data.setUint8(at, value & 0xff);
  }
  setU16(at: number, value: number): void {
    this.data.setUint16(at, value & 0xffff, true);
  }
  setU32(at: number, value: number): void {
    this.data.setUint32(at, value >>> 0, true);
  }
  setU64(at: number, value: number | bigint): void {
    this.data.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true);
  }
}

/** True for 1, 2, 4, 8, … */
export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0 && n <= 2 ** 31;
}

/**
 * Checks a capacity kept privately by one side of a queue: a power of two (indices run free and
 * wrap modulo the index width, so slot = index % capacity only stays consistent across the wrap
 * for powers of two) and at most `max`.
 */
export function checkCapacity(what: string, capacity: number, max: number): number {
  if (!isPowerOfTwo(capacity) || capacity > max) {
    throw new SddfError(
      `${what}: capacity ${String(capacity)} must be a power of two from 1 to ${max} (sDDF queues index modulo their capacity)`,
    );
  }
  return capacity;
}

/** Checks that a shared region holds `needed` bytes. */
export function checkRegion(what: string, bytes: Uint8Array, needed: number): Uint8Array {
  if (bytes.byteLength < needed) {
    throw new SddfError(
      `${what}: the region is ${bytes.byteLength} bytes but needs ${needed}; make the memory region larger or the capacity smaller`,
    );
  }
  return bytes;
}

/** A queue or data region of a PD, named by the setvar the system description patches with its vaddr. */
export interface RegionRef {
  /** The `setvar_vaddr` symbol of the region's map. */
  setvar: string;
}

/** The virtual address a PD's setvar holds, or a clear error naming the setvar and the PD. */
export function setvarAddress(pd: Pd, setvar: string, component: string): number {
  const vaddr = pd.setvars[setvar];
  if (vaddr === undefined) {
    const known = Object.keys(pd.setvars);
    throw new SddfError(
      `${component} '${pd.name}': no setvar '${setvar}'; give a <map ... setvar_vaddr="${setvar}"/> to the PD` +
        (known.length > 0 ? ` (it has ${known.join(", ")})` : ""),
    );
  }
  return vaddr;
}

/** The size of the PD's map that starts at or contains `vaddr` (from the system description, so trusted). */
export function mapSizeFrom(pd: Pd, vaddr: number): number {
  const region = pd.regions.find((r) => vaddr >= r.vaddr && vaddr < r.vaddr + r.size);
  if (!region) throw new SddfError(`'${pd.name}': nothing is mapped at ${hex(vaddr)}`);
  return region.vaddr + region.size - vaddr;
}

/** A live byte view of a PD's region by setvar: `size` bytes, or to the end of its map. */
export function regionBytes(pd: Pd, setvar: string, component: string, size?: number): Uint8Array {
  const vaddr = setvarAddress(pd, setvar, component);
  const length = size ?? mapSizeFrom(pd, vaddr);
  const available = mapSizeFrom(pd, vaddr);
  if (length > available) {
    throw new SddfError(
      `${component} '${pd.name}': region '${setvar}' at ${hex(vaddr)} is ${available} bytes, needs ${length}`,
    );
  }
  return pd.memory.view(vaddr, length);
}

/** Free-running 32-bit index arithmetic: how far `to` is ahead of `from`. */
export function distance32(to: number, from: number): number {
  return (to - from) >>> 0;
}

/** Free-running 16-bit index arithmetic. */
export function distance16(to: number, from: number): number {
  return (to - from) & 0xffff;
}

/**
 * Complaints about a peer's bad input, each printed with the component's prefix, at most `limit`
 * per peer, then one line saying the rest are suppressed: a misbehaving client cannot flood the
 * console, and the first complaints say what is wrong.
 */
export class PeerComplaints {
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly prefix: string,
    private readonly limit = 10,
  ) {}

  report(pd: Pd, peer: string, text: string): void {
    const count = (this.counts.get(peer) ?? 0) + 1;
    this.counts.set(peer, count);
    if (count <= this.limit) pd.dbgPuts(`${this.prefix}${text}\n`);
    else if (count === this.limit + 1)
      pd.dbgPuts(`${this.prefix}further complaints about ${peer} are suppressed\n`);
  }
}

/** The I/O (physical) address and size of the PD's map at a setvar: what a driver's DMA uses for it. */
export function ioRegion(
  pd: Pd,
  setvar: string,
  component: string,
): { vaddr: number; size: number; ioAddr: number } {
  const vaddr = setvarAddress(pd, setvar, component);
  const size = mapSizeFrom(pd, vaddr);
  const region = pd.regions.find((r) => vaddr >= r.vaddr && vaddr < r.vaddr + r.size)!;
  return { vaddr, size, ioAddr: region.paddr + (vaddr - region.vaddr) };
}
