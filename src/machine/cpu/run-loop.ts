// The run loop: fetch, execute, and between instructions the events that can
// stop or redirect execution (slice end, virtual timer, virtual interrupts,
// illegal execution state), checked only when instret reaches eventAt. In the
// JIT build (build/cpu-jit.wasm, compiled with JIT_TIER = 1), a block start (any
// PC not reached by falling through) is looked up in JIT_TABLE and, once hot, run
// as a translated wasm function; build/cpu.wasm (JIT_TIER = 0) has none of it.
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
import { setSr, FAR_EL1, EVENT_REGISTER, currentEl } from "./state";
import {
  JIT_TABLE,
  JIT_ENTRIES,
  JIT_ENTRY_SIZE,
  JIT_ENTRY_PC,
  JIT_ENTRY_TAG,
  JIT_ENTRY_FN,
  JIT_ENTRY_COUNT,
  JIT_NEVER,
} from "./layout";
import { debugActive, debugException } from "./debug";

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

/** Asks the host's JIT (src/machine/cpu/jit) for the block at pc; returns its table index or 0. */
declare function translate(pc: u64, host: u32, el: u32): u32;
/** Tells the host's JIT that table index `fn` is no longer referenced (evicted, or stale when `stale`). */
declare function discard(fn: u32, stale: bool): void;

// Results of a translated block (the contract with src/machine/cpu/jit/translate.ts).
/** Ran to a branch: pc is the next block start. */
const BLOCK_BRANCHED: i32 = 0;
/** Ran part of the block: pc is an instruction the interpreter must run. */
const BLOCK_STOPPED: i32 = 1;
/** Its code changed since translation; nothing ran. */
const BLOCK_STALE: i32 = 2;
/** An event is due within the block's length; nothing ran. */
const BLOCK_DECLINED: i32 = 3;
/** No translation was entered. */
const BLOCK_NONE: i32 = -1;
/** Lookups by other block starts a translated entry survives without running. */
const JIT_PROTECTION: u32 = 64;

// JIT_TIER is 1 in the JIT build and 0 in the interpreter's, a compile-time constant given by
// scripts/build.mjs (asc --use), so the interpreter's loop carries none of the JIT's bookkeeping,
// which cost it 10-15% on bench:cpu.
/** Executions of a block start before it is translated. */
let jitThreshold: u32 = 0;
/** Instructions retired inside translated blocks (the JIT's hit rate against instret). */
let jitInstructions: u64 = 0;

export function setJitThreshold(threshold: u32): void {
  jitThreshold = threshold;
}

export function jitInstructionsRetired(): u64 {
  return jitInstructions;
}

/**
 * Direct entries from block to block left before control must come back to the run loop (translated
 * blocks count it down; see translate.ts branchTo).
 */
export let chainHops: u32 = 0;
const MAX_CHAIN_HOPS: u32 = 64;

/** The JIT_TABLE entry of a block starting at `blockPc` (the translator also reads it to link blocks). */
export function jitEntry(blockPc: u64): usize {
  const index = (blockPc >> 2) ^ (blockPc >> 14);
  return JIT_TABLE + <usize>(index & (<u64>(JIT_ENTRIES - 1))) * JIT_ENTRY_SIZE;
}

/**
 * Runs the translated block starting at pc (whose instruction bytes are at `host`), translating it
 * when it has become hot. An entry is keyed by the PC, the host address the current translation
 * regime gives it and the EL; the block itself checks on entry that its code is unchanged.
 */
