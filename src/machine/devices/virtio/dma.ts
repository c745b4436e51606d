// Device DMA into guest-physical memory: little-endian loads and stores, each guest-given range checked
// first. The memory is the board's RAM (a passed-through device, where guest-physical addresses are
// physical ones) or a VM's RAM as its VMM maps it (an emulated device), so one virtio implementation
// serves both.

import { PhysicalMemory } from "../../physical-memory.ts";
import { hex } from "../../../util/hex.ts";

/** A guest-given address range that is not RAM; the caller turns it into a report. */
export class DmaRangeError extends Error {
  constructor(
    readonly paddr: number,
    readonly size: number,
  ) {
    super(`[${hex(paddr)}, +${size}) is not RAM`);
  }
}

/** One RAM region the device reaches: its guest-physical address and the bytes behind it. */
export interface DmaRegion {
  readonly gpa: number;
  readonly bytes: Uint8Array;
}

/**
 * Guest RAM as a list of regions. libvmm's `GuestRam` has this shape (its regions are the VMM's
 * mappings of the guest's memory regions), so a VMM hands its guest RAM over as it is.
 */
export interface DmaRegions {
  readonly regions: readonly DmaRegion[];
}

/** What a device's DMA reaches: the board's physical RAM, or regions of guest RAM. */
export type DmaMemory = PhysicalMemory | DmaRegions;

interface Region {
  start: number;
  end: number;
  bytes: Uint8Array;
  data: DataView;
}

/** DMA access to RAM by guest-physical address. */
export class DeviceDma {
  /** Sorted by address; never empty. */
  private readonly regions: readonly Region[];
  /** The region the last access hit: most accesses of a device land in the same one. */
  private last: Region;

  constructor(memory: DmaMemory) {
    const list: DmaRegion[] =
      memory instanceof PhysicalMemory ? [{ gpa: memory.ramBase, bytes: memory.ram }] : [...memory.regions];
    if (list.length === 0) throw new Error("device DMA needs at least one RAM region");
    // Views stay valid: the board's wasm memory never grows (see PhysicalMemory), nor do a VMM's mappings.
    this.regions = list
      .map((r) => ({
        start: r.gpa,
        end: r.gpa + r.bytes.length,
        bytes: r.bytes,
        data: new DataView(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength),
      }))
      .sort((a, b) => a.start - b.start);
    this.last = this.regions[0]!;
  }

  /** True when [paddr, paddr + size) is RAM (possibly across adjacent regions); non-numbers and negative sizes are not. */
  isRam(paddr: number, size: number): boolean {
    if (!Number.isSafeInteger(paddr) || !Number.isSafeInteger(size) || size < 0 || paddr < 0) return false;
    let at = paddr;
    const end = paddr + size;
    for (;;) {
      const region = this.regionAt(at);
      if (!region) return false;
      if (end <= region.end) return true;
      at = region.end;
    }
  }

  /** The RAM ranges, for messages. */
  describeRam(): string {
    return this.regions.map((r) => `[${hex(r.start)}, ${hex(r.end)})`).join(", ");
  }

  private regionAt(paddr: number): Region | undefined {
    const last = this.last;
    if (paddr >= last.start && paddr < last.end) return last;
    for (const r of this.regions) {
      if (paddr >= r.start && paddr < r.end) {
        this.last = r;
        return r;
      }
    }
    return undefined;
  }

  /** The region holding all of [paddr, paddr + size), or undefined when the range is not in one region. */
  private within(paddr: number, size: number): Region | undefined {
    const r = this.last;
    if (paddr >= r.start && paddr + size <= r.end) return r;
    if (!Number.isSafeInteger(paddr) || !Number.isSafeInteger(size) || size < 0) return undefined;
    const found = this.regionAt(paddr);
    return found && paddr + size <= found.end ? found : undefined;
  }

  /** A small value that crosses from one region into the next: assembled byte by byte. */
  private split(paddr: number, size: number): Uint8Array {
    const bytes = new Uint8Array(size);
    this.read(paddr, bytes);
    return bytes;
  }

  private little(bytes: Uint8Array): number {
    let value = 0;
    for (let i = bytes.length - 1; i >= 0; i--) value = value * 256 + bytes[i]!;
    return value;
  }

  private store(paddr: number, size: number, value: number): void {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = Math.floor(value / 2 ** (8 * i)) & 0xff;
    this.write(paddr, bytes);
  }

  u16(paddr: number): number {
    const r = this.within(paddr, 2);
    return r ? r.data.getUint16(paddr - r.start, true) : this.little(this.split(paddr, 2));
  }

  u32(paddr: number): number {
    const r = this.within(paddr, 4);
    return r ? r.data.getUint32(paddr - r.start, true) : this.little(this.split(paddr, 4));
  }

  /** A 64-bit guest address as a number: exact below 2^53, and anything larger is not RAM anyway. */
  u64(paddr: number): number {
    const r = this.within(paddr, 8);
    if (!r) return this.little(this.split(paddr, 8));
    const at = paddr - r.start;
    return r.data.getUint32(at, true) + r.data.getUint32(at + 4, true) * 0x1_0000_0000;
  }

  setU16(paddr: number, value: number): void {
    const r = this.within(paddr, 2);
    if (r) r.data.setUint16(paddr - r.start, value, true);
    else this.store(paddr, 2, value & 0xffff);
  }

  setU32(paddr: number, value: number): void {
    const r = this.within(paddr, 4);
    if (r) r.data.setUint32(paddr - r.start, value, true);
    else this.store(paddr, 4, value >>> 0);
  }

  /** Copies RAM bytes [paddr, paddr + into.length) into `into`. */
  read(paddr: number, into: Uint8Array): void {
    const r = this.within(paddr, into.length);
    if (r) {
      const at = paddr - r.start;
      into.set(r.bytes.subarray(at, at + into.length));
      return;
    }
    this.pieces(paddr, into.length, (region, at, done, n) =>
      into.set(region.bytes.subarray(at, at + n), done),
    );
  }

  /** Copies `bytes` into RAM at `paddr`. */
  write(paddr: number, bytes: Uint8Array): void {
    const r = this.within(paddr, bytes.length);
    if (r) {
      r.bytes.set(bytes, paddr - r.start);
      return;
    }
    this.pieces(paddr, bytes.length, (region, at, done, n) =>
      region.bytes.set(bytes.subarray(done, done + n), at),
    );
  }

  /** Walks [paddr, paddr + size) region by region; the whole range is checked before any byte moves. */
  private pieces(
    paddr: number,
    size: number,
    each: (region: Region, at: number, done: number, n: number) => void,
  ): void {
    if (!this.isRam(paddr, size)) throw new DmaRangeError(paddr, size);
    let done = 0;
    while (done < size) {
      const region = this.regionAt(paddr + done)!;
      const at = paddr + done - region.start;
      const n = Math.min(size - done, region.end - (paddr + done));
      each(region, at, done, n);
      done += n;
    }
  }
}
