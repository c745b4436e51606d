// Scalar floating-point data processing (ARM ARM C4.1.96–: "Floating-point data-processing",
// compare, conditional compare/select, immediate, and conversions to and from integers and
// fixed point). Single and double precision; half precision only where FCVT needs it.
import { getX, setX } from "../registers";
import { nzcv } from "../state";
import { conditionHolds } from "./condition";
import {
  FMT_D,
  FMT_H,
  FMT_S,
  fixedToFp,
  fpAbs,
  fpAdd,
  fpCompare,
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
  RM_POSINF,
  RM_TIEAWAY,
  RM_TIEEVEN,
  RM_ZERO,
  fpcrRounding,
  getElem,
  getVHi,
  getVLo,
  setScalar,
  setV,
} from "./state";

/** ftype (bits 23:22) to a format: 00 single, 01 double, 11 half; 10 is unallocated (0). */
function formatOf(ftype: u32): u32 {
  return ftype == 0 ? FMT_S : ftype == 1 ? FMT_D : ftype == 3 ? FMT_H : 0;
}

function readFp(n: u32, fmt: u32): u64 {
  return getElem(n, 0, fmt);
}

function writeFp(d: u32, v: u64, fmt: u32): void {
  setScalar(d, v, 1 << fmt);
}

/** Executes one instruction of the scalar floating-point group (bit 28 = 1, bit 30 = 0). */
export function executeFpScalar(insn: u32): bool {
  if ((insn >> 24) & 1) return fpDataProcessing3(insn);
  if ((insn >> 21) & 1) {
    const low = (insn >> 10) & 0x3f;
    if ((low & 3) == 1) return fpConditionalCompare(insn);
    if ((low & 3) == 2) return fpDataProcessing2(insn);
    if ((low & 3) == 3) return fpConditionalSelect(insn);
    if ((low & 7) == 4) return fpImmediate(insn);
    if ((low & 0xf) == 8) return fpCompareInsn(insn);
    if ((low & 0x1f) == 0x10) return fpDataProcessing1(insn);
    if (low == 0) return fpIntegerConversion(insn);
    return false;
  }
  return fpFixedConversion(insn);
}

/** FMADD, FMSUB, FNMADD, FNMSUB: negations apply to the operands before the fused operation. */
function fpDataProcessing3(insn: u32): bool {
  if (insn >> 29 != 0) return false; // M and S must be zero.
  const fmt = formatOf((insn >> 22) & 3);
  if (fmt != FMT_S && fmt != FMT_D) return false;
  const negateProduct = ((insn >> 15) & 1) != ((insn >> 21) & 1);
  const negateAddend = ((insn >> 21) & 1) != 0;
  let a = readFp((insn >> 10) & 31, fmt);
  let n = readFp((insn >> 5) & 31, fmt);
  const m = readFp((insn >> 16) & 31, fmt);
  if (negateAddend) a = fpNeg(a, fmt);
  if (negateProduct) n = fpNeg(n, fmt);
  writeFp(insn & 31, fpMulAdd(a, n, m, fmt), fmt);
  return true;
}

function fpDataProcessing2(insn: u32): bool {
  if (insn >> 29 != 0) return false;
  const fmt = formatOf((insn >> 22) & 3);
  if (fmt != FMT_S && fmt != FMT_D) return false;
  const opcode = (insn >> 12) & 15;
  if (opcode > 8) return false;
  writeFp(
    insn & 31,
    fpBinary(opcode, readFp((insn >> 5) & 31, fmt), readFp((insn >> 16) & 31, fmt), fmt),
    fmt,
  );
  return true;
}

/** The 2-source opcodes (FMUL, FDIV, FADD, FSUB, FMAX, FMIN, FMAXNM, FMINNM, FNMUL). */
function fpBinary(opcode: u32, a: u64, b: u64, fmt: u32): u64 {
  switch (opcode) {
    case 0:
      return fpMul(a, b, fmt, false);
    case 1:
      return fpDiv(a, b, fmt);
    case 2:
      return fpAdd(a, b, fmt, false);
    case 3:
      return fpAdd(a, b, fmt, true);
    case 4:
      return fpMinMax(a, b, fmt, true, false);
    case 5:
      return fpMinMax(a, b, fmt, false, false);
    case 6:
      return fpMinMax(a, b, fmt, true, true);
    case 7:
      return fpMinMax(a, b, fmt, false, true);
    default:
      return fpNeg(fpMul(a, b, fmt, false), fmt);
  }
}

