// The instruction at a guest PC, for libvmm's fault reports: the VMM walks the guest's stage-1 page tables
// (4 KiB granule, as arm64 Linux uses by default) in guest RAM, as the MMU would for an instruction fetch.
import type { GuestRam } from "../../../src/libvmm/index.ts";

export interface Stage1Registers {
  sctlr: bigint;
  tcr: bigint;
  ttbr0: bigint;
  ttbr1: bigint;
}

const PAGE_SHIFT = 12n;
const BITS_PER_LEVEL = 9n;
const OUTPUT_ADDRESS = 0x0000_ffff_ffff_f000n;
const TG0_4K = 0n;
const TG1_4K = 2n;

/** The guest-physical address of `va`, or undefined when it is not mapped (or not a 4 KiB-granule walk). */
export function translate(ram: GuestRam, regs: Stage1Registers, va: bigint): bigint | undefined {
  if ((regs.sctlr & 1n) === 0n) return va; // MMU off: addresses are physical
  const upper = ((va >> 55n) & 1n) === 1n;
  const tsz = upper ? (regs.tcr >> 16n) & 0x3fn : regs.tcr & 0x3fn;
  const granule = upper ? (regs.tcr >> 30n) & 3n : (regs.tcr >> 14n) & 3n;
  if (granule !== (upper ? TG1_4K : TG0_4K)) return undefined;
  const inputBits = 64n - tsz;
  const top = va >> inputBits;
  if (top !== (upper ? (1n << tsz) - 1n : 0n)) return undefined;
  let table = (upper ? regs.ttbr1 : regs.ttbr0) & 0x0000_ffff_ffff_fffen;
  const levels = (inputBits - PAGE_SHIFT + BITS_PER_LEVEL - 1n) / BITS_PER_LEVEL;
  for (let level = 4n - levels; level <= 3n; level++) {
    const shift = PAGE_SHIFT + BITS_PER_LEVEL * (3n - level);
    const indexBits = inputBits - shift < BITS_PER_LEVEL ? inputBits - shift : BITS_PER_LEVEL;
    const index = (va >> shift) & ((1n << indexBits) - 1n);
    const descriptor = read64(ram, table + index * 8n);
    if (descriptor === undefined || (descriptor & 1n) === 0n) return undefined;
    const isTable = (descriptor & 2n) !== 0n;
    if (level === 3n && !isTable) return undefined; // reserved at level 3
    if (level < 3n && isTable) {
      table = descriptor & OUTPUT_ADDRESS;
      continue;
    }
    const size = 1n << shift;
    return (descriptor & OUTPUT_ADDRESS & ~(size - 1n)) | (va & (size - 1n));
  }
  return undefined;
}

/** The 32-bit instruction at guest virtual address `pc`, if it is mapped to guest RAM. */
export function readGuestInstruction(ram: GuestRam, regs: Stage1Registers, pc: bigint): number | undefined {
  const pa = translate(ram, regs, pc);
  if (pa === undefined || pa > BigInt(Number.MAX_SAFE_INTEGER) || !ram.contains(Number(pa), 4))
    return undefined;
  const bytes = ram.view(Number(pa), 4);
  return (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
}

function read64(ram: GuestRam, pa: bigint): bigint | undefined {
  if (pa > BigInt(Number.MAX_SAFE_INTEGER) || !ram.contains(Number(pa), 8)) return undefined;
  const bytes = ram.view(Number(pa), 8);
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}
