// Self-hosted debug of the guest (ARM ARM D2): breakpoints, watchpoints and software step, with debug
// exceptions routed to EL1 (MDCR_EL2.TDE = 0, as under seL4 and libvmm). Nothing here runs unless
// `debugActive`, recomputed when the debug registers change, says an exception could be generated.
import {
  pc,
  nextPc,
  daif,
  currentEl,
  currentInsn,
  instret,
  requestEventCheck,
  sr,
  setSr,
  MDSCR_EL1,
  OSLSR_EL1,
  OSDLR_EL1,
  CONTEXTIDR_EL1,
  FAR_EL1,
  PSTATE_SS,
  STEP_SYNDROME,
  STEPPED_INSTRUCTION,
  DBG_BVR,
  DBG_BCR,
  DBG_WVR,
  DBG_WCR,
} from "./state";
import { takeException, VECTOR_SYNC, ESR_IL } from "./exceptions";
import { flushFastCache } from "./mmu";
import { markAccessFaulted } from "./memory-access";

/** Breakpoints and watchpoints implemented (ID_AA64DFR0_EL1.BRPs and WRPs say 2 each). */
export const BREAKPOINTS: u32 = 2;
export const WATCHPOINTS: u32 = 2;
/** The context-aware breakpoint: the highest-numbered (ID_AA64DFR0_EL1.CTX_CMPs says 1). */
const CONTEXT_BREAKPOINT: u32 = BREAKPOINTS - 1;

const MDSCR_SS: u64 = 1 << 0;
const MDSCR_KDE: u64 = 1 << 13;
const MDSCR_MDE: u64 = 1 << 15;
const OSLSR_OSLK: u64 = 1 << 1;
const OSDLR_DLK: u64 = 1 << 0;
const DAIF_D: u32 = 1 << 9;

const EC_BREAKPOINT_LOWER: u32 = 0x30;
const EC_SOFTWARE_STEP_LOWER: u32 = 0x32;
const EC_WATCHPOINT_LOWER: u32 = 0x34;
/** The lower-EL exception class plus this is the same-EL one. */
const EC_SAME_EL: u32 = 1;
/** IFSC/DFSC of every debug exception. */
const FSC_DEBUG: u32 = 0x22;
/** Software Step ISS: ISV (EX is valid) and EX (the stepped instruction was a load-exclusive). */
export const STEP_ISV: u32 = 1 << 24;
const STEP_EX: u32 = 1 << 6;
const WATCH_WNR: u32 = 1 << 6;

// DBGBCR<n>_EL1 / DBGWCR<n>_EL1 fields.
const CR_E: u64 = 1;
const BCR_BT_UNLINKED_ADDRESS: u32 = 0;
const BCR_BT_LINKED_ADDRESS: u32 = 1;
const BCR_BT_UNLINKED_CONTEXT: u32 = 2;
const BCR_BT_LINKED_CONTEXT: u32 = 3;
const WCR_WT: u64 = 1 << 20;
/** SSC = 0b10: Secure state only. The guest runs in Non-secure state, so such a comparator never matches. */
const SSC_SECURE_ONLY: u32 = 2;

/**
 * Some breakpoint, watchpoint or software step can generate a debug exception: the run loop then calls
 * debugException before every instruction (from its event check, which it makes every instruction).
 */
export let debugActive: bool = false;
/** Some watchpoint is enabled: data accesses bypass the translation caches and are checked (mmu.ts). */
export let watchpointsArmed: bool = false;

/** The OS lock or the OS double lock is set: no debug exception except BRK can be generated. */
function osLocked(): bool {
  // OS double lock takes effect only with DBGPRCR_EL1.CORENPDRQ clear, which it always reads here.
  return (sr(OSLSR_EL1) & OSLSR_OSLK) != 0 || (sr(OSDLR_EL1) & OSDLR_DLK) != 0;
}

