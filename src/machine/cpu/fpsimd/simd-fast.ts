// Whole-vector fast paths, with wasm SIMD, for the integer three-same operations compilers and
// string functions use most. Each computes exactly what the element-by-element definition in
// simd-integer.ts computes.
import { FPSR_QC, RESULT_VECTOR, commitResult, getV128, raiseFpsr } from "./state";

let fastPathTaken = false;

function compareGreater(a: v128, b: v128, size: u32, unsigned: bool): v128 {
  if (size == 0) return unsigned ? i8x16.gt_u(a, b) : i8x16.gt_s(a, b);
  if (size == 1) return unsigned ? i16x8.gt_u(a, b) : i16x8.gt_s(a, b);
  if (size == 2) return unsigned ? i32x4.gt_u(a, b) : i32x4.gt_s(a, b);
  if (!unsigned) return i64x2.gt_s(a, b);
  // Unsigned 64-bit compare: flip the sign bits and compare signed.
  const bias = i64x2.splat(i64.MIN_VALUE);
  return i64x2.gt_s(v128.xor(a, bias), v128.xor(b, bias));
}

function equal(a: v128, b: v128, size: u32): v128 {
  if (size == 0) return i8x16.eq(a, b);
  if (size == 1) return i16x8.eq(a, b);
  if (size == 2) return i32x4.eq(a, b);
  return i64x2.eq(a, b);
}

/** Raises QC when a saturating result differs from the wrapping one in any lane that is kept. */
function saturated(sat: v128, wrapping: v128, q: bool): v128 {
  const changed = v128.xor(sat, wrapping);
  if (q ? v128.any_true(changed) : i64x2.extract_lane(changed, 0) != 0) raiseFpsr(FPSR_QC);
  return sat;
}

/**
 * Executes the three-same integer operation `opcode` (bits 15:11) on whole vectors,
 * Vd = Vn op Vm; false when it has no fast path for this opcode and size.
 */
export function threeSameFast(opcode: u32, u: bool, size: u32, n: u32, m: u32, d: u32, q: bool): bool {
  const r = threeSameVector(opcode, u, size, getV128(n), getV128(m), q);
  if (!fastPathTaken) return false;
  v128.store(RESULT_VECTOR, r);
  commitResult(d, q);
  return true;
}

function threeSameVector(opcode: u32, u: bool, size: u32, a: v128, b: v128, q: bool): v128 {
  fastPathTaken = true;
  switch (opcode) {
    case 0b10000: // ADD/SUB
      if (size == 0) return u ? i8x16.sub(a, b) : i8x16.add(a, b);
      if (size == 1) return u ? i16x8.sub(a, b) : i16x8.add(a, b);
      if (size == 2) return u ? i32x4.sub(a, b) : i32x4.add(a, b);
      return u ? i64x2.sub(a, b) : i64x2.add(a, b);
    case 0b10001: // CMTST/CMEQ
      return u ? equal(a, b, size) : v128.not(equal(v128.and(a, b), i64x2.splat(0), size));
    case 0b00110: // CMGT/CMHI
      return compareGreater(a, b, size, u);
    case 0b00111: // CMGE/CMHS
      return v128.not(compareGreater(b, a, size, u));
    case 0b00001: // SQADD/UQADD
      if (size == 0) return saturated(u ? i8x16.add_sat_u(a, b) : i8x16.add_sat_s(a, b), i8x16.add(a, b), q);
      if (size == 1) return saturated(u ? i16x8.add_sat_u(a, b) : i16x8.add_sat_s(a, b), i16x8.add(a, b), q);
      break;
    case 0b00101: // SQSUB/UQSUB
      if (size == 0) return saturated(u ? i8x16.sub_sat_u(a, b) : i8x16.sub_sat_s(a, b), i8x16.sub(a, b), q);
      if (size == 1) return saturated(u ? i16x8.sub_sat_u(a, b) : i16x8.sub_sat_s(a, b), i16x8.sub(a, b), q);
      break;
    case 0b01100: // SMAX/UMAX
      if (size == 0) return u ? i8x16.max_u(a, b) : i8x16.max_s(a, b);
      if (size == 1) return u ? i16x8.max_u(a, b) : i16x8.max_s(a, b);
      if (size == 2) return u ? i32x4.max_u(a, b) : i32x4.max_s(a, b);
      break;
    case 0b01101: // SMIN/UMIN
      if (size == 0) return u ? i8x16.min_u(a, b) : i8x16.min_s(a, b);
      if (size == 1) return u ? i16x8.min_u(a, b) : i16x8.min_s(a, b);
      if (size == 2) return u ? i32x4.min_u(a, b) : i32x4.min_s(a, b);
      break;
    case 0b10011: // MUL
      if (u) break;
      if (size == 1) return i16x8.mul(a, b);
      if (size == 2) return i32x4.mul(a, b);
      break;
  }
  fastPathTaken = false;
  return a;
}

