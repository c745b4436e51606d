// The run loop: fetch, execute, and between instructions the events that can
// stop or redirect execution (slice end, virtual timer, virtual interrupts,
// illegal execution state), checked only when instret reaches eventAt.
import { pc, nextPc, daif, illegalState, instret, eventAt, currentInsn } from "./state";
import { clearAccessFaulted } from "./memory-access";
import { fetchPage, fetchAddend, fetchMiss } from "./mmu";
import { execute } from "./execute";
import {
  takeException,
  syncException,
  VECTOR_IRQ,
  VECTOR_FIQ,
  EC_ILLEGAL_STATE,
  EC_PC_ALIGNMENT,
} from "./exceptions";
import { exitKind, EXIT_NONE, EXIT_SLICE_END, EXIT_VTIMER } from "./exits";
import { clearExclusiveMonitor } from "./exclusive-monitor";
import { startSliceClock, endSliceClock, virtualTimerFiring, virtualTimerDeadline } from "./timer";
import { virtualInterruptSignal, SIGNAL_IRQ, SIGNAL_FIQ } from "./gic";
import { setSr, FAR_EL1, EVENT_REGISTER } from "./state";

let sliceEnd: u64 = 0;

const DAIF_I: u32 = 1 << 7;
const DAIF_F: u32 = 1 << 6;

/** Handles pending events; returns true when the slice must end. */
function checkEvents(): bool {
  if (exitKind != EXIT_NONE) return true;
  if (instret >= sliceEnd) {
    exitKind = EXIT_SLICE_END;
    return true;
  }
  if (virtualTimerFiring()) {
    exitKind = EXIT_VTIMER;
    return true;
  }
  if (illegalState) {
    nextPc = pc;
    syncException(EC_ILLEGAL_STATE, 0);
    pc = nextPc;
  }
  const signal = virtualInterruptSignal();
  if (signal == SIGNAL_IRQ && !(daif & DAIF_I)) {
    takeException(VECTOR_IRQ, 0, pc);
    pc = nextPc;
  } else if (signal == SIGNAL_FIQ && !(daif & DAIF_F)) {
    takeException(VECTOR_FIQ, 0, pc);
    pc = nextPc;
  }
  const deadline = virtualTimerDeadline();
  eventAt = deadline < sliceEnd ? deadline : sliceEnd;
  return false;
}

/** Runs the current vCPU for at most `maxInstructions`; returns the exit kind. */
export function run(maxInstructions: u32): u32 {
  exitKind = EXIT_NONE;
  // A slice boundary clears the exclusive monitor (other vCPUs and the host may have
  // written memory since), and that is a WFE wake-up event, as on hardware.
  clearExclusiveMonitor();
  setSr(EVENT_REGISTER, 1);
  startSliceClock();
  sliceEnd = instret + <u64>maxInstructions;
  eventAt = 0;
  while (true) {
    if (instret >= eventAt && checkEvents()) break;
    clearAccessFaulted();
    let insn: u32;
    if (pc >> 12 == fetchPage) {
      insn = load<u32>(<usize>(pc + fetchAddend));
    } else if (pc & 3) {
      nextPc = pc;
      setSr(FAR_EL1, pc);
      syncException(EC_PC_ALIGNMENT, 0);
      pc = nextPc;
      instret++;
      continue;
    } else {
      nextPc = pc;
      if (!fetchMiss(pc)) {
        pc = nextPc;
        instret++;
        if (exitKind != EXIT_NONE) break;
        continue;
      }
      insn = load<u32>(<usize>(pc + fetchAddend));
    }
    currentInsn = insn;
    nextPc = pc + 4;
    execute(insn);
    pc = nextPc;
    instret++;
  }
  endSliceClock();
  return exitKind;
}
