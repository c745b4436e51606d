// PSTATE, the program counter and the system-register block of the running vCPU.
// The hottest fields are wasm globals; the rest live at fixed offsets of the
// state block so saving a vCPU is one memory copy plus the globals.
import { STATE_BASE } from "./layout";

/** Address of the instruction being executed. */
export let pc: u64 = 0;
/** Address of the next instruction; branches and exceptions overwrite it. */
export let nextPc: u64 = 0;
/** NZCV in bits 31:28, as in the NZCV register. */
export let nzcv: u32 = 0;
/** DAIF in bits 9:6, as in the DAIF register. */
export let daif: u32 = 0x3c0;
/** Current exception level, 0 or 1. */
export let currentEl: u32 = 1;
/** PSTATE.SP. */
export let spSel: u32 = 1;
/** PSTATE.IL: set by an illegal exception return. */
export let illegalState: bool = false;
/** The instruction word being executed (for syndromes). */
export let currentInsn: u32 = 0;
/** Instructions retired by the running vCPU. */
export let instret: u64 = 0;
/** When instret reaches this, the run loop looks at interrupts, timers and the slice end. */
export let eventAt: u64 = 0;

/** Makes the run loop re-evaluate pending events before the next instruction. */
export function requestEventCheck(): void {
  eventAt = 0;
}

/** PSTATE as SPSR_EL1 encodes it for AArch64 (M[3:0] = EL and SP). */
export function packPstate(): u64 {
  return <u64>(nzcv | daif | (illegalState ? 1 << 20 : 0) | (currentEl << 2) | spSel);
}

// System registers kept in the state block, 8 bytes each.
const SR: usize = STATE_BASE + 0x200;
export const SCTLR_EL1: usize = SR + 0x00;
export const ACTLR_EL1: usize = SR + 0x08;
export const CPACR_EL1: usize = SR + 0x10;
export const TTBR0_EL1: usize = SR + 0x18;
export const TTBR1_EL1: usize = SR + 0x20;
export const TCR_EL1: usize = SR + 0x28;
export const MAIR_EL1: usize = SR + 0x30;
export const AMAIR_EL1: usize = SR + 0x38;
export const ESR_EL1: usize = SR + 0x40;
export const FAR_EL1: usize = SR + 0x48;
export const AFSR0_EL1: usize = SR + 0x50;
export const AFSR1_EL1: usize = SR + 0x58;
export const PAR_EL1: usize = SR + 0x60;
export const VBAR_EL1: usize = SR + 0x68;
export const CONTEXTIDR_EL1: usize = SR + 0x70;
export const TPIDR_EL0: usize = SR + 0x78;
export const TPIDRRO_EL0: usize = SR + 0x80;
export const TPIDR_EL1: usize = SR + 0x88;
export const SPSR_EL1: usize = SR + 0x90;
export const ELR_EL1: usize = SR + 0x98;
export const CSSELR_EL1: usize = SR + 0xa0;
export const MDSCR_EL1: usize = SR + 0xa8;
export const OSLSR_EL1: usize = SR + 0xb0;
export const OSDLR_EL1: usize = SR + 0xb8;
export const MDCCINT_EL1: usize = SR + 0xc0;
export const CNTKCTL_EL1: usize = SR + 0xc8;
export const CNTV_CTL_EL0: usize = SR + 0xd0;
export const CNTV_CVAL_EL0: usize = SR + 0xd8;
export const CNTVOFF_EL2: usize = SR + 0xe0;
export const MPIDR_EL1: usize = SR + 0xe8;
export const VMID: usize = SR + 0xf0;
export const GIC_VERSION: usize = SR + 0xf8;
export const SPSR_ABT: usize = SR + 0x100;
export const SPSR_UND: usize = SR + 0x108;
export const SPSR_IRQ: usize = SR + 0x110;
export const SPSR_FIQ: usize = SR + 0x118;
export const HOST_VTIMER_MASKED: usize = SR + 0x128;
export const EVENT_REGISTER: usize = SR + 0x130;
export const SEV_SEEN: usize = SR + 0x138;
export const GICV_BASE: usize = SR + 0x140;
/** Nonzero for a native seL4 thread: synchronous exceptions from EL0 leave the core as exits. */
export const EL0_EXITS: usize = SR + 0x148;
/** PSTATE.SS (software step: 1 active-not-pending, 0 active-pending), kept here because only debug.ts and exception entry/return use it. */
export const PSTATE_SS: usize = SR + 0x150;
/** The ISS a pending Software Step exception reports (ISV when a stepped instruction completed); see debug.ts. */
export const STEP_SYNDROME: usize = SR + 0x158;
/** instret + 1 of the instruction being stepped, 0 before any. */
export const STEPPED_INSTRUCTION: usize = SR + 0x160;
// GIC virtual CPU interface: 4 list registers and the virtual machine control state.
export const GIC_LR: usize = SR + 0x180; // 4 x u32
export const GIC_CTLR: usize = SR + 0x190;
export const GIC_PMR: usize = SR + 0x198;
export const GIC_BPR0: usize = SR + 0x1a0;
export const GIC_BPR1: usize = SR + 0x1a8;
export const GIC_AP0: usize = SR + 0x1b0;
export const GIC_AP1: usize = SR + 0x1b8;
export const GIC_IGRPEN: usize = SR + 0x1c0;
// Debug breakpoint and watchpoint registers: value/control pairs, 16 each.
export const DBG_BVR: usize = SR + 0x200;
export const DBG_BCR: usize = SR + 0x280;
export const DBG_WVR: usize = SR + 0x300;
export const DBG_WCR: usize = SR + 0x380;
// Globals saved with the block when the vCPU is switched out.
export const SAVED_GLOBALS: usize = SR + 0x400;

export function sr(slot: usize): u64 {
  return load<u64>(slot);
}
export function setSr(slot: usize, v: u64): void {
  store<u64>(slot, v);
}
