// The instruction at a guest PC for libvmm's fault reports, through the guest's own stage-1 tables.
import { readGuestInstruction as readThroughTables, type GuestRam } from "../../../src/libvmm/index.ts";

/** The vCPU's stage-1 control registers, as the VMM reads them (microkit_vcpu_arm_read_reg). */
export interface Stage1Registers {
  sctlr: bigint;
  tcr: bigint;
  ttbr0: bigint;
  ttbr1: bigint;
}

/** The 32-bit instruction at guest virtual address `pc`, if it is mapped to guest RAM. */
export function readGuestInstruction(ram: GuestRam, regs: Stage1Registers, pc: bigint): number | undefined {
  const byName = { SCTLR_EL1: regs.sctlr, TCR_EL1: regs.tcr, TTBR0_EL1: regs.ttbr0, TTBR1_EL1: regs.ttbr1 };
  return readThroughTables(ram, (name) => byName[name], pc);
}