/** Recomputes debugActive and watchpointsArmed; called after every write that can change them. */
export function onDebugStateChange(): void {
  const mdscr = sr(MDSCR_EL1);
  let breakpoints = false;
  let watchpoints = false;
  if (!osLocked() && mdscr & MDSCR_MDE) {
    for (let n: u32 = 0; n < BREAKPOINTS; n++)
      if (load<u64>(DBG_BCR + <usize>n * 8) & CR_E) breakpoints = true;
    for (let n: u32 = 0; n < WATCHPOINTS; n++)
      if (load<u64>(DBG_WCR + <usize>n * 8) & CR_E) watchpoints = true;
  }
  debugActive = !osLocked() && ((mdscr & MDSCR_SS) != 0 || breakpoints || watchpoints);
  // The run loop looks at debugActive only at an event check; while it is set it checks every instruction.
  requestEventCheck();
  // Arming flushes the cached translations so every data access reaches the slow path and its check.
  if (watchpoints && !watchpointsArmed) flushFastCache();
  watchpointsArmed = watchpoints;
}

/** Debug exceptions enabled from `el` (target EL1): always from EL0, from EL1 with KDE set and PSTATE.D clear. */
function enabledFrom(el: u32): bool {
  return el == 0 || ((sr(MDSCR_EL1) & MDSCR_KDE) != 0 && !(daif & DAIF_D));
}

function exceptionClass(lower: u32): u32 {
  return currentEl == 0 ? lower : lower + EC_SAME_EL;
}

/** VA[48:2] of a DBGBVR/DBGWVR, sign-extended from bit 48 as the architecture compares it. */
function comparatorAddress(value: u64): u64 {
  return <u64>((<i64>(value << 15)) >> 15);
}

/** PMC/PAC (bits 2:1): bit 0 of the field enables matching at EL1, bit 1 at EL0. */
function privilegeMatches(control: u64, el: u32): bool {
  if (<u32>((control >> 14) & 3) == SSC_SECURE_ONLY) return false;
  return ((control >> 1) & (el == 0 ? 2 : 1)) != 0;
}

/** A context-ID breakpoint `n` (BT 0b0010 or 0b0011) matches CONTEXTIDR_EL1. */
function contextMatches(n: u32, linked: bool): bool {
  if (n != CONTEXT_BREAKPOINT) return false;
  const control = load<u64>(DBG_BCR + <usize>n * 8);
  if (!(control & CR_E)) return false;
  const bt = <u32>((control >> 20) & 15);
  if (bt != (linked ? BCR_BT_LINKED_CONTEXT : BCR_BT_UNLINKED_CONTEXT)) return false;
  return (load<u64>(DBG_BVR + <usize>n * 8) & 0xffff_ffff) == sr(CONTEXTIDR_EL1);
}

function breakpointMatches(n: u32, va: u64, el: u32): bool {
  const control = load<u64>(DBG_BCR + <usize>n * 8);
  if (!(control & CR_E) || !privilegeMatches(control, el)) return false;
  const bt = <u32>((control >> 20) & 15);
  if (bt == BCR_BT_UNLINKED_CONTEXT) return contextMatches(n, false);
  if (bt != BCR_BT_UNLINKED_ADDRESS && bt != BCR_BT_LINKED_ADDRESS) return false;
  // BAS selects the A64 instruction with any nonzero value; 0 never matches.
  if (((control >> 5) & 15) == 0) return false;
  if ((comparatorAddress(load<u64>(DBG_BVR + <usize>n * 8)) & ~(<u64>3)) != va) return false;
  return bt == BCR_BT_UNLINKED_ADDRESS || contextMatches(<u32>((control >> 16) & 15), true);
}

function isLoadExclusive(insn: u32): bool {
  // LDXR, LDAXR, LDXP, LDAXP: load/store exclusive group with o2 = 0 and L = 1.
  return (insn & 0x3fc0_0000) == 0x0840_0000;
}

/**
 * Before each instruction while debugActive: takes a pending Software Step exception or a Breakpoint
 * exception (returns true: the run loop continues at the vector), and starts the step of this
 * instruction when software step is active-not-pending.
 */
