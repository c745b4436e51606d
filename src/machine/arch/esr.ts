// ESR_ELx, the Exception Syndrome Register: exception classes and the ISS layouts of the traps a VMM sees.
import { hex } from "../../util/hex.ts";
import { faultStatus } from "./fault-status.ts";

/**
 * EC, bits 31:26: why the exception was taken. The AssemblyScript core keeps its own EC_* constants (it
 * cannot import TypeScript); tests/machine/arch.test.ts checks that they agree with these.
 */
export const ExceptionClass = {
  UNKNOWN: 0x00,
  WFX: 0x01,
  FP_ACCESS: 0x07,
  ILLEGAL_STATE: 0x0e,
  SVC64: 0x15,
  HVC64: 0x16,
  SMC64: 0x17,
  SYSREG: 0x18,
  INSTRUCTION_ABORT_LOWER: 0x20,
  INSTRUCTION_ABORT_SAME: 0x21,
  PC_ALIGNMENT: 0x22,
  DATA_ABORT_LOWER: 0x24,
  DATA_ABORT_SAME: 0x25,
  SP_ALIGNMENT: 0x26,
  BRK64: 0x3c,
} as const;

/** The ARM ARM's description of each exception class above. */
export const EXCEPTION_CLASS_NAMES: Readonly<Record<number, string>> = {
  [ExceptionClass.UNKNOWN]: "Unknown reason",
  [ExceptionClass.WFX]: "Trapped WFI or WFE instruction execution",
  [ExceptionClass.FP_ACCESS]: "Access to Advanced SIMD or floating-point functionality trapped",
  [ExceptionClass.ILLEGAL_STATE]: "Illegal Execution state",
  [ExceptionClass.SVC64]: "SVC instruction execution in AArch64 state",
  [ExceptionClass.HVC64]: "HVC instruction execution in AArch64 state",
  [ExceptionClass.SMC64]: "SMC instruction execution in AArch64 state",
  [ExceptionClass.SYSREG]: "Trapped MSR, MRS or System instruction execution in AArch64 state",
  [ExceptionClass.INSTRUCTION_ABORT_LOWER]: "Instruction Abort from a lower Exception level",
  [ExceptionClass.INSTRUCTION_ABORT_SAME]: "Instruction Abort taken without a change in Exception level",
  [ExceptionClass.PC_ALIGNMENT]: "PC alignment fault exception",
  [ExceptionClass.DATA_ABORT_LOWER]: "Data Abort from a lower Exception level",
  [ExceptionClass.DATA_ABORT_SAME]: "Data Abort taken without a change in Exception level",
  [ExceptionClass.SP_ALIGNMENT]: "SP alignment fault exception",
  [ExceptionClass.BRK64]: "BRK instruction execution in AArch64 state",
};

const EC_SHIFT = 26;
/** IL, bit 25: the trapped instruction is 32 bits long (every A64 instruction is). */
const IL = 1 << 25;
/** ISS, bits 24:0: the instruction-specific syndrome. */
const ISS_MASK = 0x1ff_ffff;

/** The ESR of an exception of class `ec` taken on an A64 instruction (IL = 1) with syndrome `iss`. */
export function syndrome(ec: number, iss: number): number {
  return ((ec << EC_SHIFT) | IL | (iss & ISS_MASK)) >>> 0;
}

export function exceptionClass(esr: number): number {
  return (esr >>> EC_SHIFT) & 0x3f;
}

export function instructionSpecificSyndrome(esr: number): number {
  return esr & ISS_MASK;
}

/** IL: 4 when the trapped instruction is 32 bits long (always, for A64), 2 for a 16-bit T32 one. */
export function instructionLength(esr: number): 2 | 4 {
  return esr & IL ? 4 : 2;
}

export function isDataAbort(esr: number): boolean {
  const ec = exceptionClass(esr);
  return ec === ExceptionClass.DATA_ABORT_LOWER || ec === ExceptionClass.DATA_ABORT_SAME;
}

export function isInstructionAbort(esr: number): boolean {
  const ec = exceptionClass(esr);
  return ec === ExceptionClass.INSTRUCTION_ABORT_LOWER || ec === ExceptionClass.INSTRUCTION_ABORT_SAME;
}

// ---- the PC around a trap ----

/** What the PC helpers below need of a vCPU: its program counter. */
export interface ProgramCounter {
  pc: bigint;
}

/**
 * Moves the PC past the instruction an exception was taken on: what a hypervisor does after emulating it
 * (a load or store, a system register access, WFI, a trapped SMC). IL gives the instruction's size; without
 * a syndrome it is an A64 instruction, 4 bytes. The one place the PC steps over a trapped instruction.
 */
export function stepPastInstruction(regs: ProgramCounter, esr?: number): void {
  const length = esr === undefined ? 4 : instructionLength(esr);
  regs.pc = BigInt.asUintN(64, regs.pc + BigInt(length));
}

/**
 * Moves a PC that is past the instruction an exception was taken on back to that instruction: where EL2
 * sees a trapped SMC (HCR_EL2.TSC), whose preferred return address is the SMC itself.
 */
export function stepBackToInstruction(regs: ProgramCounter, esr: number): void {
  regs.pc = BigInt.asUintN(64, regs.pc - BigInt(instructionLength(esr)));
}

