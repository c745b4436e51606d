// Advanced SIMD floating point, vector and scalar: three same (arithmetic, fused multiply-add,
// min/max, compares, pairwise), two-register miscellaneous (FRINT*, conversions, compares with
// zero, FABS/FNEG/FSQRT, FCVTN/FCVTL), across lanes, pairwise scalar and by element.
// Single and double precision lanes.
import {
  CMP_EQ,
  CMP_GE,
  CMP_GT,
  FMT_D,
  FMT_H,
  FMT_S,
  fixedToFp,
  fpAbs,
  fpAdd,
  fpCompareCond,
  fpConvert,
  fpDiv,
  fpMinMax,
  fpMul,
  fpMulAdd,
  fpNeg,
  fpRoundInt,
  fpSqrt,
  fpToFixed,
} from "./softfloat";
import {
  RM_NEGINF,
  RM_ODD,
  RM_POSINF,
  RM_TIEAWAY,
  RM_TIEEVEN,
  RM_ZERO,
  beginResultFrom,
  clearResult,
  commitResult,
  fpcrRounding,
  getElem,
  setResultElem,
  setScalar,
} from "./state";
import { elementMask } from "./integer-ops";
import {
  fpRSqrtEstimate,
  fpRecipEstimate,
  fpRecpX,
  fpStepFused,
  unsignedRSqrtEstimate,
  unsignedRecipEstimate,
} from "./fp-estimates";

/** Three-same FP operation code: U:a:opcode<2:0> (opcode = 11xxx). */
function threeSameFloatElement(op: u32, a: u64, b: u64, d: u64, fmt: u32): u64 {
  const ones = elementMask(fmt);
  switch (op) {
    case 0b0000:
      return fpMinMax(a, b, fmt, true, true); // FMAXNM
    case 0b0001:
      return fpMulAdd(d, a, b, fmt); // FMLA
    case 0b0010:
      return fpAdd(a, b, fmt, false);
    case 0b0011:
      return fpMul(a, b, fmt, true); // FMULX
    case 0b0100:
      return fpCompareCond(a, b, fmt, CMP_EQ) ? ones : 0;
    case 0b0110:
      return fpMinMax(a, b, fmt, true, false);
    case 0b1000:
      return fpMinMax(a, b, fmt, false, true); // FMINNM
    case 0b1001:
      return fpMulAdd(d, fpNeg(a, fmt), b, fmt); // FMLS
    case 0b1010:
      return fpAdd(a, b, fmt, true);
    case 0b1110:
      return fpMinMax(a, b, fmt, false, false);
    case 0b0111:
      return fpStepFused(a, b, fmt, false); // FRECPS
    case 0b1111:
      return fpStepFused(a, b, fmt, true); // FRSQRTS
    case 0b10011:
      return fpMul(a, b, fmt, false);
    case 0b10100:
      return fpCompareCond(a, b, fmt, CMP_GE) ? ones : 0;
    case 0b10101:
      return fpCompareCond(fpAbs(a, fmt), fpAbs(b, fmt), fmt, CMP_GE) ? ones : 0;
    case 0b10111:
      return fpDiv(a, b, fmt);
    case 0b11010:
      return fpAbs(fpAdd(a, b, fmt, true), fmt); // FABD
    case 0b11100:
      return fpCompareCond(a, b, fmt, CMP_GT) ? ones : 0;
    default:
      // 0b11101: FACGT
      return fpCompareCond(fpAbs(a, fmt), fpAbs(b, fmt), fmt, CMP_GT) ? ones : 0;
  }
}

/** The pairwise three-same operations (FMAXNMP, FADDP, FMAXP, FMINNMP, FMINP) as their base op. */
function pairwiseBase(op: u32): u32 {
  switch (op) {
    case 0b10000:
      return 0b0000;
    case 0b10010:
      return 0b0010;
    case 0b10110:
      return 0b0110;
    case 0b11000:
      return 0b1000;
    case 0b11110:
      return 0b1110;
    default:
      return 0xff;
  }
}

const VECTOR_ELEMENT_OPS: u32 =
  (1 << 0b0000) |
  (1 << 0b0001) |
  (1 << 0b0010) |
  (1 << 0b0011) |
  (1 << 0b0100) |
  (1 << 0b0110) |
  (1 << 0b0111) |
  (1 << 0b1000) |
  (1 << 0b1001) |
  (1 << 0b1010) |
  (1 << 0b1110) |
  (1 << 0b1111) |
  (1 << 0b10011) |
  (1 << 0b10100) |
  (1 << 0b10101) |
  (1 << 0b10111) |
  (1 << 0b11010) |
  (1 << 0b11100) |
  (1 << 0b11101);

