// Exception entry to EL1 through VBAR_EL1, exception return, and the
// syndromes (ESR_EL1) of the exceptions the guest handles itself.
import { selectStackPointer } from "./registers";
import {
  pc,
  nextPc,
  nzcv,
  daif,
  currentEl,
  spSel,
  illegalState,
  currentInsn,
  packPstate,
  requestEventCheck,
  sr,
  setSr,
  SPSR_EL1,
  ELR_EL1,
  ESR_EL1,
  FAR_EL1,
  VBAR_EL1,
  EVENT_REGISTER,
  EL0_EXITS,
  PSTATE_SS,
  STEP_SYNDROME,
} from "./state";
import { onTranslationRegimeChange } from "./mmu";
import { clearExclusiveMonitor } from "./exclusive-monitor";
import { raiseExit, exitEsr, exitFar, exitInsn, EXIT_EL0_SYNC } from "./exits";
import { debugSpsrStep } from "./debug";

export const EC_UNKNOWN: u32 = 0x00;
export const EC_FP_ACCESS: u32 = 0x07;
export const EC_ILLEGAL_STATE: u32 = 0x0e;
export const EC_SVC64: u32 = 0x15;
export const EC_SYSREG: u32 = 0x18;
export const EC_IABT_LOWER: u32 = 0x20;
export const EC_IABT_SAME: u32 = 0x21;
export const EC_PC_ALIGNMENT: u32 = 0x22;
export const EC_DABT_LOWER: u32 = 0x24;
export const EC_DABT_SAME: u32 = 0x25;
export const EC_SP_ALIGNMENT: u32 = 0x26;
export const EC_BRK64: u32 = 0x3c;

/** ESR.IL: every A64 instruction is 32 bits wide. */
export const ESR_IL: u32 = 1 << 25;

export const VECTOR_SYNC: u32 = 0;
export const VECTOR_IRQ: u32 = 1;
export const VECTOR_FIQ: u32 = 2;

/** Undefined instructions executed since the core was created (diagnostics). */
export let undefinedCount: u32 = 0;
/** When set, every Undefined Instruction exception is reported to the host's log hook. */
export let logUndefined: bool = false;

declare function reportUndefined(pc: u64, insn: u32): void;

/**
 * Makes the running vCPU a native seL4 thread: seL4 under the hypervisor routes EL0's synchronous
 * exceptions to itself (as HCR_EL2.TGE does), so they leave the core as exits instead of entering EL1.
 */
export function setEl0Exits(on: bool): void {
  setSr(EL0_EXITS, on ? 1 : 0);
}

/** Takes an exception to EL1; `preferredReturn` goes to ELR_EL1. */
export function takeException(vector: u32, esr: u32, preferredReturn: u64): void {
  if (vector == VECTOR_SYNC && currentEl == 0 && sr(EL0_EXITS) != 0) {
    // The host sees the PC at the preferred return: after an SVC, at a faulting instruction.
    exitEsr = esr;
    exitFar = sr(FAR_EL1);
    exitInsn = currentInsn;
    raiseExit(EXIT_EL0_SYNC, 0);
    nextPc = preferredReturn;
    clearExclusiveMonitor();
    return;
  }
  setSr(SPSR_EL1, packPstate() | (debugSpsrStep(vector == VECTOR_SYNC, preferredReturn) << 21));
  setSr(PSTATE_SS, 0);
  setSr(STEP_SYNDROME, 0);
  setSr(ELR_EL1, preferredReturn);
  if (vector == VECTOR_SYNC) setSr(ESR_EL1, <u64>esr);
  let offset: u64 = currentEl == 0 ? 0x400 : spSel ? 0x200 : 0;
  offset += <u64>vector * 0x80;
  const fromEl0 = currentEl == 0;
  currentEl = 1;
  spSel = 1;
  selectStackPointer(1);
  daif = 0x3c0;
  illegalState = false;
  nextPc = sr(VBAR_EL1) + offset;
  clearExclusiveMonitor();
  if (fromEl0) onTranslationRegimeChange();
}

/** A synchronous exception whose preferred return is the current instruction. */
export function syncException(ec: u32, iss: u32): void {
  takeException(VECTOR_SYNC, (ec << 26) | ESR_IL | iss, pc);
}

export function undefinedInstruction(): void {
  undefinedCount++;
  if (logUndefined) reportUndefined(pc, currentInsn);
  syncException(EC_UNKNOWN, 0);
}

/** Data abort handled by the guest (stage-1 fault, alignment fault). */
export function dataAbortToGuest(va: u64, dfsc: u32, write: bool, cacheMaintenance: bool): void {
  setSr(FAR_EL1, va);
  const ec = currentEl == 0 ? EC_DABT_LOWER : EC_DABT_SAME;
  syncException(ec, dfsc | (write ? 1 << 6 : 0) | (cacheMaintenance ? 1 << 8 : 0));
}

export function instructionAbortToGuest(va: u64, ifsc: u32): void {
  setSr(FAR_EL1, va);
  syncException(currentEl == 0 ? EC_IABT_LOWER : EC_IABT_SAME, ifsc);
}

/** ERET: returns to the state in SPSR_EL1, or sets PSTATE.IL when that state is illegal. */
export function exceptionReturn(): void {
  const spsr = sr(SPSR_EL1);
  const m = <u32>(spsr & 0x1f);
  // Legal targets are EL0t, EL1t and EL1h in AArch64; AArch32, EL2/EL3 and EL0 with SP_EL1 are not.
  const legal = m == 0 || m == 4 || m == 5;
  nzcv = (<u32>spsr) & 0xf000_0000;
  daif = (<u32>spsr) & 0x3c0;
  const wasEl = currentEl;
  if (legal) {
    currentEl = m >> 2;
    spSel = m & 1;
    illegalState = (spsr & (1 << 20)) != 0;
    selectStackPointer(currentEl == 0 ? 0 : spSel);
  } else {
    illegalState = true;
  }
  // Software step continues from SPSR.SS: 1 steps the next instruction, 0 takes the step exception at once.
  setSr(PSTATE_SS, (spsr >> 21) & 1);
  setSr(STEP_SYNDROME, 0);
  nextPc = sr(ELR_EL1);
  setSr(EVENT_REGISTER, 1);
  clearExclusiveMonitor();
  requestEventCheck();
  if (wasEl != currentEl) onTranslationRegimeChange();
}
