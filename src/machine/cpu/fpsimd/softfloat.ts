// IEEE 754 arithmetic with the ARM ARM's exact semantics (FPUnpack, FPRound, FPProcessNaNs,
// FPMulAdd, ... in the pseudocode library), done on integers so every rounding mode, flush-to-zero,
// default-NaN mode and every FPSR flag comes out as the architecture says. wasm's own float
// instructions are not used: they round only to nearest, raise no flags and propagate NaNs
// differently.
//
// Values are passed around as raw bit patterns (u64) together with a format: FMT_H, FMT_S, FMT_D.
// Unpacked finite non-zero values are `sig * 2^exp` with sig's top set bit at bit 62.

import {
  fpcr,
  raiseFpsr,
  FPCR_AHP,
  FPCR_DN,
  FPCR_FZ,
  FPSR_DZC,
  FPSR_IDC,
  FPSR_IOC,
  FPSR_IXC,
  FPSR_OFC,
  FPSR_UFC,
  RM_NEGINF,
  RM_POSINF,
  RM_ODD,
  RM_TIEAWAY,
  RM_TIEEVEN,
  fpcrRounding,
} from "./state";
import { nativeAdd, nativeDiv, nativeDone, nativeMul, nativeSqrt } from "./native-fast";

export const FMT_H: u32 = 1;
export const FMT_S: u32 = 2;
export const FMT_D: u32 = 3;

export const CLS_ZERO: u32 = 0;
const CLS_NUMBER: u32 = 1;
export const CLS_INF: u32 = 2;
const CLS_QNAN: u32 = 3;
const CLS_SNAN: u32 = 4;

export function fracBits(fmt: u32): u32 {
  return fmt == FMT_D ? 52 : fmt == FMT_S ? 23 : 10;
}

function expBits(fmt: u32): u32 {
  return fmt == FMT_D ? 11 : fmt == FMT_S ? 8 : 5;
}

function bias(fmt: u32): i32 {
  return (1 << (expBits(fmt) - 1)) - 1;
}

export function signBit(fmt: u32): u64 {
  return (<u64>1) << ((8 << fmt) - 1);
}

function fracMask(fmt: u32): u64 {
  return ((<u64>1) << fracBits(fmt)) - 1;
}

function expMaskBits(fmt: u32): u64 {
  return (((<u64>1) << expBits(fmt)) - 1) << fracBits(fmt);
}

export function defaultNaN(fmt: u32): u64 {
  return expMaskBits(fmt) | ((<u64>1) << (fracBits(fmt) - 1));
}

export function infinity(sign: u32, fmt: u32): u64 {
  return (sign ? signBit(fmt) : 0) | expMaskBits(fmt);
}

export function zero(sign: u32, fmt: u32): u64 {
  return sign ? signBit(fmt) : 0;
}

export function maxNormal(sign: u32, fmt: u32): u64 {
  return (sign ? signBit(fmt) : 0) | (expMaskBits(fmt) - ((<u64>1) << fracBits(fmt))) | fracMask(fmt);
}

// ---------------------------------------------------------------------------------------------
// Unpacking (FPUnpack): results in these globals because AssemblyScript has no tuples.
export let uSign: u32 = 0;
let uExp: i32 = 0;
let uSig: u64 = 0;

/** Classifies `bits`, flushing a denormal input to zero (and raising IDC) when FPCR.FZ applies. */
export function unpack(bits: u64, fmt: u32): u32 {
  const f = fracBits(fmt);
  const frac = bits & fracMask(fmt);
  const e = <i32>((bits >> f) & ((1 << expBits(fmt)) - 1));
  uSign = <u32>((bits >> ((8 << fmt) - 1)) & 1);
  const emax = (1 << expBits(fmt)) - 1;
  // Half precision has no flush-to-zero in ARMv8.0 (FZ16 belongs to FEAT_FP16), and FPCR.AHP
  // turns its all-ones exponent into ordinary numbers.
  const alternativeHalf = fmt == FMT_H && (fpcr() & FPCR_AHP) != 0;
  if (e == emax && !alternativeHalf) {
    if (frac == 0) return CLS_INF;
    return ((frac >> (f - 1)) & 1) != 0 ? CLS_QNAN : CLS_SNAN;
  }
  let m: u64;
  let e0: i32;
  if (e == 0) {
    if (frac == 0) return CLS_ZERO;
    if (fmt != FMT_H && (fpcr() & FPCR_FZ) != 0) {
      raiseFpsr(FPSR_IDC);
      return CLS_ZERO;
    }
    m = frac;
    e0 = 1 - bias(fmt) - <i32>f;
  } else {
    m = frac | ((<u64>1) << f);
    e0 = e - bias(fmt) - <i32>f;
  }
  const s = <i32>clz(m) - 1;
  uSig = m << s;
  uExp = e0 - s;
  return CLS_NUMBER;
}

