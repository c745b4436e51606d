// Fast paths for FADD/FSUB/FMUL (scalar and vector lanes) on wasm's own f64 arithmetic, taken only
// where it provably gives the ARM result: FPCR selects round-to-nearest without flush-to-zero, both
// operands are normal numbers, and the result neither overflows nor comes near the subnormal
// range (so OFC, UFC, IDC and IOC cannot arise). IXC is then decided exactly: by TwoSum for sums,
// by the odd parts of the significands for products. Single precision is computed in double,
// where sums are exact or round innocuously (53 ≥ 2·24 + 2) and products are exact.
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
