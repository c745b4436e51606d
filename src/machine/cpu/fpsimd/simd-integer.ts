// Advanced SIMD integer data processing, vector and scalar: three same, three different,
// two-register miscellaneous, across lanes and pairwise (ARM ARM C4.1.95 encoding classes).
import {
  countLeadingSign,
  countLeadingZeros,
  elementMask,
  polyMul8,
  reverseBitsInByte,
  saturateSigned,
  saturateUnsigned,
  saturateUnsignedNarrow,
  saturatedSignedLimit,
  shiftByRegister,
  signed,
  sqadd,
  sqdmulh,
  sqdmull,
  sqsub,
  suqadd,
  uqadd,
  uqsub,
  usqadd,
} from "./integer-ops";
import { acrossLanesFast, pairwiseFast, threeSameFast } from "./simd-fast";
import {
  commitResult,
  getElem,
  getV128,
  setResultElem,
  setScalar,
  RESULT_VECTOR,
  beginResultFrom,
  clearResult,
} from "./state";

const ONES: u64 = <u64>-1;

/** One element of the integer three-same group (opcode = bits 15:11); d is the accumulator. */
function threeSameElement(opcode: u32, u: bool, size: u32, a: u64, b: u64, d: u64): u64 {
  const mask = elementMask(size);
  switch (opcode) {
    case 0b00000: // SHADD/UHADD
      return (u ? <u64>((a + b) >> 1) : <u64>((signed(a, size) + signed(b, size)) >> 1)) & mask;
    case 0b00001:
      return u ? uqadd(a, b, size) : sqadd(a, b, size);
    case 0b00010: // SRHADD/URHADD
      return (u ? (a + b + 1) >> 1 : <u64>((signed(a, size) + signed(b, size) + 1) >> 1)) & mask;
    case 0b00100: // SHSUB/UHSUB
      return (u ? <u64>((<i64>a - <i64>b) >> 1) : <u64>((signed(a, size) - signed(b, size)) >> 1)) & mask;
    case 0b00101:
      return u ? uqsub(a, b) : sqsub(a, b, size);
    case 0b00110: // CMGT/CMHI
      return (u ? a > b : signed(a, size) > signed(b, size)) ? mask : 0;
    case 0b00111: // CMGE/CMHS
      return (u ? a >= b : signed(a, size) >= signed(b, size)) ? mask : 0;
    case 0b01000:
      return shiftByRegister(a, b, size, !u, false, false);
    case 0b01001:
      return shiftByRegister(a, b, size, !u, false, true);
    case 0b01010:
      return shiftByRegister(a, b, size, !u, true, false);
    case 0b01011:
      return shiftByRegister(a, b, size, !u, true, true);
    case 0b01100: // SMAX/UMAX
      return (u ? a >= b : signed(a, size) >= signed(b, size)) ? a : b;
    case 0b01101: // SMIN/UMIN
      return (u ? a <= b : signed(a, size) <= signed(b, size)) ? a : b;
    case 0b01110:
      return absoluteDifference(a, b, size, u);
    case 0b01111: // SABA/UABA
      return (d + absoluteDifference(a, b, size, u)) & mask;
    case 0b10000: // ADD/SUB
      return (u ? a - b : a + b) & mask;
    case 0b10001: // CMTST/CMEQ
      return (u ? a == b : (a & b) != 0) ? mask : 0;
    case 0b10010: // MLA/MLS
      return (u ? d - a * b : d + a * b) & mask;
    case 0b10011: // MUL/PMUL
      return (u ? polyMul8(a, b) : a * b) & mask;
    case 0b10110: // SQDMULH/SQRDMULH
      return sqdmulh(a, b, size, u);
    default:
      return 0;
  }
}

function absoluteDifference(a: u64, b: u64, size: u32, u: bool): u64 {
  if (u) return a > b ? a - b : b - a;
  const x = signed(a, size);
  const y = signed(b, size);
  return (<u64>(x > y ? x - y : y - x)) & elementMask(size);
}

