// Element-wise integer operations shared by the Advanced SIMD vector and scalar forms:
// saturation (which sets FPSR.QC), shifts by a signed register amount, doubling multiplies.
import { FPSR_QC, raiseFpsr } from "./state";

export function elementMask(size: u32): u64 {
  return size == 3 ? <u64>-1 : ((<u64>1) << (8 << size)) - 1;
}

/** The element value sign-extended from 8 << size bits. */
export function signed(v: u64, size: u32): i64 {
  const s = <u64>(64 - (8 << size));
  return (<i64>(v << s)) >> s;
}

/** Clamps to the signed range of 8 << size bits (size < 3), setting QC when it saturates. */
export function saturateSigned(v: i64, size: u32): u64 {
  const bits: u32 = 8 << size;
  const max = ((<i64>1) << (bits - 1)) - 1;
  const min = -((<i64>1) << (bits - 1));
  if (v > max) {
    raiseFpsr(FPSR_QC);
    return (<u64>max) & elementMask(size);
  }
  if (v < min) {
    raiseFpsr(FPSR_QC);
    return (<u64>min) & elementMask(size);
  }
  return (<u64>v) & elementMask(size);
}

/** Clamps an unsigned value to 8 << size bits (size < 3), setting QC when it saturates. */
export function saturateUnsignedNarrow(v: u64, size: u32): u64 {
  if (v > elementMask(size)) {
    raiseFpsr(FPSR_QC);
    return elementMask(size);
  }
  return v;
}

/** Clamps a signed intermediate to the unsigned range of 8 << size bits (size < 3). */
export function saturateUnsigned(v: i64, size: u32): u64 {
  const max = elementMask(size);
  if (v < 0) {
    raiseFpsr(FPSR_QC);
    return 0;
  }
  if (<u64>v > max) {
    raiseFpsr(FPSR_QC);
    return max;
  }
  return <u64>v;
}

export function saturatedSignedLimit(negative: bool, size: u32): u64 {
  raiseFpsr(FPSR_QC);
  const bits: u32 = 8 << size;
  return negative ? ((<u64>1) << (bits - 1)) & elementMask(size) : ((<u64>1) << (bits - 1)) - 1;
}

export function sqadd(a: u64, b: u64, size: u32): u64 {
  if (size < 3) return saturateSigned(signed(a, size) + signed(b, size), size);
  const r = a + b;
  if ((~(a ^ b) & (a ^ r)) >> 63) return saturatedSignedLimit(<i64>a < 0, 3);
  return r;
}

export function uqadd(a: u64, b: u64, size: u32): u64 {
  const r = (a + b) & elementMask(size);
  if (r < a) {
    raiseFpsr(FPSR_QC);
    return elementMask(size);
  }
  return r;
}

export function sqsub(a: u64, b: u64, size: u32): u64 {
  if (size < 3) return saturateSigned(signed(a, size) - signed(b, size), size);
  const r = a - b;
  if (((a ^ b) & (a ^ r)) >> 63) return saturatedSignedLimit(<i64>a < 0, 3);
  return r;
}

export function uqsub(a: u64, b: u64): u64 {
  if (a < b) {
    raiseFpsr(FPSR_QC);
    return 0;
  }
  return a - b;
}

/** SUQADD: signed a plus unsigned b, saturated to signed. */
export function suqadd(a: u64, b: u64, size: u32): u64 {
  if (size < 3) return saturateSigned(signed(a, size) + <i64>b, size);
  // Only positive overflow is possible: b is non-negative.
  const sa = <i64>a;
  const limit: u64 = sa >= 0 ? <u64>(i64.MAX_VALUE - sa) : <u64>i64.MAX_VALUE + <u64>-sa;
  if (b > limit) return saturatedSignedLimit(false, 3);
  return a + b;
}

/** USQADD: unsigned a plus signed b, saturated to unsigned. */
export function usqadd(a: u64, b: u64, size: u32): u64 {
  const sb = signed(b, size);
  if (size < 3) return saturateUnsigned(<i64>a + sb, size);
  if (sb >= 0) return uqadd(a, b, 3);
  const mag = <u64>-sb;
  return uqsub(a, mag);
}

/**
 * The register-controlled shifts (SSHL, USHL, SRSHL, URSHL, SQSHL, UQSHL, SQRSHL, UQRSHL):
 * shift by the signed low byte of `amount`, right when negative.
 */
