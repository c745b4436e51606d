// Fast paths for FADD/FSUB/FMUL/FDIV/FSQRT (scalar and vector lanes) on wasm's own f64 arithmetic, taken only
// where it provably gives the ARM result: FPCR selects round-to-nearest without flush-to-zero, both
// operands are normal numbers, and the result neither overflows nor comes near the subnormal
// range (so OFC, UFC, IDC, IOC and DZC cannot arise). IXC is then decided exactly: by TwoSum for
// sums, by the odd parts of the significands for products, quotients and roots. Single precision is
// computed in double, where results round innocuously (53 ≥ 2·24 + 2) and products are exact.
import { FPCR_FZ, FPSR_IXC, fpcr, raiseFpsr } from "./state";

/** Whether the last call produced the result; when false the caller takes the soft-float path. */
export let nativeDone = false;

const FPCR_RMODE_AND_FZ: u32 = FPCR_FZ | (3 << 22);

function normalDouble(bits: u64): bool {
  return ((bits >> 52) & 0x7ff) - 1 < 0x7fe;
}

function normalSingle(bits: u64): bool {
  return ((bits >> 23) & 0xff) - 1 < 0xfe;
}

/** x + y exactly representable? (Knuth's TwoSum error is exactly zero.) */
function sumIsExact(x: f64, y: f64, r: f64): bool {
  const bb = r - x;
  return x - (r - bb) + (y - bb) == 0;
}

/** FADD/FSUB of two doubles (isDouble) or singles; `b` already negated for FSUB. */
export function nativeAdd(a: u64, b: u64, isDouble: bool): u64 {
  nativeDone = false;
  if ((fpcr() & FPCR_RMODE_AND_FZ) != 0) return 0;
  if (isDouble) {
    if (!normalDouble(a) || !normalDouble(b)) return 0;
    const x = reinterpret<f64>(a);
    const y = reinterpret<f64>(b);
    const r = x + y;
    const bits = reinterpret<u64>(r);
    if (((bits >> 52) & 0x7ff) == 0x7ff) return 0; // overflow
    // A tiny sum of normal numbers is a multiple of the smallest subnormal, hence exact.
    if (!sumIsExact(x, y, r)) raiseFpsr(FPSR_IXC);
    nativeDone = true;
    return bits;
  }
  if (!normalSingle(a) || !normalSingle(b)) return 0;
  const x = <f64>reinterpret<f32>(<u32>a);
  const y = <f64>reinterpret<f32>(<u32>b);
  const wide = x + y;
  const r = <f32>wide;
  const bits = reinterpret<u32>(r);
  if (((bits >> 23) & 0xff) == 0xff) return 0;
  if (!sumIsExact(x, y, wide) || <f64>r != wide) raiseFpsr(FPSR_IXC);
  nativeDone = true;
  return <u64>bits;
}

/** Whether the product of two significands (with implicit bits) fits in `precision` bits. */
function productIsExact(ma: u64, mb: u64, precision: u32): bool {
  const oa = ma >> ctz(ma);
  const ob = mb >> ctz(mb);
  const length = <u32>(128 - clz(oa) - clz(ob));
  if (length <= precision) return true;
  if (length > precision + 1) return false;
  return oa * ob < (<u64>1) << precision;
}

/** FMUL of two doubles or singles. */
export function nativeMul(a: u64, b: u64, isDouble: bool): u64 {
  nativeDone = false;
  if ((fpcr() & FPCR_RMODE_AND_FZ) != 0) return 0;
  if (isDouble) {
    if (!normalDouble(a) || !normalDouble(b)) return 0;
    const r = reinterpret<f64>(a) * reinterpret<f64>(b);
    const bits = reinterpret<u64>(r);
    // Below 2^-1021 the unrounded product may have been tiny; at the top it may overflow.
    const e = (bits >> 52) & 0x7ff;
    if (e < 2 || e == 0x7ff) return 0;
    const implicit: u64 = (<u64>1) << 52;
    const fraction: u64 = implicit - 1;
    if (!productIsExact((a & fraction) | implicit, (b & fraction) | implicit, 53)) raiseFpsr(FPSR_IXC);
    nativeDone = true;
    return bits;
  }
  if (!normalSingle(a) || !normalSingle(b)) return 0;
  const wide = <f64>reinterpret<f32>(<u32>a) * <f64>reinterpret<f32>(<u32>b); // exact
  const r = <f32>wide;
  const bits = reinterpret<u32>(r);
  const e = (bits >> 23) & 0xff;
  if (e < 2 || e == 0xff) return 0;
  if (<f64>r != wide) raiseFpsr(FPSR_IXC);
  nativeDone = true;
  return <u64>bits;
}