export function isNaNClass(cls: u32): bool {
  return cls >= CLS_QNAN;
}

// ---------------------------------------------------------------------------------------------
// Rounding (FPRound)

/** Shift right keeping a sticky bit: any 1 shifted out sets bit 0. */
function shiftRightJam(x: u64, n: u32): u64 {
  if (n == 0) return x;
  if (n >= 64) return x != 0 ? 1 : 0;
  return (x >> n) | (x << (64 - n) != 0 ? 1 : 0);
}

/**
 * Rounds sign × sig × 2^exp (sig ≠ 0) to `fmt` with rounding mode `rmode`, raising OFC, UFC and
 * IXC. Flush-to-zero follows FPCR.FZ for single and double; half precision never flushes.
 */
function roundPack(sign: u32, sig: u64, exp: i32, fmt: u32, rmode: u32): u64 {
  const lz = <i32>clz(sig);
  if (lz == 0) {
    sig = (sig >> 1) | (sig & 1);
    exp += 1;
  } else {
    sig <<= <u64>(lz - 1);
    exp -= lz - 1;
  }
  const f = fracBits(fmt);
  const exponent = exp + 62;
  const minExp = 1 - bias(fmt);
  const signPart = sign ? signBit(fmt) : 0;
  const control = fpcr();
  if (fmt != FMT_H && (control & FPCR_FZ) != 0 && exponent < minExp) {
    raiseFpsr(FPSR_UFC);
    return signPart;
  }
  let biasedExp = exponent - minExp + 1;
  let shift = <u32>(62 - f);
  if (biasedExp <= 0) {
    shift += <u32>(1 - biasedExp);
    biasedExp = 0;
  }
  let mant: u64;
  let rem: u64;
  let half: u64;
  if (shift >= 64) {
    mant = 0;
    rem = 1; // Non-zero and below half: sig < 2^63 ≤ half of the rounding unit.
    half = (<u64>1) << 63;
  } else {
    mant = sig >> shift;
    rem = sig & (((<u64>1) << shift) - 1);
    half = (<u64>1) << (shift - 1);
  }
  let roundUp = false;
  if (rmode == RM_TIEEVEN) roundUp = rem > half || (rem == half && (mant & 1) != 0);
  else if (rmode == RM_TIEAWAY) roundUp = rem >= half;
  else if (rmode == RM_POSINF) roundUp = rem != 0 && sign == 0;
  else if (rmode == RM_NEGINF) roundUp = rem != 0 && sign != 0;
  if (biasedExp == 0 && rem != 0) raiseFpsr(FPSR_UFC);
  if (roundUp) {
    mant++;
    if (mant == (<u64>1) << f) biasedExp = 1;
    if (mant == (<u64>1) << (f + 1)) {
      biasedExp++;
      mant >>= 1;
    }
  }
  if (rmode == RM_ODD && rem != 0) mant |= 1;
  const alternativeHalf = fmt == FMT_H && (control & FPCR_AHP) != 0;
  if (!alternativeHalf) {
    if (biasedExp >= (1 << expBits(fmt)) - 1) {
      raiseFpsr(FPSR_OFC | FPSR_IXC);
      const toInfinity =
        rmode == RM_TIEEVEN ||
        rmode == RM_TIEAWAY ||
        (rmode == RM_POSINF && sign == 0) ||
        (rmode == RM_NEGINF && sign != 0);
      return toInfinity ? infinity(sign, fmt) : maxNormal(sign, fmt);
    }
  } else if (biasedExp >= 1 << expBits(fmt)) {
    raiseFpsr(FPSR_IOC);
    return signPart | 0x7fff;
  }
  if (rem != 0) raiseFpsr(FPSR_IXC);
  return signPart | ((<u64>biasedExp) << f) | (mant & fracMask(fmt));
}