/** The even-numbered and odd-numbered elements of the concatenation Vm:Vn (for pairwise ops). */
function evens(a: v128, b: v128, size: u32): v128 {
  if (size == 0) return i8x16.shuffle(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  if (size == 1) return i8x16.shuffle(a, b, 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29);
  if (size == 2) return i8x16.shuffle(a, b, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
  return i8x16.shuffle(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
}

function odds(a: v128, b: v128, size: u32): v128 {
  if (size == 0) return i8x16.shuffle(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  if (size == 1) return i8x16.shuffle(a, b, 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31);
  if (size == 2) return i8x16.shuffle(a, b, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
  return i8x16.shuffle(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
}

/**
 * ADDP, SMAXP/UMAXP, SMINP/UMINP (vector) on whole vectors. For 64-bit forms (Q = 0) the two
 * sources' low halves are packed into one vector first, so their pairs line up the same way.
 */
export function pairwiseFast(opcode: u32, u: bool, size: u32, n: u32, m: u32, d: u32, q: bool): bool {
  let a = getV128(n);
  let b = getV128(m);
  if (!q) {
    // Elements of Vn's low half, then Vm's, as one 128-bit "Vn" whose pairs give the 64-bit result.
    a = i64x2.replace_lane(a, 1, i64x2.extract_lane(b, 0));
    b = a;
  }
  const x = evens(a, b, size);
  const y = odds(a, b, size);
  let r: v128;
  if (opcode == 0b10111) {
    if (size == 0) r = i8x16.add(x, y);
    else if (size == 1) r = i16x8.add(x, y);
    else if (size == 2) r = i32x4.add(x, y);
    else r = i64x2.add(x, y);
  } else if (size == 3) {
    return false;
  } else if (opcode == 0b10100) {
    if (size == 0) r = u ? i8x16.max_u(x, y) : i8x16.max_s(x, y);
    else if (size == 1) r = u ? i16x8.max_u(x, y) : i16x8.max_s(x, y);
    else r = u ? i32x4.max_u(x, y) : i32x4.max_s(x, y);
  } else {
    if (size == 0) r = u ? i8x16.min_u(x, y) : i8x16.min_s(x, y);
    else if (size == 1) r = u ? i16x8.min_u(x, y) : i16x8.min_s(x, y);
    else r = u ? i32x4.min_u(x, y) : i32x4.min_s(x, y);
  }
  v128.store(RESULT_VECTOR, r);
  commitResult(d, q);
  return true;
}

/** SSHR/USHR (1 ≤ right ≤ element bits) and SHL on whole vectors; false for other shifts. */
export function shiftImmediateFast(
  opcode: u32,
  u: bool,
  size: u32,
  right: u32,
  left: u32,
  n: u32,
  d: u32,
  q: bool,
): bool {
  const a = getV128(n);
  const bitsInElement: u32 = 8 << size;
  let r: v128;
  if (opcode == 0b00000) {
    // An arithmetic shift by the full width gives the sign; a logical one gives zero.
    if (right == bitsInElement && u) r = i64x2.splat(0);
    else {
      const amount = right == bitsInElement ? right - 1 : right;
      if (size == 0) r = u ? i8x16.shr_u(a, amount) : i8x16.shr_s(a, amount);
      else if (size == 1) r = u ? i16x8.shr_u(a, amount) : i16x8.shr_s(a, amount);
      else if (size == 2) r = u ? i32x4.shr_u(a, amount) : i32x4.shr_s(a, amount);
      else r = u ? i64x2.shr_u(a, amount) : i64x2.shr_s(a, amount);
    }
  } else if (opcode == 0b01010 && !u) {
    if (size == 0) r = i8x16.shl(a, left);
    else if (size == 1) r = i16x8.shl(a, left);
    else if (size == 2) r = i32x4.shl(a, left);
    else r = i64x2.shl(a, left);
  } else {
    return false;
  }
  v128.store(RESULT_VECTOR, r);
  commitResult(d, q);
  return true;
}

/** TBL/TBX with 1–4 table registers, one swizzle per table register. */
export function tableLookupFast(tableRegs: u32, isTbx: bool, n: u32, m: u32, d: u32, q: bool): void {
  const indices = getV128(m);
  let r = i64x2.splat(0);
  for (let k: u32 = 0; k < tableRegs; k++) {
    // Indices below this register's range wrap to 240 and up, which swizzle maps to zero.
    const local = i8x16.sub(indices, i8x16.splat(<i8>(16 * k)));
    r = v128.or(r, i8x16.swizzle(getV128((n + k) & 31), local));
  }
  if (isTbx) {
    const outOfRange = i8x16.ge_u(indices, i8x16.splat(<i8>(16 * tableRegs)));
    r = v128.bitselect(getV128(d), r, outOfRange);
  }
  v128.store(RESULT_VECTOR, r);
  commitResult(d, q);
}

/**
 * SHRN/SHRN2: shifts each double-width element of Vn right by 1..narrow-bits and packs the low
 * halves into the low (Q = 0, upper half cleared) or high (Q = 1) half of Vd.
 */
export function shiftRightNarrowFast(size: u32, right: u32, n: u32, d: u32, q: bool): void {
  const a = getV128(n);
  let packed: v128;
  if (size == 0) {
    const w = i16x8.shr_u(a, right);
    packed = i8x16.shuffle(w, w, 0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
  } else if (size == 1) {
    const w = i32x4.shr_u(a, right);
    packed = i8x16.shuffle(w, w, 0, 1, 4, 5, 8, 9, 12, 13, 0, 1, 4, 5, 8, 9, 12, 13);
  } else {
    const w = i64x2.shr_u(a, right);
    packed = i8x16.shuffle(w, w, 0, 1, 2, 3, 8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11);
  }
  const low = i64x2.extract_lane(packed, 0);
  v128.store(RESULT_VECTOR, q ? i64x2.replace_lane(getV128(d), 1, low) : i64x2.replace_lane(packed, 1, 0));
  commitResult(d, q);
}

const ACROSS_ADD: u32 = 0;
const ACROSS_MAX: u32 = 1;
const ACROSS_MIN: u32 = 2;

function lanewise(kind: u32, u: bool, size: u32, a: v128, b: v128): v128 {
  if (kind == ACROSS_ADD) return size == 0 ? i8x16.add(a, b) : size == 1 ? i16x8.add(a, b) : i32x4.add(a, b);
  if (kind == ACROSS_MAX) {
    if (size == 0) return u ? i8x16.max_u(a, b) : i8x16.max_s(a, b);
    if (size == 1) return u ? i16x8.max_u(a, b) : i16x8.max_s(a, b);
    return u ? i32x4.max_u(a, b) : i32x4.max_s(a, b);
  }
  if (size == 0) return u ? i8x16.min_u(a, b) : i8x16.min_s(a, b);
  if (size == 1) return u ? i16x8.min_u(a, b) : i16x8.min_s(a, b);
  return u ? i32x4.min_u(a, b) : i32x4.min_s(a, b);
}

/**
 * ADDV, SMAXV/UMAXV, SMINV/UMINV by halving: each step folds the upper half of the live lanes onto
 * the lower half (the operations are associative and commutative, so the order is immaterial).
 * Returns the reduced element, zero-extended.
 */
export function acrossLanesFast(opcode: u32, u: bool, size: u32, n: u32, q: bool): u64 {
  const kind = opcode == 0b11011 ? ACROSS_ADD : opcode == 0b01010 ? ACROSS_MAX : ACROSS_MIN;
  let v = getV128(n);
  if (q)
    v = lanewise(
      kind,
      u,
      size,
      v,
      i8x16.shuffle(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15),
    );
  if (size < 2)
    v = lanewise(kind, u, size, v, i8x16.shuffle(v, v, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7));
  if (size < 1)
    v = lanewise(kind, u, size, v, i8x16.shuffle(v, v, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3));
  if (size == 0)
    return <u64>(
      i8x16.extract_lane_u(
        lanewise(kind, u, 0, v, i8x16.shuffle(v, v, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)),
        0,
      )
    );
  if (size == 1)
    return <u64>(
      i16x8.extract_lane_u(
        lanewise(kind, u, 1, v, i8x16.shuffle(v, v, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3)),
        0,
      )
    );
  return <u64>(
    (<u32>(
      i32x4.extract_lane(
        lanewise(kind, u, 2, v, i8x16.shuffle(v, v, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7)),
        0,
      )
    ))
  );
}
