// Why run() returned to the host, and the details the host needs (KVM_RUN style).
import { requestEventCheck } from "./state";

export const EXIT_NONE: u32 = 0;
export const EXIT_SLICE_END: u32 = 1;
export const EXIT_STAGE2_ABORT: u32 = 2;
export const EXIT_HVC: u32 = 3;
export const EXIT_SMC: u32 = 4;
export const EXIT_WFI: u32 = 5;
export const EXIT_WFE: u32 = 6;
export const EXIT_SYSREG: u32 = 7;
export const EXIT_VTIMER: u32 = 8;
export const EXIT_MAINTENANCE: u32 = 9;
/** A synchronous exception from EL0 of a native thread (SVC, abort, undefined...): ESR in exitEsr. */
export const EXIT_EL0_SYNC: u32 = 10;

export let exitKind: u32 = EXIT_NONE;
/** ESR_EL2 syndrome for stage-2 aborts and trapped system registers; the ESR_EL1 one for EL0 exits. */
export let exitEsr: u32 = 0;
/** Faulting virtual address of a stage-2 abort. */
export let exitFar: u64 = 0;
/** Faulting IPA of a stage-2 abort. */
export let exitIpa: u64 = 0;
/** The instruction word that caused the exit. */
export let exitInsn: u32 = 0;
/** HVC/SMC immediate, or the list register index of a maintenance exit. */
export let exitValue: u32 = 0;

/** Ends the slice after the current instruction (the run loop sees it at its next event check). */
export function raiseExit(kind: u32, value: u32): void {
  exitKind = kind;
  exitValue = value;
  requestEventCheck();
}