/** Which sizes each integer three-same opcode allows: bit s set means size s is allocated. */
function threeSameSizes(opcode: u32, u: bool): u32 {
  switch (opcode) {
    case 0b00000:
    case 0b00010:
    case 0b00100:
    case 0b01100:
    case 0b01101:
    case 0b01110:
    case 0b01111:
    case 0b10010:
      return 0b0111;
    case 0b10011:
      return u ? 0b0001 : 0b0111;
    case 0b10110:
      return 0b0110;
    case 0b00001:
    case 0b00101:
    case 0b00110:
    case 0b00111:
    case 0b01000:
    case 0b01001:
    case 0b01010:
    case 0b01011:
    case 0b10000:
    case 0b10001:
      return 0b1111;
    default:
      return 0;
  }
}

/** Vector three same, integer part (opcodes below 0b11000). */
export function vectorThreeSameInteger(insn: u32): bool {
  const q = ((insn >> 30) & 1) != 0;
  const u = ((insn >> 29) & 1) != 0;
  const size = (insn >> 22) & 3;
  const opcode = (insn >> 11) & 31;
  const m = (insn >> 16) & 31;
  const n = (insn >> 5) & 31;
  const d = insn & 31;
  if (opcode == 0b00011) return logic(q, u, size, m, n, d);
  if (opcode == 0b10100 || opcode == 0b10101 || opcode == 0b10111)
    return pairwise(q, u, size, opcode, m, n, d);
  if (((threeSameSizes(opcode, u) >> size) & 1) == 0 || (size == 3 && !q)) return false;
  if (threeSameFast(opcode, u, size, n, m, d, q)) return true;
  const elements = (q ? <u32>16 : 8) >> size;
  for (let i: u32 = 0; i < elements; i++) {
    const r = threeSameElement(
      opcode,
      u,
      size,
      getElem(n, i, size),
      getElem(m, i, size),
      getElem(d, i, size),
    );
    setResultElem(i, size, r);
  }
  commitResult(d, q);
  return true;
}

function logic(q: bool, u: bool, size: u32, m: u32, n: u32, d: u32): bool {
  const a = getV128(n);
  const b = getV128(m);
  let r: v128;
  if (!u) {
    if (size == 0) r = v128.and(a, b);
    else if (size == 1) r = v128.andnot(a, b);
    else if (size == 2) r = v128.or(a, b);
    else r = v128.or(a, v128.not(b));
  } else {
    const dv = getV128(d);
    if (size == 0) r = v128.xor(a, b);
    else if (size == 1)
      r = v128.bitselect(a, b, dv); // BSL: d selects between n and m
    else if (size == 2)
      r = v128.bitselect(a, dv, b); // BIT: insert n where m is set
    else r = v128.bitselect(dv, a, b); // BIF: insert n where m is clear
  }
  v128.store(RESULT_VECTOR, r);
  commitResult(d, q);
  return true;
}

/** ADDP, SMAXP/UMAXP, SMINP/UMINP over the concatenation Vm:Vn. */
function pairwise(q: bool, u: bool, size: u32, opcode: u32, m: u32, n: u32, d: u32): bool {
  if (opcode == 0b10111 && u) return false;
  if (size == 3 && (!q || opcode != 0b10111)) return false;
  if (pairwiseFast(opcode, u, size, n, m, d, q)) return true;
  const elements = (q ? <u32>16 : 8) >> size;
  const half = elements >> 1;
  for (let i: u32 = 0; i < elements; i++) {
    const src = i < half ? n : m;
    const j = (i < half ? i : i - half) * 2;
    const a = getElem(src, j, size);
    const b = getElem(src, j + 1, size);
    let r: u64;
    if (opcode == 0b10111) r = (a + b) & elementMask(size);
    else if (opcode == 0b10100) r = (u ? a >= b : signed(a, size) >= signed(b, size)) ? a : b;
    else r = (u ? a <= b : signed(a, size) <= signed(b, size)) ? a : b;
    setResultElem(i, size, r);
  }
  commitResult(d, q);
  return true;
}

/** Scalar three same, integer part: the 64-bit and saturating forms. */
export function scalarThreeSameInteger(insn: u32): bool {
  const u = ((insn >> 29) & 1) != 0;
  const size = (insn >> 22) & 3;
  const opcode = (insn >> 11) & 31;
  let ok: bool;
  switch (opcode) {
    case 0b00001:
    case 0b00101:
    case 0b01001:
    case 0b01011:
      ok = true;
      break;
    case 0b00110:
    case 0b00111:
    case 0b01000:
    case 0b01010:
    case 0b10000:
    case 0b10001:
      ok = size == 3;
      break;
    case 0b10110:
      ok = size == 1 || size == 2;
      break;
    default:
      ok = false;
  }
  if (!ok) return false;
  const a = getElem((insn >> 5) & 31, 0, size);
  const b = getElem((insn >> 16) & 31, 0, size);
  setScalar(insn & 31, threeSameElement(opcode, u, size, a, b, 0), 1 << size);
  return true;
}

