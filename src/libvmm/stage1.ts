// Reading guest memory by guest-virtual address, for fault reports: a walk of the guest's own stage-1
// page tables (EL1&0 regime, 4 KiB granule — what Linux on arm64 uses by default) in its RAM.
import type { GuestRam } from "./guest-ram.ts";

export type Stage1Register = "SCTLR_EL1" | "TCR_EL1" | "TTBR0_EL1" | "TTBR1_EL1";

/** Reads one of a vCPU's stage-1 control registers (microkit_vcpu_arm_read_reg). */
export type Stage1RegisterReader = (vcpuId: number, name: Stage1Register) => bigint;

const PAGE_SHIFT = 12n;
const BITS_PER_LEVEL = 9n;
const OUTPUT_ADDRESS = 0x0000_ffff_ffff_f000n;
const SCTLR_M = 1n;

function readU64(ram: GuestRam, ipa: bigint): bigint | undefined {
  const address = Number(ipa);
  if (!ram.contains(address, 8)) return undefined;
  const bytes = ram.view(address, 8);
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}

/**
 * The guest-physical address of `va` for a vCPU, or undefined when its tables do not map it (or use a
 * granule other than 4 KiB). With the MMU off, addresses are guest-physical already.
 */
export function translateGuestVirtual(
  ram: GuestRam,
  registers: (name: Stage1Register) => bigint,
  va: bigint,
): bigint | undefined {
  if ((registers("SCTLR_EL1") & SCTLR_M) === 0n) return va;
  const tcr = registers("TCR_EL1");
  const upper = ((va >> 55n) & 1n) === 1n;
  const size = upper ? (tcr >> 16n) & 0x3fn : tcr & 0x3fn; // T1SZ / T0SZ
  const granule4k = upper ? ((tcr >> 30n) & 3n) === 2n : ((tcr >> 14n) & 3n) === 0n; // TG1 / TG0
  const disabled = upper ? ((tcr >> 23n) & 1n) === 1n : ((tcr >> 7n) & 1n) === 1n; // EPD1 / EPD0
  if (!granule4k || disabled || size < 16n || size > 39n) return undefined;
  const inputBits = 64n - size;
  const high = va >> inputBits;
  if (high !== (upper ? (1n << size) - 1n : 0n)) return undefined;
  const levels = (inputBits - PAGE_SHIFT + BITS_PER_LEVEL - 1n) / BITS_PER_LEVEL;
  let table = (upper ? registers("TTBR1_EL1") : registers("TTBR0_EL1")) & OUTPUT_ADDRESS;
  for (let level = 4n - levels; level <= 3n; level++) {
    const shift = PAGE_SHIFT + BITS_PER_LEVEL * (3n - level);
    const index = (va >> shift) & ((1n << BITS_PER_LEVEL) - 1n);
    const descriptor = readU64(ram, table + index * 8n);
    if (descriptor === undefined || (descriptor & 1n) === 0n) return undefined;
    const isTable = (descriptor & 2n) === 2n;
    if (level === 3n) return isTable ? (descriptor & OUTPUT_ADDRESS) | (va & 0xfffn) : undefined;
    if (!isTable) {
      if (level === 0n) return undefined; // no level-0 blocks with a 4 KiB granule
      const blockMask = (1n << shift) - 1n;
      return (descriptor & OUTPUT_ADDRESS & ~blockMask) | (va & blockMask);
    }
    table = descriptor & OUTPUT_ADDRESS;
  }
  return undefined;
}

/** A `readInstruction` for Vmm: the 32-bit word at a vCPU's PC, through its page tables. */
export function guestInstructionReader(ram: GuestRam, read: Stage1RegisterReader) {
  return (vcpuId: number, pc: bigint): number | undefined => {
    const ipa = translateGuestVirtual(ram, (name) => read(vcpuId, name), pc);
    if (ipa === undefined || ipa > BigInt(Number.MAX_SAFE_INTEGER) || !ram.contains(Number(ipa), 4))
      return undefined;
    const bytes = ram.view(Number(ipa), 4);
    return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  };
}