function fpDataProcessing1(insn: u32): bool {
  if (insn >> 29 != 0) return false;
  const ftype = (insn >> 22) & 3;
  const fmt = formatOf(ftype);
  const opcode = (insn >> 15) & 0x3f;
  const d = insn & 31;
  const n = (insn >> 5) & 31;
  if (fmt == 0) return false;
  if (opcode >= 4 && opcode <= 7) {
    // FCVT: opc bits 16:15 select the destination format (00 single, 01 double, 11 half).
    const to = formatOf(opcode & 3);
    if (to == 0 || to == fmt) return false;
    writeFp(d, fpConvert(readFp(n, fmt), fmt, to, fpcrRounding()), to);
    return true;
  }
  if (fmt == FMT_H) return false; // Half-precision arithmetic is FEAT_FP16.
  const a = readFp(n, fmt);
  let r: u64;
  switch (opcode) {
    case 0:
      r = a;
      break;
    case 1:
      r = fpAbs(a, fmt);
      break;
    case 2:
      r = fpNeg(a, fmt);
      break;
    case 3:
      r = fpSqrt(a, fmt);
      break;
    case 8:
      r = fpRoundInt(a, fmt, RM_TIEEVEN, false);
      break;
    case 9:
      r = fpRoundInt(a, fmt, RM_POSINF, false);
      break;
    case 10:
      r = fpRoundInt(a, fmt, RM_NEGINF, false);
      break;
    case 11:
      r = fpRoundInt(a, fmt, RM_ZERO, false);
      break;
    case 12:
      r = fpRoundInt(a, fmt, RM_TIEAWAY, false);
      break;
    case 14:
      r = fpRoundInt(a, fmt, fpcrRounding(), true);
      break;
    case 15:
      r = fpRoundInt(a, fmt, fpcrRounding(), false);
      break;
    default:
      return false;
  }
  writeFp(d, r, fmt);
  return true;
}

function fpCompareInsn(insn: u32): bool {
  if (insn >> 29 != 0 || ((insn >> 14) & 3) != 0 || (insn & 7) != 0) return false;
  const fmt = formatOf((insn >> 22) & 3);
  if (fmt != FMT_S && fmt != FMT_D) return false;
  const withZero = ((insn >> 3) & 1) != 0;
  // The zero forms' Rm is should-be-zero; like qemu (one of the permitted behaviours), ignore it.
  const a = readFp((insn >> 5) & 31, fmt);
  const b: u64 = withZero ? 0 : readFp((insn >> 16) & 31, fmt);
  setNzcv(fpCompare(a, b, fmt, ((insn >> 4) & 1) != 0));
  return true;
}

function setNzcv(flags: u32): void {
  nzcv = flags << 28;
}

function fpConditionalCompare(insn: u32): bool {
  if (insn >> 29 != 0) return false;
  const fmt = formatOf((insn >> 22) & 3);
  if (fmt != FMT_S && fmt != FMT_D) return false;
  if (conditionHolds((insn >> 12) & 15)) {
    const a = readFp((insn >> 5) & 31, fmt);
    const b = readFp((insn >> 16) & 31, fmt);
    setNzcv(fpCompare(a, b, fmt, ((insn >> 4) & 1) != 0));
  } else {
    setNzcv(insn & 15);
  }
  return true;
}

function fpConditionalSelect(insn: u32): bool {
  if (insn >> 29 != 0) return false;
  const fmt = formatOf((insn >> 22) & 3);
  if (fmt != FMT_S && fmt != FMT_D) return false;
  const src = conditionHolds((insn >> 12) & 15) ? (insn >> 5) & 31 : (insn >> 16) & 31;
  writeFp(insn & 31, readFp(src, fmt), fmt);
  return true;
}