// ---- HVC, SMC and WFI/WFE ----

/** ESR of an HVC (EC 0x16) or a trapped SMC (EC 0x17): the ISS is the instruction's imm16. */
export function callSyndrome(conduit: "hvc" | "smc", imm16: number): number {
  return syndrome(conduit === "hvc" ? ExceptionClass.HVC64 : ExceptionClass.SMC64, imm16 & 0xffff);
}

/** The imm16 of the HVC or SMC an ESR reports. */
export function callImmediate(esr: number): number {
  return esr & 0xffff;
}

/** TI, ISS bit 0 of a trapped WFI/WFE: 1 for WFE. */
const WFX_TI = 1;

/** ESR of a trapped WFI or WFE (EC 0x01). */
export function wfxSyndrome(wfe: boolean): number {
  return syndrome(ExceptionClass.WFX, wfe ? WFX_TI : 0);
}

/** True when a trapped WFI/WFE syndrome is for WFE. */
export function isWfe(esr: number): boolean {
  return (esr & WFX_TI) === WFX_TI;
}

// ---- data and instruction aborts ----

/** ISS of a Data Abort: ISV 24, SAS 23:22, SSE 21, SRT 20:16, SF 15, AR 14, S1PTW 7, WnR 6, DFSC 5:0. */
const ISV = 1 << 24;
const SSE = 1 << 21;
const SF = 1 << 15;
const WNR = 1 << 6;

export interface DataAbortSyndrome {
  /** ISV: the fields below describe the access; without it, the syndrome cannot say how to emulate it. */
  valid: boolean;
  /** SAS: the access size in bytes. */
  size: 1 | 2 | 4 | 8;
  /** SSE: the load sign-extends. */
  signExtend: boolean;
  /** SRT: the transfer register; 31 is XZR. */
  register: number;
  /** SF: the transfer register is 64 bits wide (X), else 32 (W). */
  sixtyFourBit: boolean;
  /** WnR: a write. */
  write: boolean;
  /** DFSC, bits 5:0. */
  faultStatus: number;
}

export function decodeDataAbort(esr: number): DataAbortSyndrome {
  if (!isDataAbort(esr)) {
    throw new Error(`ESR_EL2 ${hex(esr >>> 0)} is not a data abort (EC ${hex(exceptionClass(esr))})`);
  }
  return {
    valid: (esr & ISV) !== 0,
    size: (1 << ((esr >>> 22) & 3)) as 1 | 2 | 4 | 8,
    signExtend: (esr & SSE) !== 0,
    register: (esr >>> 16) & 0x1f,
    sixtyFourBit: (esr & SF) !== 0,
    write: (esr & WNR) !== 0,
    faultStatus: faultStatus(esr),
  };
}

/**
 * The value a load of `syndrome.size` bytes leaves in its destination register: zero- or sign-extended
 * (SSE) to 32 or 64 bits (SF), so a W register's upper half is cleared, as the architecture specifies.
 */
export function extendLoadedValue(raw: bigint, syndrome: DataAbortSyndrome): bigint {
  const bits = BigInt(syndrome.size * 8);
  let value = raw & ((1n << bits) - 1n);
  if (syndrome.signExtend && value >> (bits - 1n) === 1n) value -= 1n << bits;
  const width = syndrome.sixtyFourBit ? 64n : 32n;
  // BigInt.asUintN also turns a negative value into two's complement.
  return BigInt.asUintN(Number(width), value);
}

/**
 * The ESR of an abort taken from a lower exception level with no instruction syndrome (ISV = 0): EC, IL,
 * WnR for data aborts, and the DFSC/IFSC `status` (see FaultStatus).
 */
export function abortSyndrome(opts: { write: boolean; prefetch: boolean; status: number }): number {
  if (opts.prefetch) return syndrome(ExceptionClass.INSTRUCTION_ABORT_LOWER, opts.status & 0x3f);
  return syndrome(ExceptionClass.DATA_ABORT_LOWER, (opts.write ? WNR : 0) | (opts.status & 0x3f));
}

// ---- trapped MSR, MRS and system instructions (EC 0x18) ----

/** op0, op1, CRn, CRm, op2: a system register's encoding (bits 20:5 of MRS/MSR). */
export interface SystemRegisterEncoding {
  op0: number;
  op1: number;
  crn: number;
  crm: number;
  op2: number;
}

/** A trapped system register access: the register, the transfer register Rt and the direction. */
export interface SysregAccess extends SystemRegisterEncoding {
  rt: number;
  read: boolean;
}

/** ISS for EC 0x18: Op0 21:20, Op2 19:17, Op1 16:14, CRn 13:10, Rt 9:5, CRm 4:1, Direction 0 (1 = read). */
export function decodeSysregAccess(esr: number): SysregAccess {
  return {
    op0: (esr >>> 20) & 3,
    op2: (esr >>> 17) & 7,
    op1: (esr >>> 14) & 7,
    crn: (esr >>> 10) & 0xf,
    rt: (esr >>> 5) & 0x1f,
    crm: (esr >>> 1) & 0xf,
    read: (esr & 1) === 1,
  };
}