function roundFpcr(sign: u32, sig: u64, exp: i32, fmt: u32): u64 {
  return roundPack(sign, sig, exp, fmt, fpcrRounding());
}

// ---------------------------------------------------------------------------------------------
// NaNs (FPProcessNaN, FPProcessNaNs, FPProcessNaNs3)

export function processNaN(bits: u64, cls: u32, fmt: u32): u64 {
  if (cls == CLS_SNAN) raiseFpsr(FPSR_IOC);
  if (fpcr() & FPCR_DN) return defaultNaN(fmt);
  return bits | ((<u64>1) << (fracBits(fmt) - 1));
}

/** Set by processNaNs2/3: whether an operand was a NaN, so the returned value is the result. */
export let nanDone = false;

export function processNaNs2(a: u64, clsA: u32, b: u64, clsB: u32, fmt: u32): u64 {
  nanDone = true;
  if (clsA == CLS_SNAN) return processNaN(a, clsA, fmt);
  if (clsB == CLS_SNAN) return processNaN(b, clsB, fmt);
  if (clsA == CLS_QNAN) return processNaN(a, clsA, fmt);
  if (clsB == CLS_QNAN) return processNaN(b, clsB, fmt);
  nanDone = false;
  return 0;
}

function processNaNs3(a: u64, clsA: u32, b: u64, clsB: u32, c: u64, clsC: u32, fmt: u32): u64 {
  nanDone = true;
  if (clsA == CLS_SNAN) return processNaN(a, clsA, fmt);
  if (clsB == CLS_SNAN) return processNaN(b, clsB, fmt);
  if (clsC == CLS_SNAN) return processNaN(c, clsC, fmt);
  if (clsA == CLS_QNAN) return processNaN(a, clsA, fmt);
  if (clsB == CLS_QNAN) return processNaN(b, clsB, fmt);
  if (clsC == CLS_QNAN) return processNaN(c, clsC, fmt);
  nanDone = false;
  return 0;
}

function invalid(fmt: u32): u64 {
  raiseFpsr(FPSR_IOC);
  return defaultNaN(fmt);
}

// ---------------------------------------------------------------------------------------------
// Arithmetic

/** Adds two unpacked non-zero finite values exactly enough for one correct rounding. */
function addUnpacked(signA: u32, sigA: u64, expA: i32, signB: u32, sigB: u64, expB: i32, fmt: u32): u64 {
  if (expA < expB) {
    const ts = signA;
    signA = signB;
    signB = ts;
    const tg = sigA;
    sigA = sigB;
    sigB = tg;
    const te = expA;
    expA = expB;
    expB = te;
  }
  sigB = shiftRightJam(sigB, <u32>(expA - expB));
  if (signA == signB) return roundFpcr(signA, sigA + sigB, expA, fmt);
  if (sigA == sigB) return zero(fpcrRounding() == RM_NEGINF ? 1 : 0, fmt);
  if (sigA < sigB) return roundFpcr(signB, sigB - sigA, expA, fmt);
  return roundFpcr(signA, sigA - sigB, expA, fmt);
}

/** FPAdd, or FPSub when `subtract`. */
export function fpAdd(a: u64, b: u64, fmt: u32, subtract: bool): u64 {
  if (fmt != FMT_H) {
    const r = nativeAdd(a, subtract ? b ^ signBit(fmt) : b, fmt == FMT_D);
    if (nativeDone) return r;
  }
  const clsA = unpack(a, fmt);
  const signA = uSign;
  const sigA = uSig;
  const expA = uExp;
  const clsB = unpack(b, fmt);
  const signB = uSign ^ (subtract ? 1 : 0);
  const sigB = uSig;
  const expB = uExp;
  const nan = processNaNs2(a, clsA, b, clsB, fmt);
  if (nanDone) return nan;
  if (clsA == CLS_INF && clsB == CLS_INF && signA != signB) return invalid(fmt);
  if (clsA == CLS_INF) return infinity(signA, fmt);
  if (clsB == CLS_INF) return infinity(signB, fmt);
  if (clsA == CLS_ZERO && clsB == CLS_ZERO) {
    return zero(signA == signB ? signA : fpcrRounding() == RM_NEGINF ? 1 : 0, fmt);
  }
  if (clsA == CLS_ZERO) return roundFpcr(signB, sigB, expB, fmt);
  if (clsB == CLS_ZERO) return roundFpcr(signA, sigA, expA, fmt);
  return addUnpacked(signA, sigA, expA, signB, sigB, expB, fmt);
}

