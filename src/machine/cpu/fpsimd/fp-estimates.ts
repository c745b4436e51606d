// Reciprocal and reciprocal square root estimates and Newton-Raphson steps (FRECPE, FRSQRTE,
// FRECPX, URECPE, URSQRTE, FRECPS, FRSQRTS), bit-exact to the ARM ARM's RecipEstimate and
// RecipSqrtEstimate integer algorithms (8-bit estimates, as without FEAT_RPRES).
import {
  CLS_INF,
  CLS_ZERO,
  FMT_D,
  fracBits,
  fpMulAdd,
  fpNeg,
  infinity,
  isNaNClass,
  processNaN,
  signBit,
  unpack,
  uSign,
  zero,
  defaultNaN,
  maxNormal,
  processNaNs2,
  nanDone,
} from "./softfloat";
import {
  FPCR_FZ,
  FPSR_DZC,
  FPSR_IOC,
  FPSR_IXC,
  FPSR_OFC,
  FPSR_UFC,
  RM_NEGINF,
  RM_POSINF,
  RM_TIEEVEN,
  fpcr,
  fpcrRounding,
  raiseFpsr,
} from "./state";

/** RecipEstimate: a in [256, 512) representing [0.5, 1.0) → r in [256, 512) representing [1.0, 2.0). */
function recipEstimate(a: u32): u32 {
  const b = (1 << 19) / (a * 2 + 1);
  return (b + 1) >> 1;
}

/** RecipSqrtEstimate: a in [128, 512) representing [0.25, 1.0) → r in [256, 512). */
function recipSqrtEstimate(a: u32): u32 {
  let scaled: u64;
  if (a < 256) scaled = <u64>(a * 2 + 1);
  else scaled = <u64>((((a >> 1) << 1) + 1) * 2);
  let b: u64 = 512;
  while (scaled * (b + 1) * (b + 1) < (<u64>1) << 28) b++;
  return <u32>((b + 1) >> 1);
}

/** The exponent and 52-bit fraction fields of a single or double, the single's fraction left-aligned. */
let fieldExp: i32 = 0;
let fieldFraction: u64 = 0;

function splitFields(op: u64, fmt: u32): void {
  if (fmt == FMT_D) {
    fieldFraction = op & 0xfffffffffffff;
    fieldExp = <i32>((op >> 52) & 0x7ff);
  } else {
    fieldFraction = (op & 0x7fffff) << 29;
    fieldExp = <i32>((op >> 23) & 0xff);
  }
}

function packFields(sign: u32, exp: i32, fraction52: u64, fmt: u32): u64 {
  const s: u64 = sign ? signBit(fmt) : 0;
  if (fmt == FMT_D) return s | (((<u64>exp) & 0x7ff) << 52) | (fraction52 & 0xfffffffffffff);
  return s | (((<u64>exp) & 0xff) << 23) | ((fraction52 >> 29) & 0x7fffff);
}

/** FPRecipEstimate (FRECPE). */
export function fpRecipEstimate(op: u64, fmt: u32): u64 {
  const cls = unpack(op, fmt);
  const sign = uSign;
  if (isNaNClass(cls)) return processNaN(op, cls, fmt);
  if (cls == CLS_INF) return zero(sign, fmt);
  if (cls == CLS_ZERO) {
    raiseFpsr(FPSR_DZC);
    return infinity(sign, fmt);
  }
  const isDouble = fmt == FMT_D;
  const magnitude = op & (signBit(fmt) - 1);
  // |value| < 2^-128 (single) or 2^-1024 (double): the reciprocal overflows.
  const tiny = isDouble ? magnitude < 0x0004000000000000 : magnitude < 0x00200000;
  if (tiny) {
    const rmode = fpcrRounding();
    const toInfinity =
      rmode == RM_TIEEVEN || (rmode == RM_POSINF && sign == 0) || (rmode == RM_NEGINF && sign != 0);
    raiseFpsr(FPSR_OFC | FPSR_IXC);
    return toInfinity ? infinity(sign, fmt) : maxNormal(sign, fmt);
  }
  // |value| ≥ 2^126 (single) or 2^1022 (double) with flush-to-zero: the reciprocal underflows.
  const huge = isDouble ? magnitude >= 0x7fd0000000000000 : magnitude >= 0x7e800000;
  if ((fpcr() & FPCR_FZ) != 0 && huge) {
    raiseFpsr(FPSR_UFC);
    return zero(sign, fmt);
  }
  splitFields(op, fmt);
  let exp = fieldExp;
  let fraction = fieldFraction;
  if (exp == 0) {
    if (((fraction >> 51) & 1) == 0) {
      exp = -1;
      fraction = (fraction << 2) & 0xfffffffffffff;
    } else {
      fraction = (fraction << 1) & 0xfffffffffffff;
    }
  }
  const scaled = <u32>(0x100 | ((fraction >> 44) & 0xff));
  let resultExp = (isDouble ? 2045 : 253) - exp;
  const estimate = recipEstimate(scaled);
  let resultFraction = (<u64>(estimate & 0xff)) << 44;
  if (resultExp == 0) {
    resultFraction = ((<u64>1) << 51) | (resultFraction >> 1);
  } else if (resultExp == -1) {
    resultFraction = ((<u64>1) << 50) | (resultFraction >> 2);
    resultExp = 0;
  }
  return packFields(sign, resultExp, resultFraction, fmt);
}

