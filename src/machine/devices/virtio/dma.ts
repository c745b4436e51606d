// Device DMA into the board's RAM: little-endian loads and stores, each guest-given range checked first.

import type { PhysicalMemory } from "../../physical-memory.ts";
import { hex } from "../../../util/hex.ts";

/** A guest-given physical address that is not RAM; the caller turns it into a report. */
export class DmaRangeError extends Error {
  constructor(
    readonly paddr: number,
    readonly size: number,
  ) {
    super(`[${hex(paddr)}, +${size}) is not RAM`);
  }
}

/** DMA access to RAM. Guest-physical addresses equal physical ones for passed-through devices. */
export class DeviceDma {
  private readonly data: DataView;

  constructor(readonly memory: PhysicalMemory) {
    // One view for the whole of RAM: the wasm memory never grows (see PhysicalMemory), so it stays valid.
    this.data = new DataView(memory.ram.buffer, memory.ram.byteOffset, memory.ram.byteLength);
  }

  /** True when [paddr, paddr + size) is RAM; non-numbers and negative sizes are not. */
  isRam(paddr: number, size: number): boolean {
    return (
      Number.isSafeInteger(paddr) && Number.isSafeInteger(size) && size >= 0 && this.memory.isRam(paddr, size)
    );
  }

  /** The RAM range, for messages. */
  describeRam(): string {
    const { ramBase, ramSize } = this.memory;
    return `[${hex(ramBase)}, ${hex(ramBase + ramSize)})`;
  }

  private offset(paddr: number, size: number): number {
    if (!this.isRam(paddr, size)) throw new DmaRangeError(paddr, size);
    return paddr - this.memory.ramBase;
  }

  u16(paddr: number): number {
    return this.data.getUint16(this.offset(paddr, 2), true);
  }

  u32(paddr: number): number {
    return this.data.getUint32(this.offset(paddr, 4), true);
  }

  /** A 64-bit guest address as a number: exact below 2^53, and anything larger is not RAM anyway. */
  u64(paddr: number): number {
    const at = this.offset(paddr, 8);
    return this.data.getUint32(at, true) + this.data.getUint32(at + 4, true) * 0x1_0000_0000;
  }

  setU16(paddr: number, value: number): void {
    this.data.setUint16(this.offset(paddr, 2), value, true);
  }

  setU32(paddr: number, value: number): void {
    this.data.setUint32(this.offset(paddr, 4), value, true);
  }

  /** Copies RAM bytes [paddr, paddr + into.length) into `into`. */
  read(paddr: number, into: Uint8Array): void {
    const at = this.offset(paddr, into.length);
    into.set(this.memory.ram.subarray(at, at + into.length));
  }

  /** Copies `bytes` into RAM at `paddr`. */
  write(paddr: number, bytes: Uint8Array): void {
    this.memory.ram.set(bytes, this.offset(paddr, bytes.length));
  }
}
