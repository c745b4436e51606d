// Advanced SIMD data movement: copy (DUP, INS, UMOV, SMOV), permutes (UZP, TRN, ZIP), EXT,
// table lookups (TBL, TBX), modified immediates (MOVI, MVNI, ORR, BIC, FMOV) and scalar DUP.
import { getX, setX } from "../registers";
import { expandFpImm } from "./fp-scalar";
import { tableLookupFast } from "./simd-fast";
import { FMT_D, FMT_S } from "./softfloat";
import {
  commitResult,
  getElem,
  getElemSigned,
  getV128,
  setResultElem,
  setScalar,
  RESULT_VECTOR,
  beginResultFrom,
} from "./state";

/** Element size (log2 bytes) from a copy-class imm5, or 4 when unallocated. */
function copySize(imm5: u32): u32 {
  return imm5 & 15 ? <u32>ctz(imm5) : 4;
}

function replicate(d: u32, size: u32, v: u64, q: bool): void {
  let r: v128;
  if (size == 0) r = i8x16.splat(<i8>v);
  else if (size == 1) r = i16x8.splat(<i16>v);
  else if (size == 2) r = i32x4.splat(<i32>v);
  else r = i64x2.splat(<i64>v);
  v128.store(RESULT_VECTOR, r);
  commitResult(d, q);
}

export function copy(insn: u32): bool {
  const q = ((insn >> 30) & 1) != 0;
  const op = (insn >> 29) & 1;
  const imm5 = (insn >> 16) & 31;
  const imm4 = (insn >> 11) & 15;
  const n = (insn >> 5) & 31;
  const d = insn & 31;
  const size = copySize(imm5);
  if (size == 4) return false;
  const index = imm5 >> (size + 1);
  if (op) {
    // INS (element)
    if (!q) return false;
    const v = getElem(n, imm4 >> size, size);
    beginResultFrom(d);
    setResultElem(index, size, v);
    commitResult(d, true);
    return true;
  }
  switch (imm4) {
    case 0b0000: // DUP (element)
      if (size == 3 && !q) return false;
      replicate(d, size, getElem(n, index, size), q);
      return true;
    case 0b0001: // DUP (general)
      if (size == 3 && !q) return false;
      replicate(d, size, getX(n), q);
      return true;
    case 0b0011: // INS (general)
      if (!q) return false;
      beginResultFrom(d);
      setResultElem(index, size, getX(n));
      commitResult(d, true);
      return true;
    case 0b0101: {
      // SMOV
      if (size >= (q ? 3 : 2)) return false;
      const v = <u64>getElemSigned(n, index, size);
      setX(d, q ? v : v & 0xffffffff);
      return true;
    }
    case 0b0111: // UMOV
      if (q ? size != 3 : size == 3) return false;
      setX(d, getElem(n, index, size));
      return true;
    default:
      return false;
  }
}

/** DUP (element), scalar form: Vd = Vn[index] as a scalar. */
export function scalarCopy(insn: u32): bool {
  const imm5 = (insn >> 16) & 31;
  if ((insn >> 29) & 1 || ((insn >> 11) & 15) != 0) return false;
  const size = copySize(imm5);
  if (size == 4) return false;
  setScalar(insn & 31, getElem((insn >> 5) & 31, imm5 >> (size + 1), size), 1 << size);
  return true;
}

export function permute(insn: u32): bool {
  const q = ((insn >> 30) & 1) != 0;
  const size = (insn >> 22) & 3;
  const opcode = (insn >> 12) & 7;
  const m = (insn >> 16) & 31;
  const n = (insn >> 5) & 31;
  const d = insn & 31;
  if ((size == 3 && !q) || (opcode & 3) == 0) return false;
  const elements: u32 = (q ? <u32>16 : 8) >> size;
  const half = elements >> 1;
  const second: u32 = opcode >> 2;
  for (let i: u32 = 0; i < elements; i++) {
    let v: u64;
    switch (opcode & 3) {
      case 1: {
        // UZP: even (or odd) elements of the concatenation Vm:Vn
        const j: u32 = 2 * i + second;
        v = j < elements ? getElem(n, j, size) : getElem(m, j - elements, size);
        break;
      }
      case 2: {
        // TRN
        const j = (i & ~1) + second;
        v = i & 1 ? getElem(m, j, size) : getElem(n, j, size);
        break;
      }
      default: {
        // ZIP
        const j = (i >> 1) + second * half;
        v = i & 1 ? getElem(m, j, size) : getElem(n, j, size);
      }
    }
    setResultElem(i, size, v);
  }
  commitResult(d, q);
  return true;
}