function formatOfSz(sz: u32): u32 {
  return sz ? FMT_D : FMT_S;
}

/** Vector three same with opcode 11xxx (FP). */
export function vectorThreeSameFloat(insn: u32): bool {
  const q = ((insn >> 30) & 1) != 0;
  const sz = (insn >> 22) & 1;
  const op = (((insn >> 29) & 1) << 4) | (((insn >> 23) & 1) << 3) | ((insn >> 11) & 7);
  if (sz && !q) return false;
  const fmt = formatOfSz(sz);
  const m = (insn >> 16) & 31;
  const n = (insn >> 5) & 31;
  const d = insn & 31;
  const elements = (q ? <u32>16 : 8) >> fmt;
  const base = pairwiseBase(op);
  if (base != 0xff) {
    const half = elements >> 1;
    for (let i: u32 = 0; i < <u32>elements; i++) {
      const src = i < half ? n : m;
      const j = (i < half ? i : i - half) * 2;
      setResultElem(
        i,
        fmt,
        threeSameFloatElement(base, getElem(src, j, fmt), getElem(src, j + 1, fmt), 0, fmt),
      );
    }
    commitResult(d, q);
    return true;
  }
  if (((VECTOR_ELEMENT_OPS >> op) & 1) == 0) return false;
  for (let i: u32 = 0; i < <u32>elements; i++) {
    const r = threeSameFloatElement(op, getElem(n, i, fmt), getElem(m, i, fmt), getElem(d, i, fmt), fmt);
    setResultElem(i, fmt, r);
  }
  commitResult(d, q);
  return true;
}

/** Scalar three same, FP: FMULX, FCMEQ, FRECPS, FRSQRTS, FCMGE, FCMGT, FACGE, FACGT, FABD. */
export function scalarThreeSameFloat(insn: u32): bool {
  const sz = (insn >> 22) & 1;
  const op = (((insn >> 29) & 1) << 4) | (((insn >> 23) & 1) << 3) | ((insn >> 11) & 7);
  const scalarOps: u32 =
    (1 << 0b0011) |
    (1 << 0b0100) |
    (1 << 0b0111) |
    (1 << 0b1111) |
    (1 << 0b10100) |
    (1 << 0b10101) |
    (1 << 0b11010) |
    (1 << 0b11100) |
    (1 << 0b11101);
  if (((scalarOps >> op) & 1) == 0) return false;
  const fmt = formatOfSz(sz);
  const a = getElem((insn >> 5) & 31, 0, fmt);
  const b = getElem((insn >> 16) & 31, 0, fmt);
  setScalar(insn & 31, threeSameFloatElement(op, a, b, 0, fmt), 1 << fmt);
  return true;
}

/** Set by twoRegMiscFloatElement when its key (U:a:opcode) is not an allocated operation. */
let unallocated = false;

function unallocatedKey(): u64 {
  unallocated = true;
  return 0;
}

/** One element of a two-register misc FP operation, keyed U:a:opcode (opcode = bits 16:12). */
function twoRegMiscFloatElement(key: u32, v: u64, fmt: u32): u64 {
  const ones = elementMask(fmt);
  const bits: u32 = 8 << fmt;
  switch (key) {
    case 0b0_0_11000:
      return fpRoundInt(v, fmt, RM_TIEEVEN, false);
    case 0b0_1_11000:
      return fpRoundInt(v, fmt, RM_POSINF, false);
    case 0b0_0_11001:
      return fpRoundInt(v, fmt, RM_NEGINF, false);
    case 0b0_1_11001:
      return fpRoundInt(v, fmt, RM_ZERO, false);
    case 0b1_0_11000:
      return fpRoundInt(v, fmt, RM_TIEAWAY, false);
    case 0b1_1_11001:
      return fpRoundInt(v, fmt, fpcrRounding(), false); // FRINTI
    case 0b1_0_11001:
      return fpRoundInt(v, fmt, fpcrRounding(), true); // FRINTX
    case 0b0_0_11010:
    case 0b1_0_11010:
      return fpToFixed(v, fmt, 0, key >= 0b1_0_00000, bits, RM_TIEEVEN);
    case 0b0_1_11010:
    case 0b1_1_11010:
      return fpToFixed(v, fmt, 0, key >= 0b1_0_00000, bits, RM_POSINF);
    case 0b0_0_11011:
    case 0b1_0_11011:
      return fpToFixed(v, fmt, 0, key >= 0b1_0_00000, bits, RM_NEGINF);
    case 0b0_1_11011:
    case 0b1_1_11011:
      return fpToFixed(v, fmt, 0, key >= 0b1_0_00000, bits, RM_ZERO);
    case 0b0_0_11100:
    case 0b1_0_11100:
      return fpToFixed(v, fmt, 0, key >= 0b1_0_00000, bits, RM_TIEAWAY);
    case 0b0_0_11101:
    case 0b1_0_11101:
      return fixedToFp(v, bits, key >= 0b1_0_00000, 0, fmt, fpcrRounding()); // SCVTF/UCVTF
    case 0b0_1_01100:
      return fpCompareCond(v, 0, fmt, CMP_GT) ? ones : 0;
    case 0b0_1_01101:
      return fpCompareCond(v, 0, fmt, CMP_EQ) ? ones : 0;
    case 0b0_1_01110:
      return fpCompareCond(0, v, fmt, CMP_GT) ? ones : 0; // FCMLT #0
    case 0b1_1_01100:
      return fpCompareCond(v, 0, fmt, CMP_GE) ? ones : 0;
    case 0b1_1_01101:
      return fpCompareCond(0, v, fmt, CMP_GE) ? ones : 0; // FCMLE #0
    case 0b0_1_01111:
      return fpAbs(v, fmt);
    case 0b1_1_01111:
      return fpNeg(v, fmt);
    case 0b1_1_11111:
      return fpSqrt(v, fmt);
    case 0b0_1_11101:
      return fpRecipEstimate(v, fmt);
    case 0b1_1_11101:
      return fpRSqrtEstimate(v, fmt);
    case 0b0_1_11100:
      return fmt == FMT_S ? unsignedRecipEstimate(v) : unallocatedKey(); // URECPE
    case 0b1_1_11100:
      return fmt == FMT_S ? unsignedRSqrtEstimate(v) : unallocatedKey(); // URSQRTE
    default:
      return unallocatedKey();
  }
}

