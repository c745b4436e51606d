// Guest memory by guest-virtual address for fault reports: the architecture's stage-1 walk over guest RAM.
import { translateStage1, type Stage1Register } from "../machine/arch/index.ts";
import type { GuestRam } from "./guest-ram.ts";

export type { Stage1Register };

/** Reads one of a vCPU's stage-1 control registers (microkit_vcpu_arm_read_reg). */
export type Stage1RegisterReader = (vcpuId: number, name: Stage1Register) => bigint;

function readU64(ram: GuestRam, ipa: bigint): bigint | undefined {
  if (ipa > BigInt(Number.MAX_SAFE_INTEGER) || !ram.contains(Number(ipa), 8)) return undefined;
  const bytes = ram.view(Number(ipa), 8);
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
  return translateStage1(registers, va, (ipa) => readU64(ram, ipa));
}

/** The 32-bit instruction at guest-virtual address `pc`, if the vCPU's tables map it to guest RAM. */
export function readGuestInstruction(
  ram: GuestRam,
  registers: (name: Stage1Register) => bigint,
  pc: bigint,
): number | undefined {
  const ipa = translateGuestVirtual(ram, registers, pc);
  if (ipa === undefined || ipa > BigInt(Number.MAX_SAFE_INTEGER) || !ram.contains(Number(ipa), 4))
    return undefined;
  const bytes = ram.view(Number(ipa), 4);
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
}

/** A `readInstruction` for Vmm: the 32-bit word at a vCPU's PC, through its page tables. */
export function guestInstructionReader(ram: GuestRam, read: Stage1RegisterReader) {
  return (vcpuId: number, pc: bigint): number | undefined =>
    readGuestInstruction(ram, (name) => read(vcpuId, name), pc);
}