export function extract(insn: u32): bool {
  const q = ((insn >> 30) & 1) != 0;
  const imm4 = (insn >> 11) & 15;
  if (((insn >> 22) & 3) != 0 || (!q && imm4 >= 8)) return false;
  const m = (insn >> 16) & 31;
  const n = (insn >> 5) & 31;
  const bytes: u32 = q ? 16 : 8;
  for (let i: u32 = 0; i < bytes; i++) {
    const j = i + imm4;
    setResultElem(i, 0, j < bytes ? getElem(n, j, 0) : getElem(m, j - bytes, 0));
  }
  commitResult(insn & 31, q);
  return true;
}

/** TBL/TBX with 1–4 table registers. */
export function tableLookup(insn: u32): bool {
  if (((insn >> 22) & 3) != 0) return false;
  const q = ((insn >> 30) & 1) != 0;
  const tableRegs = ((insn >> 13) & 3) + 1;
  const isTbx = ((insn >> 12) & 1) != 0;
  const m = (insn >> 16) & 31;
  const n = (insn >> 5) & 31;
  const d = insn & 31;
  tableLookupFast(tableRegs, isTbx, n, m, d, q);
  return true;
}

/** AdvSIMDExpandImm for the integer cmodes (everything but the FMOV forms). */
function expandSimdImm(op: u32, cmode: u32, imm8: u32): u64 {
  const imm = <u64>imm8;
  switch (cmode >> 1) {
    case 0:
    case 1:
    case 2:
    case 3: {
      const v = imm << ((cmode >> 1) * 8);
      return v | (v << 32);
    }
    case 4:
    case 5: {
      const v = imm << (((cmode >> 1) & 1) * 8);
      return v * 0x0001000100010001;
    }
    case 6: {
      const v = cmode & 1 ? (imm << 16) | 0xffff : (imm << 8) | 0xff;
      return v | (v << 32);
    }
    default: {
      if (op == 0) return imm * 0x0101010101010101;
      let v: u64 = 0;
      for (let i: u64 = 0; i < 8; i++) if ((imm >> i) & 1) v |= (<u64>0xff) << (i * 8);
      return v;
    }
  }
}

export function modifiedImmediate(insn: u32): bool {
  const q = ((insn >> 30) & 1) != 0;
  const op = (insn >> 29) & 1;
  const cmode = (insn >> 12) & 15;
  const imm8 = (((insn >> 16) & 7) << 5) | ((insn >> 5) & 31);
  const d = insn & 31;
  if ((insn >> 11) & 1) return false; // o2 = 1 is the FP16 FMOV.
  if (cmode == 15) {
    if (op && !q) return false;
    const fmt = op ? FMT_D : FMT_S;
    let v = expandFpImm(imm8, fmt);
    if (fmt == FMT_S) v |= v << 32;
    v128.store(RESULT_VECTOR, i64x2.splat(<i64>v));
    commitResult(d, q);
    return true;
  }
  const imm = expandSimdImm(op, cmode, imm8);
  const isLogical = cmode < 12 && (cmode & 1) != 0;
  if (!isLogical) {
    // MOVI/MVNI; op = 1 with cmode 1110 is MOVI of a 64-bit pattern (not inverted).
    const v = op && cmode != 14 ? ~imm : imm;
    v128.store(RESULT_VECTOR, i64x2.splat(<i64>v));
    commitResult(d, q);
    return true;
  }
  const current = getV128(d);
  const pattern = i64x2.splat(<i64>imm);
  v128.store(RESULT_VECTOR, op ? v128.andnot(current, pattern) : v128.or(current, pattern));
  commitResult(d, q);
  return true;
}