/** Which keys have a scalar form (conversions and compares with zero). */
function scalarMiscAllocated(key: u32): bool {
  const opcode = key & 31;
  // URECPE/URSQRTE have no scalar form.
  if (opcode >= 0b11010 && opcode <= 0b11101) return key != 0b0_1_11100 && key != 0b1_1_11100;
  return opcode >= 0b01100 && opcode <= 0b01110 && (key & 0b0_1_00000) != 0;
}

/** Vector two-register misc, FP part (opcodes 01100–01111 with a = 1, 10110–11111). */
export function vectorTwoRegMiscFloat(insn: u32): bool {
  const q = ((insn >> 30) & 1) != 0;
  const u = (insn >> 29) & 1;
  const a = (insn >> 23) & 1;
  const sz = (insn >> 22) & 1;
  const opcode = (insn >> 12) & 31;
  const n = (insn >> 5) & 31;
  const d = insn & 31;
  if (opcode == 0b10110 || opcode == 0b10111) return narrowOrWiden(insn, u, a, sz, opcode, n, d);
  if (sz && !q) return false;
  const fmt = formatOfSz(sz);
  const key = (u << 6) | (a << 5) | opcode;
  const elements = (q ? <u32>16 : 8) >> fmt;
  for (let i: u32 = 0; i < <u32>elements; i++) {
    unallocated = false;
    const r = twoRegMiscFloatElement(key, getElem(n, i, fmt), fmt);
    if (unallocated) return false;
    setResultElem(i, fmt, r);
  }
  commitResult(d, q);
  return true;
}

/** FCVTN/FCVTN2 (narrow to the low or high half) and FCVTL/FCVTL2 (widen from it). */
function narrowOrWiden(insn: u32, u: u32, a: u32, sz: u32, opcode: u32, n: u32, d: u32): bool {
  if (a || (u && (opcode != 0b10110 || !sz))) return false;
  // FCVTXN (U = 1) narrows double to single rounding to odd, whatever FPCR says.
  const rounding = u ? RM_ODD : fpcrRounding();
  const q = (insn >> 30) & 1;
  const wide = sz ? FMT_D : FMT_S;
  const narrowFmt = sz ? FMT_S : FMT_H;
  const count: u32 = 8 >> narrowFmt; // lanes in one 64-bit half
  if (opcode == 0b10110) {
    beginResultFrom(d);
    if (!q) clearResult();
    for (let i: u32 = 0; i < <u32>count; i++) {
      setResultElem(q * count + i, narrowFmt, fpConvert(getElem(n, i, wide), wide, narrowFmt, rounding));
    }
    commitResult(d, true);
    return true;
  }
  for (let i: u32 = 0; i < <u32>count; i++) {
    setResultElem(i, wide, fpConvert(getElem(n, q * count + i, narrowFmt), narrowFmt, wide, fpcrRounding()));
  }
  commitResult(d, true);
  return true;
}