/** VFPExpandImm: imm8 = a:b:cdefgh becomes sign a, exponent NOT(b):b..b:cd, fraction efgh0… */
export function expandFpImm(imm8: u32, fmt: u32): u64 {
  const sign = <u64>((imm8 >> 7) & 1);
  const b = (imm8 >> 6) & 1;
  const cd = <u64>((imm8 >> 4) & 3);
  const efgh = <u64>(imm8 & 15);
  if (fmt == FMT_D) {
    const exp = ((<u64>(b ^ 1)) << 10) | (b ? (<u64>0xff) << 2 : 0) | cd;
    return (sign << 63) | (exp << 52) | (efgh << 48);
  }
  const exp = ((<u64>(b ^ 1)) << 7) | (b ? (<u64>0x1f) << 2 : 0) | cd;
  return (sign << 31) | (exp << 23) | (efgh << 19);
}

function fpImmediate(insn: u32): bool {
  if (insn >> 29 != 0 || ((insn >> 5) & 31) != 0) return false;
  const fmt = formatOf((insn >> 22) & 3);
  if (fmt != FMT_S && fmt != FMT_D) return false;
  writeFp(insn & 31, expandFpImm((insn >> 13) & 0xff, fmt), fmt);
  return true;
}

/** FCVT[NPMZA][SU], SCVTF/UCVTF and FMOV between FP and general registers. */
function fpIntegerConversion(insn: u32): bool {
  if ((insn >> 29) & 1) return false;
  const sf = insn >> 31;
  const ftype = (insn >> 22) & 3;
  const rmode = (insn >> 19) & 3;
  const opcode = (insn >> 16) & 7;
  const d = insn & 31;
  const n = (insn >> 5) & 31;
  const intBits: u32 = sf ? 64 : 32;
  if (opcode >= 6) {
    if (rmode == 0 && ((sf == 0 && ftype == 0) || (sf == 1 && ftype == 1))) {
      if (opcode == 6) setX(d, sf ? getVLo(n) : getVLo(n) & 0xffffffff);
      else setScalar(d, getX(n), sf ? 8 : 4);
      return true;
    }
    if (rmode == 1 && sf == 1 && ftype == 2) {
      // FMOV Xd, Vn.D[1] / FMOV Vd.D[1], Xn: the other half of the vector is kept.
      if (opcode == 6) setX(d, getVHi(n));
      else setV(d, getVLo(d), getX(n));
      return true;
    }
    return false;
  }
  const fmt = formatOf(ftype);
  if (fmt != FMT_S && fmt != FMT_D) return false;
  if (opcode == 2 || opcode == 3) {
    if (rmode != 0) return false;
    writeFp(d, fixedToFp(getX(n), intBits, opcode == 3, 0, fmt, fpcrRounding()), fmt);
    return true;
  }
  let rounding: u32;
  if (opcode <= 1)
    rounding = rmode; // N, P, M, Z as RMode numbers.
  else if (rmode == 0)
    rounding = RM_TIEAWAY; // FCVTAS/FCVTAU.
  else return false;
  const r = fpToFixed(readFp(n, fmt), fmt, 0, (opcode & 1) != 0, intBits, rounding);
  setX(d, r);
  return true;
}

/** SCVTF/UCVTF and FCVTZS/FCVTZU with a fixed-point scale. */
function fpFixedConversion(insn: u32): bool {
  if ((insn >> 29) & 1) return false;
  const sf = insn >> 31;
  const fmt = formatOf((insn >> 22) & 3);
  if (fmt != FMT_S && fmt != FMT_D) return false;
  const scale = (insn >> 10) & 0x3f;
  if (sf == 0 && scale < 32) return false;
  const fbits = 64 - scale;
  const rmodeOpcode = (insn >> 16) & 0x1f;
  const d = insn & 31;
  const n = (insn >> 5) & 31;
  const intBits: u32 = sf ? 64 : 32;
  if (rmodeOpcode == 0b00010 || rmodeOpcode == 0b00011) {
    writeFp(d, fixedToFp(getX(n), intBits, rmodeOpcode == 3, fbits, fmt, fpcrRounding()), fmt);
    return true;
  }
  if (rmodeOpcode == 0b11000 || rmodeOpcode == 0b11001) {
    setX(d, fpToFixed(readFp(n, fmt), fmt, fbits, rmodeOpcode == 0b11001, intBits, RM_ZERO));
    return true;
  }
  return false;
}