/** Vector three different: long, wide and narrowing-high operations. */
export function vectorThreeDifferent(insn: u32): bool {
  const q = (insn >> 30) & 1;
  const u = ((insn >> 29) & 1) != 0;
  const size = (insn >> 22) & 3;
  const opcode = (insn >> 12) & 15;
  const m = (insn >> 16) & 31;
  const n = (insn >> 5) & 31;
  const d = insn & 31;
  if (opcode == 0b1111) return false;
  if (opcode == 0b1110) {
    // PMULL/PMULL2 on bytes only (the 64-bit form belongs to the crypto extension).
    if (u || size != 0) return false;
  } else if (size == 3) {
    return false;
  }
  if ((opcode == 0b1001 || opcode == 0b1011 || opcode == 0b1101) && (u || size == 0)) return false;
  const wide = size + 1;
  const part = q * (8 >> size); // first source element for the "2" (upper half) forms
  const count: u32 = 8 >> size;
  if (opcode == 0b0100 || opcode == 0b0110) {
    // ADDHN/RADDHN/SUBHN/RSUBHN: wide sources, narrow result into the low or high half.
    beginResultFrom(d);
    if (!q) clearResult();
    const bits = <u64>(8 << size);
    for (let i: u32 = 0; i < count; i++) {
      const a = getElem(n, i, wide);
      const b = getElem(m, i, wide);
      let r = opcode == 0b0100 ? a + b : a - b;
      if (u) r += (<u64>1) << (bits - 1);
      setResultElem(part + i, size, (r >> bits) & elementMask(size));
    }
    commitResult(d, true);
    return true;
  }
  for (let i: u32 = 0; i < count; i++) {
    const isWide = opcode == 0b0001 || opcode == 0b0011;
    const aw = isWide ? getElem(n, i, wide) : extend(getElem(n, part + i, size), size, u);
    const bw = extend(getElem(m, part + i, size), size, u);
    const acc = getElem(d, i, wide);
    let r: u64;
    switch (opcode) {
      case 0b0000:
      case 0b0001:
        r = aw + bw;
        break;
      case 0b0010:
      case 0b0011:
        r = aw - bw;
        break;
      case 0b0101:
        r = acc + absDiffWide(aw, bw, u);
        break;
      case 0b0111:
        r = absDiffWide(aw, bw, u);
        break;
      case 0b1000:
        r = acc + aw * bw;
        break;
      case 0b1010:
        r = acc - aw * bw;
        break;
      case 0b1100:
        r = aw * bw;
        break;
      case 0b1001:
        r = sqadd(acc, sqdmull(getElem(n, part + i, size), getElem(m, part + i, size), size), wide);
        break;
      case 0b1011:
        r = sqsub(acc, sqdmull(getElem(n, part + i, size), getElem(m, part + i, size), size), wide);
        break;
      case 0b1101:
        r = sqdmull(getElem(n, part + i, size), getElem(m, part + i, size), size);
        break;
      default:
        r = polyMul8(getElem(n, part + i, 0), getElem(m, part + i, 0));
    }
    setResultElem(i, wide, r & elementMask(wide));
  }
  commitResult(d, true);
  return true;
}

function extend(v: u64, size: u32, unsigned: bool): u64 {
  return unsigned ? v : <u64>signed(v, size);
}

function absDiffWide(a: u64, b: u64, unsigned: bool): u64 {
  if (unsigned) return a > b ? a - b : b - a;
  return <i64>a > <i64>b ? a - b : b - a;
}