/** FPRSqrtEstimate (FRSQRTE). */
export function fpRSqrtEstimate(op: u64, fmt: u32): u64 {
  const cls = unpack(op, fmt);
  const sign = uSign;
  if (isNaNClass(cls)) return processNaN(op, cls, fmt);
  if (cls == CLS_ZERO) {
    raiseFpsr(FPSR_DZC);
    return infinity(sign, fmt);
  }
  if (sign) {
    raiseFpsr(FPSR_IOC);
    return defaultNaN(fmt);
  }
  if (cls == CLS_INF) return zero(0, fmt);
  splitFields(op, fmt);
  let exp = fieldExp;
  let fraction = fieldFraction;
  if (exp == 0) {
    while (((fraction >> 51) & 1) == 0) {
      fraction = (fraction << 1) & 0xfffffffffffff;
      exp--;
    }
    fraction = (fraction << 1) & 0xfffffffffffff;
  }
  // Even exponents scale the fraction to [0.5, 1), odd ones to [0.25, 0.5), in 1/512 steps.
  const scaled = (exp & 1) == 0 ? <u32>(0x100 | (fraction >> 44)) : <u32>(0x80 | (fraction >> 45));
  const resultExp = ((fmt == FMT_D ? 3068 : 380) - exp) >> 1;
  const estimate = recipSqrtEstimate(scaled);
  return packFields(0, resultExp, (<u64>(estimate & 0xff)) << 44, fmt);
}

/** FPRecpX (FRECPX): the exponent inverted, fraction cleared. */
export function fpRecpX(op: u64, fmt: u32): u64 {
  const cls = unpack(op, fmt);
  if (isNaNClass(cls)) return processNaN(op, cls, fmt);
  const f = fracBits(fmt);
  const expMask: u64 = fmt == FMT_D ? 0x7ff : 0xff;
  const exp = (op >> f) & expMask;
  const resultExp = exp == 0 ? expMask - 1 : ~exp & expMask;
  return (op & signBit(fmt)) | (resultExp << f);
}

/** UnsignedRecipEstimate (URECPE) on a 32-bit element. */
export function unsignedRecipEstimate(v: u64): u64 {
  if (((v >> 31) & 1) == 0) return 0xffffffff;
  return (<u64>recipEstimate(<u32>((v >> 23) & 0x1ff))) << 23;
}

/** UnsignedRSqrtEstimate (URSQRTE) on a 32-bit element. */
export function unsignedRSqrtEstimate(v: u64): u64 {
  if (((v >> 30) & 3) == 0) return 0xffffffff;
  return (<u64>recipSqrtEstimate(<u32>((v >> 23) & 0x1ff))) << 23;
}

/** FPRecipStepFused (FRECPS: 2 − a·b) or FPRSqrtStepFused (FRSQRTS: (3 − a·b) / 2). */
export function fpStepFused(a: u64, b: u64, fmt: u32, sqrtStep: bool): u64 {
  const negA = fpNeg(a, fmt);
  const cls1 = unpack(negA, fmt);
  const cls2 = unpack(b, fmt);
  const nan = processNaNs2(negA, cls1, b, cls2, fmt);
  if (nanDone) return nan;
  const f = fracBits(fmt);
  const biasValue: u64 = fmt == FMT_D ? 1023 : 127;
  if ((cls1 == CLS_INF && cls2 == CLS_ZERO) || (cls1 == CLS_ZERO && cls2 == CLS_INF)) {
    // 2.0, or 1.5 for the square-root step.
    return sqrtStep ? (biasValue << f) | ((<u64>1) << (f - 1)) : (biasValue + 1) << f;
  }
  const constant = sqrtStep ? ((biasValue + 1) << f) | ((<u64>1) << (f - 1)) : (biasValue + 1) << f;
  return fpMulAdd(constant, negA, b, fmt, sqrtStep ? -1 : 0);
}
