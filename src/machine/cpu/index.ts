// Entry point of the wasm CPU core: the functions src/machine/cpu.ts calls.
// Every per-vCPU function acts on the vCPU made current by selectVcpu().
import { getX as readX, setX as writeX, getBankedSp, setBankedSp, selectStackPointer } from "./registers";
import {
  pc,
  nzcv,
  daif,
  currentEl,
  spSel,
  instret,
  requestEventCheck,
  sr,
  setSr,
  GICV_BASE,
  HOST_VTIMER_MASKED,
  PSTATE_SS,
} from "./state";
import { configureMemory, mapStage2 as mapStage2Range, flushTlb, onTranslationRegimeChange } from "./mmu";
import {
  CORE_END,
  LOGICAL_IMMEDIATE_CACHE,
  LOGICAL_IMMEDIATE_CACHE_SIZE,
  JIT_TABLE,
  JIT_ENTRIES,
  JIT_ENTRY_SIZE,
  DECODED_CACHE,
  DECODED_CACHE_ENTRIES,
} from "./layout";
import { initConditionTable } from "./alu";
import { exitEsr, exitFar, exitIpa, exitInsn, exitValue } from "./exits";
import { readSystemRegister, writeSystemRegister, sysregValue, SR_OK } from "./sysregs";
import { getListRegister as readLr, setListRegister as writeLr } from "./gic";
import { physicalCount, setPhysicalCount, setInstructionsPerTick } from "./timer";
import { undefinedCount, logUndefined } from "./exceptions";
export { setEl0Exits } from "./exceptions";
import { VMID } from "./state";

export { run, setJitThreshold, jitInstructionsRetired, jitEntry, chainHops } from "./run-loop";
// What translated blocks (src/machine/cpu/jit) import: state they use in place, and its addresses.
export { pc, nzcv, daif, instret, eventAt, spSel, TPIDR_EL0, TPIDRRO_EL0, TPIDR_EL1 } from "./state";
export { fastReadBase, fastWriteBase } from "./mmu";
export { X_BASE, SP_EL0_SLOT } from "./registers";
export { reservedAddress, reservedSize, NO_RESERVATION } from "./exclusive-monitor";
export { DC_ZVA_BYTES, DCZID_BLOCK_LOG2_WORDS } from "./id-registers";
export { CONDITION_TABLE, FAST_BASE, FAST_ENTRIES } from "./layout";
// The JIT's host side reads the lookup table to translate warm blocks along with a hot one.
export {
  JIT_TABLE,
  JIT_ENTRIES,
  JIT_ENTRY_SIZE,
  JIT_ENTRY_PC,
  JIT_ENTRY_TAG,
  JIT_ENTRY_FN,
  JIT_ENTRY_COUNT,
  JIT_NEVER,
} from "./layout";
export { bitmaskImmediate, decodeBitMasks, wmask, tmask, bitMasksValid } from "./alu";
export { createVcpu, selectVcpu } from "./vcpu";
export { getVLo, getVHi, setV, readFpcr, writeFpcr, readFpsr, writeFpsr } from "./fpsimd/index";

/** Sets where guest physical RAM lives; returns the bytes the core needs below ramOffset. */
export function init(ramBase: u64, ramSize: u64, ramOffset: u64): u32 {
  configureMemory(ramBase, ramSize, ramOffset);
  initConditionTable();
  memory.fill(LOGICAL_IMMEDIATE_CACHE, 0, LOGICAL_IMMEDIATE_CACHE_SIZE);
  // Entries name slots of this instance's function table: none may survive from another core.
  memory.fill(JIT_TABLE, 0, <usize>JIT_ENTRIES * JIT_ENTRY_SIZE);
  memory.fill(DECODED_CACHE, 0, DECODED_CACHE_ENTRIES * 8);
  flushTlb();
  return <u32>CORE_END;
}

export function getX(n: u32): u64 {
  return readX(n);
}
export function setX(n: u32, v: u64): void {
  writeX(n, v);
}
export function getPc(): u64 {
  return pc;
}
export function setPc(v: u64): void {
  pc = v;
}
export function getSp(el: u32): u64 {
  return getBankedSp(el);
}
export function setSp(el: u32, v: u64): void {
  setBankedSp(el, v);
}

/** PSTATE as NZCV 31:28, DAIF 9:6, CurrentEL 3:2, SPSel 0. */
/** PSTATE in the SPSR layout: NZCV 31:28, SS 21, DAIF 9:6, CurrentEL 3:2, SPSel 0. */
export function getPstate(): u32 {
  return nzcv | ((<u32>sr(PSTATE_SS)) << 21) | daif | (currentEl << 2) | spSel;
}
export function setPstate(v: u32): void {
  nzcv = v & 0xf000_0000;
  setSr(PSTATE_SS, (v >> 21) & 1);
  daif = v & 0x3c0;
  const el = (v >> 2) & 3;
  currentEl = el > 1 ? 1 : el;
  spSel = v & 1;
  selectStackPointer(currentEl == 0 ? 0 : spSel);
  onTranslationRegimeChange();
  requestEventCheck();
}

export function instructionsRetired(): u64 {
  return instret;
}

/** Host read of a system register by encoding; returns ~0 and sets the status when it does not exist. */
let sysregStatus: u32 = SR_OK;
export function readSysreg(key: u32): u64 {
  sysregStatus = readSystemRegister(key, 2);
  return sysregStatus == SR_OK ? sysregValue : 0;
}
export function writeSysreg(key: u32, v: u64): u32 {
  sysregStatus = writeSystemRegister(key, v, 2);
  return sysregStatus;
}
export function lastSysregStatus(): u32 {
  return sysregStatus;
}

/** Stage-2 flags: 1 read, 2 write, 4 execute, 8 device; 0 unmaps. */
export function mapStage2(ipa: u64, pa: u64, size: u64, flags: u32): void {
  mapStage2Range(<u32>sr(VMID), ipa, pa, size, flags);
}

export function getListRegister(i: u32): u32 {
  return readLr(i);
}
export function setListRegister(i: u32, v: u32): void {
  writeLr(i, v);
}
export function setGicvBase(ipa: u64): void {
  setSr(GICV_BASE, ipa);
  flushTlb();
}
export function getGicvBase(): u64 {
  return sr(GICV_BASE);
}
export function setVtimerMasked(masked: bool): void {
  setSr(HOST_VTIMER_MASKED, masked ? 1 : 0);
  requestEventCheck();
}
export function getVtimerMasked(): bool {
  return sr(HOST_VTIMER_MASKED) != 0;
}

export function getCounter(): u64 {
  return physicalCount();
}
export function setCounter(ticks: u64): void {
  setPhysicalCount(ticks);
}
export function setTimerRatio(instructionsPerTick: u32): void {
  setInstructionsPerTick(<u64>instructionsPerTick);
}

export function getExitEsr(): u32 {
  return exitEsr;
}
export function getExitFar(): u64 {
  return exitFar;
}
export function getExitIpa(): u64 {
  return exitIpa;
}
export function getExitInstruction(): u32 {
  return exitInsn;
}
export function getExitValue(): u32 {
  return exitValue;
}

export function getUndefinedCount(): u32 {
  return undefinedCount;
}
export function setLogUndefined(on: bool): void {
  logUndefined = on;
}