export function shiftByRegister(
  a: u64,
  amount: u64,
  size: u32,
  isSigned: bool,
  rounding: bool,
  saturating: bool,
): u64 {
  const shift = <i32>(<i8>amount);
  const bits = <i32>(8 << size);
  const mask = elementMask(size);
  if (shift >= 0) return shiftLeft(a, <u32>shift, size, isSigned, saturating);
  const n = -shift;
  if (isSigned) {
    const v = signed(a, size);
    if (n >= bits) return rounding ? 0 : (<u64>(v >> 63)) & mask;
    const r = (v >> n) + (rounding ? (v >> (n - 1)) & 1 : 0);
    return (<u64>r) & mask;
  }
  if (n > bits) return 0;
  if (n == bits) return rounding ? a >> (<u64>(bits - 1)) : 0;
  return ((a >> (<u64>n)) + (rounding ? (a >> (<u64>(n - 1))) & 1 : 0)) & mask;
}

/** Left shift of an element, optionally saturating (SQSHL/UQSHL semantics for the signedness). */
export function shiftLeft(a: u64, shift: u32, size: u32, isSigned: bool, saturating: bool): u64 {
  const bits: u32 = 8 << size;
  const mask = elementMask(size);
  if (!saturating) return shift >= bits ? 0 : (a << shift) & mask;
  if (isSigned) {
    const v = signed(a, size);
    if (v == 0) return 0;
    if (shift >= bits) return saturatedSignedLimit(v < 0, size);
    const r = v << shift;
    if (r >> shift != v || signed((<u64>r) & mask, size) != r) return saturatedSignedLimit(v < 0, size);
    return (<u64>r) & mask;
  }
  if (a == 0) return 0;
  if (shift >= bits) {
    raiseFpsr(FPSR_QC);
    return mask;
  }
  const r = a << shift;
  if (r >> shift != a || (r & ~mask) != 0) {
    raiseFpsr(FPSR_QC);
    return mask;
  }
  return r;
}

/** SQSHLU: signed input, unsigned saturated left shift. */
export function shiftLeftSignedToUnsigned(a: u64, shift: u32, size: u32): u64 {
  const v = signed(a, size);
  if (v < 0) {
    raiseFpsr(FPSR_QC);
    return 0;
  }
  return shiftLeft(<u64>v, shift, size, false, true);
}

/** SQDMULH/SQRDMULH: high half of 2·a·b (rounded), saturating the one overflowing case. */
export function sqdmulh(a: u64, b: u64, size: u32, rounding: bool): u64 {
  const bits: u32 = 8 << size;
  const x = signed(a, size);
  const y = signed(b, size);
  const min: i64 = -((<i64>1) << bits) >> 1;
  if (x == min && y == min) {
    raiseFpsr(FPSR_QC);
    return elementMask(size) >> 1;
  }
  const roundingTerm: i64 = rounding ? (<i64>1) << (bits - 1) : 0;
  const p = 2 * x * y + roundingTerm;
  return (<u64>(p >> bits)) & elementMask(size);
}

/** SQDMULL: 2·a·b at double width, saturating. */
export function sqdmull(a: u64, b: u64, size: u32): u64 {
  const x = signed(a, size);
  const y = signed(b, size);
  const min = -((<i64>1) << ((8 << size) - 1));
  if (x == min && y == min) return saturatedSignedLimit(false, size + 1);
  return (<u64>(2 * x * y)) & elementMask(size + 1);
}

/** Polynomial (carry-less) multiply of two bytes; the 16-bit product. */
export function polyMul8(a: u64, b: u64): u64 {
  let r: u64 = 0;
  for (let i: u64 = 0; i < 8; i++) if ((b >> i) & 1) r ^= a << i;
  return r;
}

/** CLS: leading sign bits (not counting the sign bit itself). */
export function countLeadingSign(a: u64, size: u32): u64 {
  const bits = <u64>(8 << size);
  const v = <u64>signed(a, size);
  const x = (v ^ (v << 1)) | 1;
  return <u64>clz(x << (64 - bits));
}

export function countLeadingZeros(a: u64, size: u32): u64 {
  const bits = <u64>(8 << size);
  if (a == 0) return bits;
  return <u64>clz(a) - (64 - bits);
}

/** Reverses bits within each byte (RBIT). */
export function reverseBitsInByte(a: u64): u64 {
  let r: u64 = 0;
  for (let i: u64 = 0; i < 8; i++) r |= ((a >> i) & 1) << (7 - i);
  return r;
}