/** Vector two-register miscellaneous, integer part. Returns false for FP opcodes it does not own. */
export function vectorTwoRegMiscInteger(insn: u32): bool {
  const q = ((insn >> 30) & 1) != 0;
  const u = ((insn >> 29) & 1) != 0;
  const size = (insn >> 22) & 3;
  const opcode = (insn >> 12) & 31;
  const n = (insn >> 5) & 31;
  const d = insn & 31;
  const elements = (q ? <u32>16 : 8) >> size;
  switch (opcode) {
    case 0b00000: // REV64 / REV32
    case 0b00001: {
      // REV16
      const containerLog2: u32 = opcode == 1 ? 1 : u ? 2 : 3;
      if (size >= containerLog2 || (opcode == 1 && u)) return false;
      const perContainer = 1 << (containerLog2 - size);
      for (let i: u32 = 0; i < <u32>elements; i++) {
        const base = i & ~(perContainer - 1);
        const j = base + (perContainer - 1 - (i - base));
        setResultElem(i, size, getElem(n, j, size));
      }
      break;
    }
    case 0b00010: // SADDLP/UADDLP
    case 0b00110: {
      // SADALP/UADALP
      if (size == 3) return false;
      const wide = size + 1;
      for (let i: u32 = 0; i < <u32>elements / 2; i++) {
        let r = extend(getElem(n, 2 * i, size), size, u) + extend(getElem(n, 2 * i + 1, size), size, u);
        if (opcode == 0b00110) r += getElem(d, i, wide);
        setResultElem(i, wide, r & elementMask(wide));
      }
      break;
    }
    case 0b00011: // SUQADD/USQADD
      if (size == 3 && !q) return false;
      for (let i: u32 = 0; i < <u32>elements; i++) {
        const dv = getElem(d, i, size);
        const nv = getElem(n, i, size);
        setResultElem(i, size, u ? usqadd(dv, nv, size) : suqadd(dv, nv, size));
      }
      break;
    case 0b00100: // CLS/CLZ
      if (size == 3) return false;
      for (let i: u32 = 0; i < <u32>elements; i++) {
        const v = getElem(n, i, size);
        setResultElem(i, size, u ? countLeadingZeros(v, size) : countLeadingSign(v, size));
      }
      break;
    case 0b00101: // CNT / NOT / RBIT
      if (!u) {
        if (size != 0) return false;
        v128.store(RESULT_VECTOR, i8x16.popcnt(getV128(n)));
        commitResult(d, q);
        return true;
      }
      if (size == 0) {
        v128.store(RESULT_VECTOR, v128.not(getV128(n)));
        commitResult(d, q);
        return true;
      }
      if (size != 1) return false;
      for (let i: u32 = 0; i < <u32>elements * 2; i++)
        setResultElem(i, 0, reverseBitsInByte(getElem(n, i, 0)));
      break;
    case 0b00111: // SQABS/SQNEG
    case 0b01011: // ABS/NEG
      if (size == 3 && !q) return false;
      for (let i: u32 = 0; i < <u32>elements; i++) {
        setResultElem(i, size, absOrNeg(getElem(n, i, size), size, u, opcode == 0b00111));
      }
      break;
    case 0b01000: // CMGT/CMGE #0
    case 0b01001: // CMEQ/CMLE #0
    case 0b01010: // CMLT #0
      if ((size == 3 && !q) || (opcode == 0b01010 && u)) return false;
      for (let i: u32 = 0; i < <u32>elements; i++) {
        setResultElem(i, size, compareZero(getElem(n, i, size), size, opcode, u) ? elementMask(size) : 0);
      }
      break;
    case 0b10010: // XTN / SQXTUN
    case 0b10100: // SQXTN / UQXTN
      return narrow(insn, opcode, u, size, n, d);
    case 0b10011: {
      // SHLL/SHLL2
      if (!u || size == 3) return false;
      const part = q ? 8 >> size : 0;
      for (let i: u32 = 0; i < <u32>(8 >> size); i++) {
        setResultElem(i, size + 1, getElem(n, part + i, size) << (8 << size));
      }
      commitResult(d, true);
      return true;
    }
    default:
      return false;
  }
  commitResult(d, q);
  return true;
}

function absOrNeg(v: u64, size: u32, negate: bool, saturating: bool): u64 {
  const s = signed(v, size);
  const r: i64 = negate || s < 0 ? -s : s;
  if (!saturating) return (<u64>r) & elementMask(size);
  if (size == 3) return s == i64.MIN_VALUE ? saturatedSignedLimit(false, 3) : <u64>r;
  return saturateSigned(r, size);
}

