// The SIMD&FP register file of the current vCPU: V0–V31 (128 bits each), FPCR and FPSR.
// All of it lives in one block of linear memory so the core can give each vCPU its own
// block and switch between them by moving one pointer (bindFpSimdState).

/** Bytes of one vCPU's SIMD&FP state: 32 × 16 bytes of V registers, then FPCR and FPSR. */
export const FPSIMD_STATE_BYTES: u32 = 32 * 16 + 16;
const FPCR_OFFSET: usize = 32 * 16;
const FPSR_OFFSET: usize = 32 * 16 + 4;

let stateBase: usize = memory.data(FPSIMD_STATE_BYTES, 16);

/** Makes the SIMD&FP state at `base` (FPSIMD_STATE_BYTES, 16-byte aligned, zeroed for reset) current. */
export function bindFpSimdState(base: usize): void {
  stateBase = base;
}

// FPCR fields (ARMv8.0-A; the trap enables are RAZ/WI because no exception traps are implemented).
// Len (18:16) and Stride (21:20) only matter to AArch32, but are kept for context switching, as a
// Cortex-A53 (and qemu's model of it) does; so are FPSR's AArch32 condition flags (31:28).
export const FPCR_AHP: u32 = 1 << 26;
export const FPCR_DN: u32 = 1 << 25;
export const FPCR_FZ: u32 = 1 << 24;
const FPCR_RMODE_SHIFT: u32 = 22;
const FPCR_LEN_STRIDE: u32 = (3 << 20) | (7 << 16);
const FPCR_WRITABLE: u32 = FPCR_AHP | FPCR_DN | FPCR_FZ | (3 << FPCR_RMODE_SHIFT) | FPCR_LEN_STRIDE;

// FPSR cumulative flags.
export const FPSR_IOC: u32 = 1 << 0;
export const FPSR_DZC: u32 = 1 << 1;
export const FPSR_OFC: u32 = 1 << 2;
export const FPSR_UFC: u32 = 1 << 3;
export const FPSR_IXC: u32 = 1 << 4;
export const FPSR_IDC: u32 = 1 << 7;
export const FPSR_QC: u32 = 1 << 27;
const FPSR_AARCH32_NZCV: u32 = 0xf0000000;
const FPSR_WRITABLE: u32 = FPSR_AARCH32_NZCV | FPSR_QC | FPSR_IDC | 0x1f;

// Rounding modes, numbered as FPCR.RMode, plus ties-away (FCVTA*/FRINTA) and round to odd (FCVTXN).
export const RM_TIEEVEN: u32 = 0;
export const RM_POSINF: u32 = 1;
export const RM_NEGINF: u32 = 2;
export const RM_ZERO: u32 = 3;
export const RM_TIEAWAY: u32 = 4;
/** Round to odd (FCVTXN): truncate, then set the lowest bit when inexact. */
export const RM_ODD: u32 = 5;

export function vAddr(n: u32): usize {
  return stateBase + ((<usize>n) << 4);
}

export function getVLo(n: u32): u64 {
  return load<u64>(vAddr(n));
}

export function getVHi(n: u32): u64 {
  return load<u64>(vAddr(n), 8);
}

export function setV(n: u32, lo: u64, hi: u64): void {
  const a = vAddr(n);
  store<u64>(a, lo);
  store<u64>(a, hi, 8);
}

export function readFpcr(): u64 {
  return <u64>load<u32>(stateBase + FPCR_OFFSET);
}

export function writeFpcr(v: u64): void {
  store<u32>(stateBase + FPCR_OFFSET, (<u32>v) & FPCR_WRITABLE);
}

export function readFpsr(): u64 {
  return <u64>load<u32>(stateBase + FPSR_OFFSET);
}

export function writeFpsr(v: u64): void {
  store<u32>(stateBase + FPSR_OFFSET, (<u32>v) & FPSR_WRITABLE);
}

export function fpcr(): u32 {
  return load<u32>(stateBase + FPCR_OFFSET);
}

export function fpcrRounding(): u32 {
  return (fpcr() >> FPCR_RMODE_SHIFT) & 3;
}

/** Accumulates exception flags into FPSR (they are sticky until software clears them). */
export function raiseFpsr(flags: u32): void {
  const a = stateBase + FPSR_OFFSET;
  store<u32>(a, load<u32>(a) | flags);
}

/** Writes a scalar result of 1, 2, 4 or 8 bytes; the rest of the V register becomes zero. */
export function setScalar(n: u32, v: u64, bytes: u32): void {
  const a = vAddr(n);
  store<u64>(a, bytes == 8 ? v : v & (((<u64>1) << (bytes * 8)) - 1));
  store<u64>(a, 0, 8);
}

/** Element `index` of size 1 << sizeLog2 bytes of register n, zero-extended. */
export function getElem(n: u32, index: u32, sizeLog2: u32): u64 {
  const a = vAddr(n) + ((<usize>index) << sizeLog2);
  if (sizeLog2 == 0) return <u64>load<u8>(a);
  if (sizeLog2 == 1) return <u64>load<u16>(a);
  if (sizeLog2 == 2) return <u64>load<u32>(a);
  return load<u64>(a);
}

/** Element of register n, sign-extended to 64 bits. */
export function getElemSigned(n: u32, index: u32, sizeLog2: u32): i64 {
  const a = vAddr(n) + ((<usize>index) << sizeLog2);
  if (sizeLog2 == 0) return <i64>load<i8>(a);
  if (sizeLog2 == 1) return <i64>load<i16>(a);
  if (sizeLog2 == 2) return <i64>load<i32>(a);
  return load<i64>(a);
}

export function setElem(n: u32, index: u32, sizeLog2: u32, v: u64): void {
  storeElemAt(vAddr(n) + ((<usize>index) << sizeLog2), sizeLog2, v);
}

function storeElemAt(a: usize, sizeLog2: u32, v: u64): void {
  if (sizeLog2 == 0) store<u8>(a, <u8>v);
  else if (sizeLog2 == 1) store<u16>(a, <u16>v);
  else if (sizeLog2 == 2) store<u32>(a, <u32>v);
  else store<u64>(a, v);
}

// Vector results are built in a scratch register first because the destination may also be
// a source; commitResult then copies it out and zeroes the upper half for 64-bit forms.
const scratch: usize = memory.data(32, 16);
/** Where whole-vector results are stored (v128.store) before commitResult. */
export const RESULT_VECTOR: usize = scratch;

export function setResultElem(index: u32, sizeLog2: u32, v: u64): void {
  storeElemAt(scratch + ((<usize>index) << sizeLog2), sizeLog2, v);
}

/** Starts a result from the current value of register d (for instructions that keep lanes). */
export function beginResultFrom(d: u32): void {
  v128.store(scratch, v128.load(vAddr(d)));
}

export function clearResult(): void {
  v128.store(scratch, i64x2.splat(0));
}

/** Copies the scratch result into register d; a 64-bit (Q = 0) result clears bits 127:64. */
export function commitResult(d: u32, q128: bool): void {
  const a = vAddr(d);
  store<u64>(a, load<u64>(scratch));
  store<u64>(a, q128 ? load<u64>(scratch, 8) : 0, 8);
}

export function getV128(n: u32): v128 {
  return v128.load(vAddr(n));
}
