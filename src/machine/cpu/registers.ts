// The general-purpose register file of the running vCPU. Slot 31 holds the
// stack pointer selected by PSTATE (EL and SPSel); the other stack pointer is
// banked in the state block and swapped in by selectStackPointer().
import { STATE_BASE } from "./layout";

/** Offset of X0 in the state block; X31 (the current SP) follows X30. */
export const X_BASE: usize = STATE_BASE;
/** Banked SP_EL0 and SP_EL1 (only the inactive one is current in memory). */
export const SP_EL0_SLOT: usize = STATE_BASE + 32 * 8;
export const SP_EL1_SLOT: usize = STATE_BASE + 33 * 8;

/** Reads Xn; n = 31 reads XZR. */
export function getX(n: u32): u64 {
  return n == 31 ? 0 : load<u64>(X_BASE + ((<usize>n) << 3));
}

/** Writes Xn; n = 31 (XZR) discards. */
export function setX(n: u32, v: u64): void {
  if (n != 31) store<u64>(X_BASE + ((<usize>n) << 3), v);
}

/** Reads Xn; n = 31 reads the current stack pointer. */
export function getXSP(n: u32): u64 {
  return load<u64>(X_BASE + ((<usize>n) << 3));
}

/** Writes Xn; n = 31 writes the current stack pointer. */
export function setXSP(n: u32, v: u64): void {
  store<u64>(X_BASE + ((<usize>n) << 3), v);
}

/** Index (0 or 1) of the stack pointer currently held in slot 31. */
export let activeSp: u32 = 1;

/** Moves the stack pointer selected by `sel` (0 = SP_EL0, 1 = SP_EL1) into slot 31. */
export function selectStackPointer(sel: u32): void {
  if (sel == activeSp) return;
  const cur = load<u64>(X_BASE + 31 * 8);
  store<u64>(activeSp == 0 ? SP_EL0_SLOT : SP_EL1_SLOT, cur);
  store<u64>(X_BASE + 31 * 8, load<u64>(sel == 0 ? SP_EL0_SLOT : SP_EL1_SLOT));
  activeSp = sel;
}

/** Reads SP_ELn whether or not it is the active one. */
export function getBankedSp(el: u32): u64 {
  if (el == activeSp) return load<u64>(X_BASE + 31 * 8);
  return load<u64>(el == 0 ? SP_EL0_SLOT : SP_EL1_SLOT);
}

/** Writes SP_ELn whether or not it is the active one. */
export function setBankedSp(el: u32, v: u64): void {
  if (el == activeSp) store<u64>(X_BASE + 31 * 8, v);
  else store<u64>(el == 0 ? SP_EL0_SLOT : SP_EL1_SLOT, v);
}