function compareZero(v: u64, size: u32, opcode: u32, u: bool): bool {
  const s = signed(v, size);
  if (opcode == 0b01000) return u ? s >= 0 : s > 0;
  if (opcode == 0b01001) return u ? s <= 0 : s == 0;
  return s < 0;
}

/** XTN, SQXTN, UQXTN, SQXTUN (and their "2" forms writing the upper half). */
function narrow(insn: u32, opcode: u32, u: bool, size: u32, n: u32, d: u32): bool {
  if (size == 3) return false;
  const q = (insn >> 30) & 1;
  const count: u32 = 8 >> size;
  const wide = size + 1;
  beginResultFrom(d);
  if (!q) clearResult();
  for (let i: u32 = 0; i < <u32>count; i++) {
    const v = getElem(n, i, wide);
    let r: u64;
    if (opcode == 0b10010) r = u ? saturateUnsigned(signed(v, wide), size) : v & elementMask(size);
    else if (u) r = saturateUnsignedNarrow(v, size);
    else r = saturateSigned(signed(v, wide), size);
    setResultElem(q * count + i, size, r);
  }
  commitResult(d, true);
  return true;
}

/** Scalar two-register miscellaneous, integer part. */
export function scalarTwoRegMiscInteger(insn: u32): bool {
  const u = ((insn >> 29) & 1) != 0;
  const size = (insn >> 22) & 3;
  const opcode = (insn >> 12) & 31;
  const n = (insn >> 5) & 31;
  const d = insn & 31;
  const v = getElem(n, 0, size);
  let r: u64;
  switch (opcode) {
    case 0b00011:
      r = u ? usqadd(getElem(d, 0, size), v, size) : suqadd(getElem(d, 0, size), v, size);
      break;
    case 0b00111:
      r = absOrNeg(v, size, u, true);
      break;
    case 0b01011:
      if (size != 3) return false;
      r = absOrNeg(v, size, u, false);
      break;
    case 0b01000:
    case 0b01001:
    case 0b01010:
      if (size != 3 || (opcode == 0b01010 && u)) return false;
      r = compareZero(v, size, opcode, u) ? ONES : 0;
      break;
    case 0b10010: // SQXTUN
    case 0b10100: {
      // SQXTN/UQXTN
      if (size == 3 || (opcode == 0b10010 && !u)) return false;
      const w = getElem(n, 0, size + 1);
      if (opcode == 0b10010) r = saturateUnsigned(signed(w, size + 1), size);
      else if (u) r = saturateUnsignedNarrow(w, size);
      else r = saturateSigned(signed(w, size + 1), size);
      break;
    }
    default:
      return false;
  }
  setScalar(d, r, 1 << size);
  return true;
}

/** ADDV, SADDLV/UADDLV, SMAXV/UMAXV, SMINV/UMINV. */
export function acrossLanesInteger(insn: u32): bool {
  const q = ((insn >> 30) & 1) != 0;
  const u = ((insn >> 29) & 1) != 0;
  const size = (insn >> 22) & 3;
  const opcode = (insn >> 12) & 31;
  const n = (insn >> 5) & 31;
  if (size == 3 || (size == 2 && !q)) return false;
  if (opcode != 0b00011 && opcode != 0b01010 && opcode != 0b11010 && !(opcode == 0b11011 && !u)) return false;
  if (opcode != 0b00011) {
    setScalar(insn & 31, acrossLanesFast(opcode, u, size, n, q), 1 << size);
    return true;
  }
  // SADDLV/UADDLV: the sum is kept at double width.
  const elements = (q ? <u32>16 : 8) >> size;
  let sum: u64 = 0;
  for (let i: u32 = 0; i < elements; i++) sum += extend(getElem(n, i, size), size, u);
  setScalar(insn & 31, sum & elementMask(size + 1), 2 << size);
  return true;
}

/** Scalar pairwise ADDP (the only integer one): Dd = Vn.D[0] + Vn.D[1]. */
export function scalarPairwiseAdd(insn: u32): bool {
  if (((insn >> 22) & 3) != 3 || (insn >> 29) & 1) return false;
  const n = (insn >> 5) & 31;
  setScalar(insn & 31, getElem(n, 0, 3) + getElem(n, 1, 3), 8);
  return true;
}

