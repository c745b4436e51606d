// Whole-vector fast paths, with wasm SIMD, for the integer three-same operations compilers and
// string functions use most. Each computes exactly what the element-by-element definition in
// simd-integer.ts computes; fastPathTaken says whether the operation was handled here.
import { FPSR_QC, raiseFpsr } from "./state";

export let fastPathTaken = false;

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
 * The three-same integer operation `opcode` (bits 15:11) on whole vectors, or any value with
 * fastPathTaken = false when it has no fast path for this opcode and size.
 */
export function threeSameVector(opcode: u32, u: bool, size: u32, a: v128, b: v128, q: bool): v128 {
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
