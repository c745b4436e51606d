// ESR_EL2 as seL4 hands it to the VMM (the FSR of a VMFault, the HSR of a VCPUFault).
// Field positions follow the ARM ARM, "ESR_EL2, Exception Syndrome Register (EL2)".
import { describeFaultStatus as describeLevelledFaultStatus } from "../../kernel/faults.ts";

export const ExceptionClass = {
  WFX: 0x01,
  HVC64: 0x16,
  SMC64: 0x17,
  SYSREG: 0x18,
  INSTRUCTION_ABORT_LOWER: 0x20,
  INSTRUCTION_ABORT_SAME: 0x21,
  DATA_ABORT_LOWER: 0x24,
  DATA_ABORT_SAME: 0x25,
} as const;

export function exceptionClass(esr: number): number {
  return (esr >>> 26) & 0x3f;
}

/** IL: 1 when the trapped instruction is 32 bits long (always, for A64). */
export function instructionLength(esr: number): 2 | 4 {
  return (esr >>> 25) & 1 ? 4 : 2;
}

export function isDataAbort(esr: number): boolean {
  const ec = exceptionClass(esr);
  return ec === ExceptionClass.DATA_ABORT_LOWER || ec === ExceptionClass.DATA_ABORT_SAME;
}

export function isInstructionAbort(esr: number): boolean {
  const ec = exceptionClass(esr);
  return ec === ExceptionClass.INSTRUCTION_ABORT_LOWER || ec === ExceptionClass.INSTRUCTION_ABORT_SAME;
}

/** The fault status code (DFSC/IFSC, bits 5:0) in words, as the ARM ARM names it. */
export function describeFaultStatus(fsc: number): string {
  // Address size, translation, access flag and permission faults carry a level; the kernel names those.
  if ((fsc & 0x30) === 0) return describeLevelledFaultStatus(fsc);
  switch (fsc) {
    case 0x10:
      return "synchronous external abort";
    case 0x21:
      return "alignment fault";
    case 0x30:
      return "TLB conflict abort";
    default:
      return `fault status 0x${fsc.toString(16)}`;
  }
}