/** MUL, MLA, MLS, the long multiplies and the doubling multiplies by element (vector or scalar). */
export function integerByElement(insn: u32, scalar: bool): bool {
  const q = (insn >> 30) & 1;
  const u = ((insn >> 29) & 1) != 0;
  const size = (insn >> 22) & 3;
  const opcode = (insn >> 12) & 15;
  if (size != 1 && size != 2) return false;
  const l = (insn >> 21) & 1;
  const mBit = (insn >> 20) & 1;
  const h = (insn >> 11) & 1;
  const index = size == 1 ? (h << 2) | (l << 1) | mBit : (h << 1) | l;
  const m = size == 1 ? (insn >> 16) & 15 : (insn >> 16) & 31;
  const n = (insn >> 5) & 31;
  const d = insn & 31;
  const b = getElem(m, index, size);
  const isLong = (opcode & 2) != 0 && opcode < 0b1100;
  const doubling =
    opcode == 0b0011 || opcode == 0b0111 || opcode == 0b1011 || opcode == 0b1100 || opcode == 0b1101;
  if (doubling && u) return false;
  if (scalar) {
    // Scalar forms: only the saturating doubling multiplies.
    if (!doubling) return false;
    const a = getElem(n, 0, size);
    let r: u64;
    if (opcode == 0b1100 || opcode == 0b1101) {
      r = sqdmulh(a, b, size, opcode == 0b1101);
      setScalar(d, r, 1 << size);
      return true;
    }
    const p = sqdmull(a, b, size);
    const acc = getElem(d, 0, size + 1);
    r = opcode == 0b1011 ? p : opcode == 0b0011 ? sqadd(acc, p, size + 1) : sqsub(acc, p, size + 1);
    setScalar(d, r, 2 << size);
    return true;
  }
  if (!isLong) {
    if (opcode != 0b0000 && opcode != 0b0100 && opcode != 0b1000 && opcode != 0b1100 && opcode != 0b1101)
      return false;
    if ((opcode == 0b0000 || opcode == 0b0100) && !u) return false;
    if (opcode == 0b1000 && u) return false;
    const elements = (q ? <u32>16 : 8) >> size;
    for (let i: u32 = 0; i < <u32>elements; i++) {
      const a = getElem(n, i, size);
      const acc = getElem(d, i, size);
      let r: u64;
      if (opcode == 0b0000) r = acc + a * b;
      else if (opcode == 0b0100) r = acc - a * b;
      else if (opcode == 0b1000) r = a * b;
      else r = sqdmulh(a, b, size, opcode == 0b1101);
      setResultElem(i, size, r & elementMask(size));
    }
    commitResult(d, q != 0);
    return true;
  }
  const wide = size + 1;
  const count: u32 = 8 >> size;
  const part = q * count;
  const bw = extend(b, size, u);
  for (let i: u32 = 0; i < <u32>count; i++) {
    const a = getElem(n, part + i, size);
    const acc = getElem(d, i, wide);
    let r: u64;
    switch (opcode) {
      case 0b0010:
        r = acc + extend(a, size, u) * bw;
        break;
      case 0b0110:
        r = acc - extend(a, size, u) * bw;
        break;
      case 0b1010:
        r = extend(a, size, u) * bw;
        break;
      case 0b0011:
        r = sqadd(acc, sqdmull(a, b, size), wide);
        break;
      case 0b0111:
        r = sqsub(acc, sqdmull(a, b, size), wide);
        break;
      default:
        r = sqdmull(a, b, size);
    }
    setResultElem(i, wide, r & elementMask(wide));
  }
  commitResult(d, true);
  return true;
}

/** Scalar three different: SQDMLAL, SQDMLSL, SQDMULL. */
export function scalarThreeDifferent(insn: u32): bool {
  const size = (insn >> 22) & 3;
  const opcode = (insn >> 12) & 15;
  if ((insn >> 29) & 1 || (size != 1 && size != 2)) return false;
  if (opcode != 0b1001 && opcode != 0b1011 && opcode != 0b1101) return false;
  const d = insn & 31;
  const product = sqdmull(getElem((insn >> 5) & 31, 0, size), getElem((insn >> 16) & 31, 0, size), size);
  const acc = getElem(d, 0, size + 1);
  let r = product;
  if (opcode == 0b1001) r = sqadd(acc, product, size + 1);
  else if (opcode == 0b1011) r = sqsub(acc, product, size + 1);
  setScalar(d, r, 2 << size);
  return true;
}