// 64 × 64 → 128-bit product, in these globals.
let mulHi: u64 = 0;
let mulLo: u64 = 0;

function mul64x64(a: u64, b: u64): void {
  const aL = a & 0xffffffff;
  const aH = a >> 32;
  const bL = b & 0xffffffff;
  const bH = b >> 32;
  const ll = aL * bL;
  const lh = aL * bH;
  const hl = aH * bL;
  const mid = (ll >> 32) + (lh & 0xffffffff) + (hl & 0xffffffff);
  mulLo = (mid << 32) | (ll & 0xffffffff);
  mulHi = aH * bH + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/** FPMul; with `extended` it is FPMulX (∞ × 0 = ±2 instead of invalid). */
export function fpMul(a: u64, b: u64, fmt: u32, extended: bool): u64 {
  if (fmt != FMT_H) {
    const r = nativeMul(a, b, fmt == FMT_D);
    if (nativeDone) return r;
  }
  const clsA = unpack(a, fmt);
  const signA = uSign;
  const sigA = uSig;
  const expA = uExp;
  const clsB = unpack(b, fmt);
  const signB = uSign;
  const nan = processNaNs2(a, clsA, b, clsB, fmt);
  if (nanDone) return nan;
  const sign = signA ^ signB;
  if ((clsA == CLS_INF && clsB == CLS_ZERO) || (clsA == CLS_ZERO && clsB == CLS_INF)) {
    if (extended) return zero(sign, fmt) | ((<u64>bias(fmt) + 1) << fracBits(fmt));
    return invalid(fmt);
  }
  if (clsA == CLS_INF || clsB == CLS_INF) return infinity(sign, fmt);
  if (clsA == CLS_ZERO || clsB == CLS_ZERO) return zero(sign, fmt);
  mul64x64(sigA, uSig);
  // The product's top bit is at 124 or 125; keep 64 bits of it and fold the rest into a sticky bit.
  const sig = (mulHi << 2) | (mulLo >> 62) | (mulLo << 2 != 0 ? 1 : 0);
  return roundFpcr(sign, sig, expA + uExp + 62, fmt);
}

export function fpDiv(a: u64, b: u64, fmt: u32): u64 {
  if (fmt != FMT_H) {
    const r = nativeDiv(a, b, fmt == FMT_D);
    if (nativeDone) return r;
  }
  const clsA = unpack(a, fmt);
  const signA = uSign;
  const sigA = uSig;
  const expA = uExp;
  const clsB = unpack(b, fmt);
  const signB = uSign;
  const nan = processNaNs2(a, clsA, b, clsB, fmt);
  if (nanDone) return nan;
  const sign = signA ^ signB;
  if ((clsA == CLS_INF && clsB == CLS_INF) || (clsA == CLS_ZERO && clsB == CLS_ZERO)) return invalid(fmt);
  if (clsA == CLS_INF || clsB == CLS_ZERO) {
    if (clsA != CLS_INF) raiseFpsr(FPSR_DZC);
    return infinity(sign, fmt);
  }
  if (clsA == CLS_ZERO || clsB == CLS_INF) return zero(sign, fmt);
  // Restoring division: 63 quotient bits of sigA / sigB, then the remainder as sticky bit.
  const divisor = uSig;
  let rem = sigA;
  let q: u64 = 0;
  for (let i = 0; i < 63; i++) {
    q <<= 1;
    if (rem >= divisor) {
      rem -= divisor;
      q |= 1;
    }
    rem <<= 1;
  }
  return roundFpcr(sign, q | (rem != 0 ? 1 : 0), expA - uExp - 62, fmt);
}

export function fpSqrt(a: u64, fmt: u32): u64 {
  if (fmt != FMT_H) {
    const r = nativeSqrt(a, fmt == FMT_D);
    if (nativeDone) return r;
  }
  const cls = unpack(a, fmt);
  if (isNaNClass(cls)) return processNaN(a, cls, fmt);
  if (cls == CLS_ZERO) return a & signBit(fmt);
  if (uSign) return invalid(fmt);
  if (cls == CLS_INF) return a;
  // Radicand sig × 2^k with k making the exponent even; its root has 56–57 bits, enough for
  // one correct rounding of a double with the remainder as sticky bit.
  const k: u32 = ((uExp - 50) & 1) != 0 ? 51 : 50;
  const e = uExp - <i32>k;
  const radHi = uSig >> (64 - k);
  const radLo = uSig << k;
  let root: u64 = 0;
  let rem: u64 = 0;
  for (let i = 0; i < 64; i++) {
    const pos = <u32>(126 - 2 * i);
    const pair = pos >= 64 ? (radHi >> (pos - 64)) & 3 : (radLo >> pos) & 3;
    rem = (rem << 2) | pair;
    const trial = (root << 2) | 1;
    if (rem >= trial) {
      rem -= trial;
      root = (root << 1) | 1;
    } else {
      root <<= 1;
    }
  }
  return roundFpcr(0, root | (rem != 0 ? 1 : 0), e >> 1, fmt);
}

// 128-bit helpers for the fused multiply-add, on (hi, lo) pairs held in globals.
let wHi: u64 = 0;
let wLo: u64 = 0;

function shiftRightJam128(hi: u64, lo: u64, n: u32): void {
  if (n == 0) {
    wHi = hi;
    wLo = lo;
  } else if (n < 64) {
    wLo = (lo >> n) | (hi << (64 - n)) | (lo << (64 - n) != 0 ? 1 : 0);
    wHi = hi >> n;
  } else if (n == 64) {
    wLo = hi | (lo != 0 ? 1 : 0);
    wHi = 0;
  } else if (n < 128) {
    wLo = (hi >> (n - 64)) | (hi << (128 - n) != 0 || lo != 0 ? 1 : 0);
    wHi = 0;
  } else {
    wLo = hi != 0 || lo != 0 ? 1 : 0;
    wHi = 0;
  }
}

/**
 * FPMulAdd: addend + op1 × op2 with a single rounding. The exact result is multiplied by
 * 2^resultScale before that rounding (FRSQRTS halves it).
 */
export function fpMulAdd(addend: u64, op1: u64, op2: u64, fmt: u32, resultScale: i32 = 0): u64 {
  const clsA = unpack(addend, fmt);
  const signA = uSign;
  const sigA = uSig;
  const expA = uExp;
  const cls1 = unpack(op1, fmt);
  const sign1 = uSign;
  const sig1 = uSig;
  const exp1 = uExp;
  const cls2 = unpack(op2, fmt);
  const sign2 = uSign;
  const sig2 = uSig;
  const exp2 = uExp;
  const infTimesZero = (cls1 == CLS_INF && cls2 == CLS_ZERO) || (cls1 == CLS_ZERO && cls2 == CLS_INF);
  const nan = processNaNs3(addend, clsA, op1, cls1, op2, cls2, fmt);
  if (clsA == CLS_QNAN && infTimesZero) return invalid(fmt);
  if (nanDone) return nan;
  const signP = sign1 ^ sign2;
  const infP = cls1 == CLS_INF || cls2 == CLS_INF;
  const zeroP = cls1 == CLS_ZERO || cls2 == CLS_ZERO;
  if (infTimesZero || (clsA == CLS_INF && infP && signA != signP)) return invalid(fmt);
  if (clsA == CLS_INF) return infinity(signA, fmt);
  if (infP) return infinity(signP, fmt);
  const roundNeg: u32 = fpcrRounding() == RM_NEGINF ? 1 : 0;
  if (clsA == CLS_ZERO && zeroP) return zero(signA == signP ? signA : roundNeg, fmt);
  if (zeroP) return roundFpcr(signA, sigA, expA + resultScale, fmt);
  mul64x64(sig1, sig2);
  let pHi = mulHi;
  let pLo = mulLo;
  let expP = exp1 + exp2;
  if (clsA != CLS_ZERO) {
    // Addend as a 128-bit value with its top bit at 124, like the product's.
    let cHi = sigA >> 2;
    let cLo = sigA << 62;
    let expC = expA - 62;
    let signR = signP;
    if (expP >= expC) {
      shiftRightJam128(cHi, cLo, <u32>min<i64>(<i64>expP - <i64>expC, 200));
      cHi = wHi;
      cLo = wLo;
    } else {
      shiftRightJam128(pHi, pLo, <u32>min<i64>(<i64>expC - <i64>expP, 200));
      pHi = wHi;
      pLo = wLo;
      expP = expC;
    }
    if (signA == signP) {
      const lo = pLo + cLo;
      pHi = pHi + cHi + (lo < pLo ? 1 : 0);
      pLo = lo;
    } else {
      if (pHi == cHi && pLo == cLo) return zero(roundNeg, fmt);
      if (pHi < cHi || (pHi == cHi && pLo < cLo)) {
        const tHi = pHi;
        const tLo = pLo;
        pHi = cHi;
        pLo = cLo;
        cHi = tHi;
        cLo = tLo;
        signR = signA;
      }
      const lo = pLo - cLo;
      pHi = pHi - cHi - (pLo < cLo ? 1 : 0);
      pLo = lo;
    }
    return roundFpcr(signR, narrow128(pHi, pLo), expP + narrowShift + resultScale, fmt);
  }
  return roundFpcr(signP, narrow128(pHi, pLo), expP + narrowShift + resultScale, fmt);
}

let narrowShift: i32 = 0;

/** Reduces a non-zero 128-bit value to 64 bits with a sticky bit; the exponent change goes to narrowShift. */
function narrow128(hi: u64, lo: u64): u64 {
  if (hi == 0) {
    narrowShift = 0;
    return lo;
  }
  const lz = <u32>clz(hi);
  // Left-align to bit 127, then keep the top 63 bits and the sticky rest.
  const alignedHi = lz == 0 ? hi : (hi << lz) | (lo >> (64 - lz));
  const alignedLo = lo << lz;
  narrowShift = 65 - <i32>lz;
  return (alignedHi >> 1) | ((alignedHi & 1) != 0 || alignedLo != 0 ? 1 : 0);
}

/** FPMax/FPMin (`isMax`), or FPMaxNum/FPMinNum when `numeric` (a quiet NaN loses to a number). */
export function fpMinMax(a: u64, b: u64, fmt: u32, isMax: bool, numeric: bool): u64 {
  let clsA = unpack(a, fmt);
  let clsB = unpack(b, fmt);
  if (numeric) {
    // The quiet NaN is replaced by the infinity that loses against anything, as FPMaxNum does.
    if (clsA == CLS_QNAN && clsB != CLS_QNAN) {
      a = infinity(isMax ? 1 : 0, fmt);
      clsA = CLS_INF;
    } else if (clsB == CLS_QNAN && clsA != CLS_QNAN) {
      b = infinity(isMax ? 1 : 0, fmt);
      clsB = CLS_INF;
    }
  }
  const nan = processNaNs2(a, clsA, b, clsB, fmt);
  if (nanDone) return nan;
  const fa = flushed(a, clsA, fmt);
  const fb = flushed(b, clsB, fmt);
  const aGreater = orderKey(fa, fmt) > orderKey(fb, fmt);
  return aGreater == isMax ? fa : fb;
}

/** The operand after FPUnpack's flush-to-zero. */
function flushed(bits: u64, cls: u32, fmt: u32): u64 {
  return cls == CLS_ZERO ? bits & signBit(fmt) : bits;
}

/** A signed integer that orders non-NaN values like the reals, with -0 just below +0. */
function orderKey(bits: u64, fmt: u32): i64 {
  const sb = signBit(fmt);
  const mag = <i64>(bits & (sb - 1));
  return bits & sb ? -mag - 1 : mag;
}

/** FPCompare as NZCV (bits 3:0): unordered 0011, equal 0110, less 1000, greater 0010. */
export function fpCompare(a: u64, b: u64, fmt: u32, signalAllNaNs: bool): u32 {
  const clsA = unpack(a, fmt);
  const clsB = unpack(b, fmt);
  if (isNaNClass(clsA) || isNaNClass(clsB)) {
    if (signalAllNaNs || clsA == CLS_SNAN || clsB == CLS_SNAN) raiseFpsr(FPSR_IOC);
    return 0b0011;
  }
  const ka = compareKey(a, clsA, fmt);
  const kb = compareKey(b, clsB, fmt);
  if (ka == kb) return 0b0110;
  return ka < kb ? 0b1000 : 0b0010;
}

/** Like orderKey, but both zeros compare equal. */
function compareKey(bits: u64, cls: u32, fmt: u32): i64 {
  if (cls == CLS_ZERO) return 0;
  const sb = signBit(fmt);
  const mag = <i64>(bits & (sb - 1));
  return bits & sb ? -mag : mag;
}

/** The vector compares FCMEQ/FCMGE/FCMGT (FPCompareEQ/GE/GT): EQ signals only for signalling NaNs. */
export const CMP_EQ: u32 = 0;
export const CMP_GE: u32 = 1;
export const CMP_GT: u32 = 2;

export function fpCompareCond(a: u64, b: u64, fmt: u32, cond: u32): bool {
  const clsA = unpack(a, fmt);
  const clsB = unpack(b, fmt);
  if (isNaNClass(clsA) || isNaNClass(clsB)) {
    if (cond != CMP_EQ || clsA == CLS_SNAN || clsB == CLS_SNAN) raiseFpsr(FPSR_IOC);
    return false;
  }
  const ka = compareKey(a, clsA, fmt);
  const kb = compareKey(b, clsB, fmt);
  if (cond == CMP_EQ) return ka == kb;
  if (cond == CMP_GE) return ka >= kb;
  return ka > kb;
}

// ---------------------------------------------------------------------------------------------
// Integer rounding of unpacked values, shared by FPRoundInt and FPToFixed.

let roundedInexact = false;

/**
 * Rounds |value| = sig × 2^exp (sig's top bit at 62, exp < 2) to an integer magnitude under rmode,
 * for a value of the given sign. Sets roundedInexact.
 */
function roundToIntegerMagnitude(sign: u32, sig: u64, exp: i32, rmode: u32): u64 {
  if (exp >= 0) {
    roundedInexact = false;
    return sig << (<u64>exp);
  }
  const shift = <u32>-exp;
  let intPart: u64;
  let frac: u64;
  let half: u64;
  if (shift >= 64) {
    intPart = 0;
    frac = 1; // Non-zero and below one half (sig < 2^63).
    half = (<u64>1) << 63;
  } else {
    intPart = sig >> shift;
    frac = sig & (((<u64>1) << shift) - 1);
    half = (<u64>1) << (shift - 1);
  }
  roundedInexact = frac != 0;
  let up = false;
  if (rmode == RM_TIEEVEN) up = frac > half || (frac == half && (intPart & 1) != 0);
  else if (rmode == RM_TIEAWAY) up = frac >= half;
  else if (rmode == RM_POSINF) up = frac != 0 && sign == 0;
  else if (rmode == RM_NEGINF) up = frac != 0 && sign != 0;
  return up ? intPart + 1 : intPart;
}

/** FPRoundInt: FRINT* (exact = FRINTX, which raises IXC when the value changes). */
export function fpRoundInt(a: u64, fmt: u32, rmode: u32, exact: bool): u64 {
  const cls = unpack(a, fmt);
  if (isNaNClass(cls)) return processNaN(a, cls, fmt);
  if (cls == CLS_INF) return a;
  if (cls == CLS_ZERO) return zero(uSign, fmt);
  const sign = uSign;
  // Values of 2^62 and above are integers already.
  if (uExp >= 0) return a;
  const mag = roundToIntegerMagnitude(sign, uSig, uExp, rmode);
  if (exact && roundedInexact) raiseFpsr(FPSR_IXC);
  if (mag == 0) return zero(sign, fmt);
  return roundPack(sign, mag, 0, fmt, RM_TIEEVEN);
}

/**
 * FPToFixed: converts to a signed or unsigned integer of intBits (32 or 64) with fbits fraction
 * bits, saturating (IOC) and raising IXC when inexact. NaN converts to 0 with IOC.
 */
export function fpToFixed(a: u64, fmt: u32, fbits: u32, unsigned: bool, intBits: u32, rmode: u32): u64 {
  const cls = unpack(a, fmt);
  const sign = uSign;
  if (isNaNClass(cls)) {
    raiseFpsr(FPSR_IOC);
    return 0;
  }
  if (cls == CLS_ZERO) return 0;
  const maxMag: u64 = unsigned
    ? intBits == 64
      ? <u64>-1
      : 0xffffffff
    : sign
      ? (<u64>1) << (intBits - 1)
      : ((<u64>1) << (intBits - 1)) - 1;
  let mag: u64;
  let overflow: bool;
  const exp = uExp + <i32>fbits;
  if (cls == CLS_INF || exp >= 2) {
    overflow = true;
    mag = 0;
  } else {
    mag = roundToIntegerMagnitude(sign, uSig, exp, rmode);
    overflow = mag > maxMag || (unsigned && sign != 0 && mag != 0);
  }
  if (overflow) {
    raiseFpsr(FPSR_IOC);
    if (unsigned) return sign ? 0 : maxMag;
    return sign ? (<u64>-(<i64>maxMag)) & widthMask(intBits) : maxMag;
  }
  if (roundedInexact) raiseFpsr(FPSR_IXC);
  const r = sign ? <u64>-(<i64>mag) : mag;
  return r & widthMask(intBits);
}

function widthMask(bits: u32): u64 {
  return bits == 64 ? <u64>-1 : ((<u64>1) << bits) - 1;
}

/** FixedToFP: an intBits-wide integer (signed or not) with fbits fraction bits, rounded per FPCR. */
export function fixedToFp(v: u64, intBits: u32, unsigned: bool, fbits: u32, fmt: u32, rmode: u32): u64 {
  if (intBits == 32) v = unsigned ? v & 0xffffffff : <u64>(<i64>(<i32>v));
  if (v == 0) return 0;
  const negative = !unsigned && <i64>v < 0;
  const mag = negative ? <u64>-(<i64>v) : v;
  return roundPack(negative ? 1 : 0, mag, -(<i32>fbits), fmt, rmode);
}

/** FPConvert between half, single and double precision. */
export function fpConvert(a: u64, from: u32, to: u32, rmode: u32): u64 {
  const cls = unpack(a, from);
  const sign = uSign;
  const alternativeHalf = to == FMT_H && (fpcr() & FPCR_AHP) != 0;
  if (isNaNClass(cls)) {
    let r: u64;
    if (alternativeHalf) r = zero(sign, to);
    else if (fpcr() & FPCR_DN) r = defaultNaN(to);
    else r = convertNaN(a, from, to);
    if (cls == CLS_SNAN || alternativeHalf) raiseFpsr(FPSR_IOC);
    return r;
  }
  if (cls == CLS_INF) {
    if (alternativeHalf) {
      raiseFpsr(FPSR_IOC);
      return zero(sign, to) | 0x7fff;
    }
    return infinity(sign, to);
  }
  if (cls == CLS_ZERO) return zero(sign, to);
  return roundPack(sign, uSig, uExp, to, rmode);
}

/** FPConvertNaN: keeps the sign and the top payload bits, and makes the NaN quiet. */
function convertNaN(a: u64, from: u32, to: u32): u64 {
  const sign: u32 = (a & signBit(from)) != 0 ? 1 : 0;
  const fromF = fracBits(from);
  const toF = fracBits(to);
  const payload = a & fracMask(from);
  const frac = toF >= fromF ? payload << (toF - fromF) : payload >> (fromF - toF);
  return infinity(sign, to) | frac | ((<u64>1) << (toF - 1));
}

export function fpNeg(a: u64, fmt: u32): u64 {
  return a ^ signBit(fmt);
}

export function fpAbs(a: u64, fmt: u32): u64 {
  return a & ~signBit(fmt);
}