function enterTranslated(host: usize): i32 {
  const tag = (<u64>host) | (<u64>currentEl);
  const entry = jitEntry(pc);
  let fn = load<u32>(entry, JIT_ENTRY_FN);
  if (load<u64>(entry, JIT_ENTRY_PC) != pc || load<u64>(entry, JIT_ENTRY_TAG) != tag) {
    if (fn) {
      // A translation keeps its entry until JIT_PROTECTION other block starts have asked for it
      // since it last ran (the count field counts them), so cold code does not evict hot code.
      const misses = load<u32>(entry, JIT_ENTRY_COUNT) + 1;
      if (misses < JIT_PROTECTION) {
        store<u32>(entry, misses, JIT_ENTRY_COUNT);
        return BLOCK_NONE;
      }
      discard(fn, false);
    }
    store<u64>(entry, pc, JIT_ENTRY_PC);
    store<u64>(entry, tag, JIT_ENTRY_TAG);
    store<u32>(entry, 0, JIT_ENTRY_FN);
    store<u32>(entry, 1, JIT_ENTRY_COUNT);
    return BLOCK_NONE;
  }
  if (!fn) {
    const count = load<u32>(entry, JIT_ENTRY_COUNT);
    if (count == JIT_NEVER) return BLOCK_NONE;
    if (count < jitThreshold) {
      store<u32>(entry, count + 1, JIT_ENTRY_COUNT);
      return BLOCK_NONE;
    }
    fn = translate(pc, <u32>host, currentEl);
    if (!fn) {
      store<u32>(entry, JIT_NEVER, JIT_ENTRY_COUNT);
      return BLOCK_NONE;
    }
    store<u32>(entry, fn, JIT_ENTRY_FN);
    store<u32>(entry, 0, JIT_ENTRY_COUNT);
  } else if (load<u32>(entry, JIT_ENTRY_COUNT)) {
    store<u32>(entry, 0, JIT_ENTRY_COUNT);
  }
  const before = instret;
  chainHops = MAX_CHAIN_HOPS;
  const status = call_indirect<i32>(fn);
  jitInstructions += instret - before;
  if (instret != before) {
    // A block that entered another that then declined or found its code changed has still run: the
    // run loop must look at events again before the interpreter runs the instruction at pc. One whose
    // code changed is entered again from here (as a block start), which drops it: blocks reach each
    // other's starts through the lookup table, so it would otherwise stay there, stale, for good.
    if (status == BLOCK_STALE) return BLOCK_BRANCHED;
    return status == BLOCK_DECLINED ? BLOCK_STOPPED : status;
  }
  if (status == BLOCK_STALE) {
    discard(fn, true);
    store<u32>(entry, 0, JIT_ENTRY_FN);
    store<u32>(entry, 1, JIT_ENTRY_COUNT);
  }
  return status;
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
  // The PC reached by falling through the last instruction: anything else is a block start.
  let fallThrough: u64 = pc ^ 1;
  // 1 while the interpreter runs the instruction a block stopped at: the next one starts a block.
  let resume: u64 = 0;
  while (true) {
    if (instret >= eventAt) {
      if (checkEvents()) break;
      // While debug is active eventAt stays at instret, so every instruction comes here and the fast
      // path pays nothing otherwise. A debug exception counts as the instruction, like a fetch fault.
      if (debugActive) {
        eventAt = instret;
        if (debugException()) {
          instret++;
          continue;
        }
      }
    }
    clearAccessFaulted();
    let host: usize;
    if (pc >> 12 == fetchPage) {
      if (JIT_TIER && !debugActive && pc != fallThrough) {
        const status = enterTranslated(<usize>(pc + fetchAddend));
        if (status == BLOCK_BRANCHED) {
          fallThrough = pc ^ 1;
          continue;
        }
        if (status == BLOCK_STOPPED) {
          fallThrough = pc;
          resume = 1;
          continue;
        }
      }
      host = <usize>(pc + fetchAddend);
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
      // The PC is on the new fetch page now: go round, so that a block start there (a call or return
      // across pages) enters its translation. (With debug active the events were checked for this
      // instruction already, and nothing is entered.)
      if (JIT_TIER && !debugActive) continue;
      host = <usize>(pc + fetchAddend);
    }
    const insn = load<u32>(host);
    currentInsn = insn;
    nextPc = pc + 4;
    if (JIT_TIER) {
      fallThrough = nextPc ^ resume;
      resume = 0;
    }
    execute(insn, host);
    pc = nextPc;
    instret++;
  }
  endSliceClock();
  return exitKind;
}
