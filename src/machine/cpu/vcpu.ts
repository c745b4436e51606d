// vCPU objects: each vCPU's state block is saved in its own slot while another
// runs; switching copies the block and the PSTATE globals and rebinds the
// SIMD&FP registers. The TLB and the fast caches are flushed on a switch
// because they are not tagged with the VMID.
import { STATE_BASE, STATE_SIZE, VCPU_SAVE_BASE, MAX_VCPUS, FPSIMD_BASE, FPSIMD_STRIDE } from "./layout";
import {
  pc,
  nzcv,
  daif,
  currentEl,
  spSel,
  illegalState,
  instret,
  setSr,
  SAVED_GLOBALS,
  SCTLR_EL1,
  MPIDR_EL1,
  VMID,
  GIC_VERSION,
  OSLSR_EL1,
  GICV_BASE,
} from "./state";
import { activeSp } from "./registers";
import { flushTlb, onTranslationRegimeChange } from "./mmu";
import { resetGicInterface } from "./gic";
import { bindFpSimdState } from "./fpsimd/index";
import { startSliceClock, endSliceClock } from "./timer";
import { onDebugStateChange } from "./debug";

export let vcpuCount: u32 = 0;
export let currentVcpu: i32 = -1;

function saveSlot(id: u32): usize {
  return VCPU_SAVE_BASE + <usize>id * STATE_SIZE;
}

function saveGlobals(): void {
  store<u64>(SAVED_GLOBALS, pc);
  store<u64>(SAVED_GLOBALS + 8, instret);
  store<u32>(SAVED_GLOBALS + 16, nzcv);
  store<u32>(SAVED_GLOBALS + 20, daif);
  store<u32>(SAVED_GLOBALS + 24, currentEl);
  store<u32>(SAVED_GLOBALS + 28, spSel);
  store<u32>(SAVED_GLOBALS + 32, illegalState ? 1 : 0);
  store<u32>(SAVED_GLOBALS + 36, activeSp);
}

function restoreGlobals(): void {
  pc = load<u64>(SAVED_GLOBALS);
  instret = load<u64>(SAVED_GLOBALS + 8);
  nzcv = load<u32>(SAVED_GLOBALS + 16);
  daif = load<u32>(SAVED_GLOBALS + 20);
  currentEl = load<u32>(SAVED_GLOBALS + 24);
  spSel = load<u32>(SAVED_GLOBALS + 28);
  illegalState = load<u32>(SAVED_GLOBALS + 32) != 0;
  activeSp = load<u32>(SAVED_GLOBALS + 36);
}

/** Makes vCPU `id` the running one. */
export function selectVcpu(id: u32): void {
  if (<i32>id == currentVcpu || id >= vcpuCount) return;
  // Machine time is kept in the instructions of the running vCPU: fold it in before switching.
  endSliceClock();
  if (currentVcpu >= 0) {
    saveGlobals();
    memory.copy(saveSlot(<u32>currentVcpu), STATE_BASE, STATE_SIZE);
  }
  memory.copy(STATE_BASE, saveSlot(id), STATE_SIZE);
  restoreGlobals();
  startSliceClock();
  currentVcpu = <i32>id;
  bindFpSimdState(FPSIMD_BASE + <usize>id * FPSIMD_STRIDE);
  flushTlb();
  onTranslationRegimeChange();
  onDebugStateChange();
}

/** Creates a vCPU in its reset state (EL1h, all interrupts masked, MMU off); returns its id or -1. */
export function createVcpu(vmid: u32, mpidr: u64, gicVersion: u32): i32 {
  if (vcpuCount >= MAX_VCPUS) return -1;
  const id = vcpuCount++;
  const previous = currentVcpu;
  endSliceClock();
  if (previous >= 0) {
    saveGlobals();
    memory.copy(saveSlot(<u32>previous), STATE_BASE, STATE_SIZE);
  }
  memory.fill(STATE_BASE, 0, STATE_SIZE);
  memory.fill(FPSIMD_BASE + <usize>id * FPSIMD_STRIDE, 0, FPSIMD_STRIDE);
  pc = 0;
  instret = 0;
  startSliceClock();
  nzcv = 0;
  daif = 0x3c0;
  currentEl = 1;
  spSel = 1;
  illegalState = false;
  activeSp = 1;
  setSr(SCTLR_EL1, 0x30d0_0800);
  setSr(MPIDR_EL1, mpidr | ((<u64>1) << 31));
  setSr(VMID, <u64>vmid);
  setSr(GIC_VERSION, <u64>gicVersion);
  setSr(OSLSR_EL1, 0xa); // OSLM = 0b10, OS lock set until the guest clears it
  setSr(GICV_BASE, ~(<u64>0));
  resetGicInterface();
  saveGlobals();
  memory.copy(saveSlot(id), STATE_BASE, STATE_SIZE);
  currentVcpu = -1;
  if (previous >= 0) selectVcpu(<u32>previous);
  else selectVcpu(id);
  return <i32>id;
}
