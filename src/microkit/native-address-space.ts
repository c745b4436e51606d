// The stage-1 address space of an ELF PD, built in physical RAM as the Microkit tool builds a PD's
// VSpace: its program segments, stack and <map>s in 4 KiB pages, read by the core's table walk.
// Frames for segments, stacks and tables come from RAM that no memory region uses.

import { el0PageDescriptor, tableDescriptor } from "../machine/arch/index.ts";
import type { PhysicalMemory } from "../machine/physical-memory.ts";
import { hex } from "../util/hex.ts";

const PAGE = 0x1000;
/** Bits of VA the tables translate (TCR_EL1.T0SZ = 16): four levels of 4 KiB tables. */
export const VA_BITS = 48;

/** Page frames of RAM left over by the system's memory regions, handed out from the top down. */
export class FramePool {
  private readonly free: { start: number; end: number }[];

  constructor(
    ram: readonly { base: number; size: number }[],
    used: readonly { paddr: number; size: number }[],
  ) {
    let gaps = ram.map((r) => ({ start: r.base, end: r.base + r.size }));
    for (const u of used) {
      const start = Math.floor(u.paddr / PAGE) * PAGE;
      const end = Math.ceil((u.paddr + u.size) / PAGE) * PAGE;
      gaps = gaps.flatMap((g) =>
        end <= g.start || start >= g.end
          ? [g]
          : [
              { start: g.start, end: Math.max(g.start, start) },
              { start: Math.min(g.end, end), end: g.end },
            ].filter((p) => p.end > p.start),
      );
    }
    this.free = gaps.sort((a, b) => a.start - b.start);
  }

  /** One 4 KiB frame (the caller zeroes it). */
  allocate(what: string): number {
    const gap = this.free.at(-1);
    if (!gap) throw new Error(`no free RAM left for ${what}: the memory regions use all of it`);
    gap.end -= PAGE;
    const frame = gap.end;
    if (gap.end <= gap.start) this.free.pop();
    return frame;
  }
}

export interface PageAccess {
  read: boolean;
  write: boolean;
  execute: boolean;
  device: boolean;
}

export class NativeAddressSpace {
  /** TTBR0_EL1. */
  readonly root: number;
  private readonly ram: DataView;
  /** Page VA → frame, for every RAM page, so the kernel can read the IPC buffer and strings. */
  private readonly frames = new Map<number, number>();

  constructor(
    private readonly memory: PhysicalMemory,
    private readonly pool: FramePool,
    private readonly owner: string,
  ) {
    this.ram = new DataView(memory.memory.buffer, memory.ramOffset, memory.ramSize);
    this.root = this.newTable();
  }

  /** A fresh frame for the page at `va` (zeroed), mapped with `access`; returns the frame. */
  mapNew(va: number, access: PageAccess): number {
    const existing = this.frames.get(va);
    if (existing !== undefined) {
      this.map(va, existing, access);
      return existing;
    }
    const frame = this.pool.allocate(`${this.owner}'s page at ${hex(va)}`);
    this.memory.view(frame, PAGE).fill(0);
    this.map(va, frame, access);
    return frame;
  }

  /** Maps the page at `va` to the frame at `pa` (RAM or a device). */
  map(va: number, pa: number, access: PageAccess): void {
    if (va % PAGE !== 0 || pa % PAGE !== 0 || va >= 2 ** VA_BITS) {
      throw new RangeError(
        `${this.owner}: cannot map ${hex(va)} → ${hex(pa)}: not page aligned or above 2^48`,
      );
    }
    let table = this.root;
    for (let level = 0; level < 3; level++) {
      const index = Math.floor(va / 2 ** (39 - 9 * level)) % 512;
      const entry = this.read64(table + index * 8);
      if ((entry & 1n) === 0n) {
        const next = this.newTable();
        this.write64(table + index * 8, tableDescriptor(BigInt(next)));
        table = next;
      } else {
        table = Number(entry & 0x0000_ffff_ffff_f000n);
      }
    }
    const index = Math.floor(va / PAGE) % 512;
    const previous = this.read64(table + index * 8);
    // A page shared by two segments (text and data in one page) gets the union of their rights.
    const merged =
      (previous & 1n) === 1n
        ? {
            ...access,
            write: access.write || (previous & (1n << 7n)) === 0n,
            execute: access.execute || (previous & (1n << 54n)) === 0n,
          }
        : access;
    this.write64(table + index * 8, el0PageDescriptor(BigInt(pa), merged));
    if (this.memory.isRam(pa, PAGE)) this.frames.set(va, pa);
  }

  /** The physical address behind `va` in a RAM page, or undefined. */
  physical(va: number): number | undefined {
    const frame = this.frames.get(Math.floor(va / PAGE) * PAGE);
    return frame === undefined ? undefined : frame + (va % PAGE);
  }

  /** Reads a 64-bit word the PD can see (the IPC buffer); undefined outside its RAM pages. */
  load64(va: number): bigint | undefined {
    const pa = this.physical(va);
    return pa === undefined || va % 8 !== 0 ? undefined : this.read64(pa);
  }

  store64(va: number, value: bigint): boolean {
    const pa = this.physical(va);
    if (pa === undefined || va % 8 !== 0) return false;
    this.write64(pa, value);
    return true;
  }

  /** Copies bytes into the PD's RAM pages at `va` (the loader's segment and setvar writes). */
  storeBytes(va: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length;) {
      const pa = this.physical(va + i);
      if (pa === undefined) throw new RangeError(`${this.owner}: ${hex(va + i)} is not mapped to RAM`);
      const n = Math.min(bytes.length - i, PAGE - ((va + i) % PAGE));
      this.memory.view(pa, n).set(bytes.subarray(i, i + n));
      i += n;
    }
  }

  private newTable(): number {
    const frame = this.pool.allocate(`${this.owner}'s translation tables`);
    this.memory.view(frame, PAGE).fill(0);
    return frame;
  }

  private read64(pa: number): bigint {
    return this.ram.getBigUint64(pa - this.memory.ramBase, true);
  }

  private write64(pa: number, value: bigint): void {
    this.ram.setBigUint64(pa - this.memory.ramBase, value, true);
  }
}