function oddPart(m: u64): u64 {
  return m >> ctz(m);
}

function bitLength(v: u64): u32 {
  return <u32>(64 - clz(v));
}

/**
 * Whether a · b == c exactly for significands (with implicit bits) of values already known to be
 * within rounding error of each other: then equality of the odd parts decides it.
 */
function productEquals(a: u64, b: u64, c: u64): bool {
  const oa = oddPart(a);
  const ob = oddPart(b);
  if (bitLength(oa) + bitLength(ob) > 54) return false; // the product has more bits than c can
  return oa * ob == oddPart(c);
}

const DOUBLE_IMPLICIT: u64 = (<u64>1) << 52;

function doubleSignificand(bits: u64): u64 {
  return (bits & (DOUBLE_IMPLICIT - 1)) | DOUBLE_IMPLICIT;
}

/** A result whose exponent field is in [2, max − 1]: no overflow, and never tiny before rounding. */
function safeDouble(bits: u64): bool {
  const e = (bits >> 52) & 0x7ff;
  return e >= 2 && e < 0x7ff;
}

function safeSingle(bits: u32): bool {
  const e = (bits >> 23) & 0xff;
  return e >= 2 && e < 0xff;
}

/** FDIV of two doubles or singles; the quotient is exact exactly when quotient × divisor = dividend. */
export function nativeDiv(a: u64, b: u64, isDouble: bool): u64 {
  nativeDone = false;
  if ((fpcr() & FPCR_RMODE_AND_FZ) != 0) return 0;
  if (isDouble) {
    if (!normalDouble(a) || !normalDouble(b)) return 0;
    const bits = reinterpret<u64>(reinterpret<f64>(a) / reinterpret<f64>(b));
    if (!safeDouble(bits)) return 0;
    if (!productEquals(doubleSignificand(bits), doubleSignificand(b), doubleSignificand(a)))
      raiseFpsr(FPSR_IXC);
    nativeDone = true;
    return bits;
  }
  if (!normalSingle(a) || !normalSingle(b)) return 0;
  const x = <f64>reinterpret<f32>(<u32>a);
  const y = <f64>reinterpret<f32>(<u32>b);
  const r = <f32>(x / y);
  const bits = reinterpret<u32>(r);
  if (!safeSingle(bits)) return 0;
  if (<f64>r * y != x) raiseFpsr(FPSR_IXC); // the product of two singles is exact in double
  nativeDone = true;
  return <u64>bits;
}

/** FSQRT of a positive double or single; the root is exact exactly when its square is the operand. */
export function nativeSqrt(a: u64, isDouble: bool): u64 {
  nativeDone = false;
  if ((fpcr() & FPCR_RMODE_AND_FZ) != 0) return 0;
  if (isDouble) {
    if (!normalDouble(a) || a >> 63) return 0;
    const bits = reinterpret<u64>(sqrt<f64>(reinterpret<f64>(a)));
    const m = doubleSignificand(bits);
    if (!productEquals(m, m, doubleSignificand(a))) raiseFpsr(FPSR_IXC);
    nativeDone = true;
    return bits;
  }
  if (!normalSingle(a) || (a >> 31) & 1) return 0;
  const x = <f64>reinterpret<f32>(<u32>a);
  const r = <f32>sqrt<f64>(x);
  if (<f64>r * <f64>r != x) raiseFpsr(FPSR_IXC);
  nativeDone = true;
  return <u64>reinterpret<u32>(r);
}