export function debugException(): bool {
  const el = currentEl;
  const enabled = enabledFrom(el);
  if (enabled && sr(MDSCR_EL1) & MDSCR_SS) {
    if (!sr(PSTATE_SS)) {
      // Active-pending: the step completed (ISV = 1, EX from the stepped instruction) or an exception
      // return entered this state (ISV = 0).
      let iss = <u32>sr(STEP_SYNDROME);
      if (iss & STEP_ISV && isLoadExclusive(currentInsn)) iss |= STEP_EX;
      takeException(
        VECTOR_SYNC,
        (exceptionClass(EC_SOFTWARE_STEP_LOWER) << 26) | ESR_IL | iss | FSC_DEBUG,
        pc,
      );
      pc = nextPc;
      return true;
    }
    // Active-not-pending: this instruction is the step. PSTATE.SS clears as it starts; an exception that
    // returns to this same instruction puts SPSR_EL1.SS back to 1 (takeException, debugSpsrStep).
    setSr(PSTATE_SS, 0);
    setSr(STEP_SYNDROME, STEP_ISV);
    setSr(STEPPED_INSTRUCTION, instret + 1);
  }
  if (enabled && sr(MDSCR_EL1) & MDSCR_MDE && !(pc & 3)) {
    for (let n: u32 = 0; n < BREAKPOINTS; n++) {
      if (breakpointMatches(n, pc, el)) {
        takeException(VECTOR_SYNC, (exceptionClass(EC_BREAKPOINT_LOWER) << 26) | ESR_IL | FSC_DEBUG, pc);
        pc = nextPc;
        return true;
      }
    }
  }
  return false;
}

/**
 * SPSR_EL1.SS for an exception being taken with preferred return `preferredReturn`: PSTATE.SS, except
 * that a synchronous exception that returns to the instruction being stepped leaves it to be stepped
 * again (active-not-pending).
 */
export function debugSpsrStep(synchronous: bool, preferredReturn: u64): u64 {
  if (synchronous && preferredReturn == pc && sr(STEPPED_INSTRUCTION) == instret + 1) return 1;
  return sr(PSTATE_SS);
}

/** The lowest byte of [va, va + size) that watchpoint `n` watches for this access, or -1. */
function watchedByte(n: u32, va: u64, size: u32, write: bool, el: u32): i64 {
  const control = load<u64>(DBG_WCR + <usize>n * 8);
  if (!(control & CR_E) || !privilegeMatches(control, el)) return -1;
  // LSC (bits 4:3): 0b01 loads, 0b10 stores, 0b11 both.
  if (!((control >> 3) & (write ? 2 : 1))) return -1;
  // A linked watchpoint (WT) matches only while its linked context breakpoint (LBN) does.
  if (control & WCR_WT && !contextMatches(<u32>((control >> 16) & 15), true)) return -1;
  const value = comparatorAddress(load<u64>(DBG_WVR + <usize>n * 8));
  const mask = <u32>((control >> 24) & 31);
  if (mask == 1 || mask == 2) return -1; // reserved: behaves as disabled
  if (mask) {
    // A naturally aligned block of 2^MASK bytes (BAS ignored).
    const block = ~(((<u64>1) << mask) - 1);
    const first = va & block;
    const last = (va + <u64>size - 1) & block;
    const base = value & block;
    if (base < first || base > last) return -1;
    return <i64>(base > va ? base : va);
  }
  // BAS (bits 12:5) selects bytes of the doubleword at WVR, or of the word when WVR[2] is set.
  let bas = <u32>((control >> 5) & 0xff);
  let granule: u64 = 8;
  if (value & 4) {
    bas &= 0xf;
    granule = 4;
  }
  const base = value & ~(granule - 1);
  for (let i: u32 = 0; i < size; i++) {
    const byte = va + <u64>i;
    if ((byte & ~(granule - 1)) == base && (bas >> (<u32>(byte & (granule - 1)))) & 1) return <i64>byte;
  }
  return -1;
}

/**
 * Checks a data access of `size` bytes at `va` made with the permissions of `el` against the armed
 * watchpoints; on a match takes the Watchpoint exception (the access is not made) and returns true.
 * `cacheMaintenance` is ESR.CM.
 */
export function watchpointHit(va: u64, size: u32, write: bool, el: u32, cacheMaintenance: bool): bool {
  if (!enabledFrom(currentEl)) return false;
  let hit: i64 = -1;
  for (let n: u32 = 0; n < WATCHPOINTS; n++) {
    const byte = watchedByte(n, va, size, write, el);
    if (byte >= 0 && (hit < 0 || byte < hit)) hit = byte;
  }
  if (hit < 0) return false;
  // FAR: the lowest watched byte the access touches, which the architecture's range allows.
  setSr(FAR_EL1, <u64>hit);
  const iss = (cacheMaintenance ? 1 << 8 : 0) | (write ? WATCH_WNR : 0) | FSC_DEBUG;
  takeException(VECTOR_SYNC, (exceptionClass(EC_WATCHPOINT_LOWER) << 26) | ESR_IL | iss, pc);
  markAccessFaulted();
  return true;
}