/** Scalar two-register misc, FP part. */
export function scalarTwoRegMiscFloat(insn: u32): bool {
  const u = (insn >> 29) & 1;
  const a = (insn >> 23) & 1;
  const sz = (insn >> 22) & 1;
  const key = (u << 6) | (a << 5) | ((insn >> 12) & 31);
  const n = (insn >> 5) & 31;
  if (key == 0b1_0_10110) {
    // FCVTXN Sd, Dn
    if (!sz) return false;
    setScalar(insn & 31, fpConvert(getElem(n, 0, FMT_D), FMT_D, FMT_S, RM_ODD), 4);
    return true;
  }
  if (key == 0b0_1_11111) {
    setScalar(insn & 31, fpRecpX(getElem(n, 0, formatOfSz(sz)), formatOfSz(sz)), 4 << sz);
    return true;
  }
  if (!scalarMiscAllocated(key)) return false;
  const fmt = formatOfSz(sz);
  unallocated = false;
  const r = twoRegMiscFloatElement(key, getElem(n, 0, fmt), fmt);
  if (unallocated) return false;
  setScalar(insn & 31, r, 1 << fmt);
  return true;
}

/** FMAXNMV, FMINNMV, FMAXV, FMINV (4S only), reduced pairwise as the ARM ARM's Reduce(). */
export function acrossLanesFloat(insn: u32): bool {
  const opcode = (insn >> 12) & 31;
  if (((insn >> 30) & 1) == 0 || ((insn >> 22) & 1) != 0 || ((insn >> 29) & 1) == 0) return false;
  if (opcode != 0b01100 && opcode != 0b01111) return false;
  const isMax = ((insn >> 23) & 1) == 0;
  const numeric = opcode == 0b01100;
  const n = (insn >> 5) & 31;
  const lo = fpMinMax(getElem(n, 0, FMT_S), getElem(n, 1, FMT_S), FMT_S, isMax, numeric);
  const hi = fpMinMax(getElem(n, 2, FMT_S), getElem(n, 3, FMT_S), FMT_S, isMax, numeric);
  setScalar(insn & 31, fpMinMax(lo, hi, FMT_S, isMax, numeric), 4);
  return true;
}

/** Scalar pairwise FP: FADDP, FMAXP, FMINP, FMAXNMP, FMINNMP on the two lanes of Vn. */
export function scalarPairwiseFloat(insn: u32): bool {
  if (((insn >> 29) & 1) == 0) return false;
  const a = (insn >> 23) & 1;
  const opcode = (insn >> 12) & 31;
  let base: u32;
  if (opcode == 0b01100) base = a ? 0b1000 : 0b0000;
  else if (opcode == 0b01101 && !a) base = 0b0010;
  else if (opcode == 0b01111) base = a ? 0b1110 : 0b0110;
  else return false;
  const fmt = formatOfSz((insn >> 22) & 1);
  const n = (insn >> 5) & 31;
  setScalar(insn & 31, threeSameFloatElement(base, getElem(n, 0, fmt), getElem(n, 1, fmt), 0, fmt), 1 << fmt);
  return true;
}

/** FMLA, FMLS, FMUL, FMULX by element (vector when `scalar` is false). */
export function floatByElement(insn: u32, scalar: bool): bool {
  const q = ((insn >> 30) & 1) != 0;
  const u = (insn >> 29) & 1;
  const sz = (insn >> 22) & 1;
  const opcode = (insn >> 12) & 15;
  const l = (insn >> 21) & 1;
  const h = (insn >> 11) & 1;
  if (((insn >> 23) & 1) == 0) return false; // size 0x is FP16 or unallocated
  let base: u32;
  if (opcode == 0b0001 && !u) base = 0b0001;
  else if (opcode == 0b0101 && !u) base = 0b1001;
  else if (opcode == 0b1001) base = u ? 0b0011 : 0b10011;
  else return false;
  const fmt = formatOfSz(sz);
  let index: u32;
  if (sz) {
    if (l || (!q && !scalar)) return false;
    index = h;
  } else {
    index = (h << 1) | l;
  }
  const m = (insn >> 16) & 31;
  const n = (insn >> 5) & 31;
  const d = insn & 31;
  const b = getElem(m, index, fmt);
  if (scalar) {
    setScalar(d, threeSameFloatElement(base, getElem(n, 0, fmt), b, getElem(d, 0, fmt), fmt), 1 << fmt);
    return true;
  }
  const elements = (q ? <u32>16 : 8) >> fmt;
  for (let i: u32 = 0; i < <u32>elements; i++) {
    setResultElem(i, fmt, threeSameFloatElement(base, getElem(n, i, fmt), b, getElem(d, i, fmt), fmt));
  }
  commitResult(d, q);
  return true;
}
