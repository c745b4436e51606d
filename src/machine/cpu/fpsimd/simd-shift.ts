// Advanced SIMD shift by immediate, vector and scalar: SSHR/USHR, SSRA/USRA, SRSHR/URSHR,
// SRSRA/URSRA, SRI, SHL, SLI, SQSHL/UQSHL/SQSHLU, the narrowing SHRN family, SSHLL/USHLL, and the
// fixed-point conversions SCVTF/UCVTF/FCVTZS/FCVTZU.
import {
  elementMask,
  saturateSigned,
  saturateUnsigned,
  saturateUnsignedNarrow,
  shiftByRegister,
  shiftLeft,
  shiftLeftSignedToUnsigned,
  signed,
} from "./integer-ops";
import { FMT_D, FMT_S, fixedToFp, fpToFixed } from "./softfloat";
import { shiftImmediateFast, shiftRightNarrowFast } from "./simd-fast";
import {
  RM_ZERO,
  beginResultFrom,
  clearResult,
  commitResult,
  fpcrRounding,
  getElem,
  setResultElem,
  setScalar,
} from "./state";

/** Shift right by n (1 ≤ n ≤ element bits), truncating or rounding. */
function shiftRight(a: u64, n: u32, size: u32, isSigned: bool, rounding: bool): u64 {
  return shiftByRegister(a, (<u64>-(<i32>n)) & 0xff, size, isSigned, rounding, false);
}

/** One element of the non-narrowing opcodes; `d` is the destination element for accumulate/insert. */
function shiftElement(opcode: u32, u: bool, size: u32, a: u64, d: u64, right: u32, left: u32): u64 {
  const mask = elementMask(size);
  switch (opcode) {
    case 0b00000:
      return shiftRight(a, right, size, !u, false);
    case 0b00010:
      return (d + shiftRight(a, right, size, !u, false)) & mask;
    case 0b00100:
      return shiftRight(a, right, size, !u, true);
    case 0b00110:
      return (d + shiftRight(a, right, size, !u, true)) & mask;
    case 0b01000: {
      // SRI
      const bits = 8 << size;
      if (right == <u32>bits) return d;
      const keep = ~(mask >> right) & mask;
      return (d & keep) | (a >> right);
    }
    case 0b01010: // SHL / SLI
      if (!u) return (a << left) & mask;
      return (d & ~((mask << left) & mask)) | ((a << left) & mask);
    case 0b01100:
      return shiftLeftSignedToUnsigned(a, left, size);
    default:
      // 0b01110: SQSHL/UQSHL (immediate)
      return shiftLeft(a, left, size, !u, true);
  }
}

/** Element size from immh (its highest set bit), or 4 when immh is zero. */
function immhSize(immh: u32): u32 {
  return immh == 0 ? 4 : 31 - <u32>clz(immh);
}

/** Narrowing shift of a double-width element into a `size` result, per opcode 1000x/1001x. */
function narrowElement(opcode: u32, u: bool, size: u32, a: u64, right: u32): u64 {
  const wide = size + 1;
  const rounding = (opcode & 1) != 0;
  if (opcode < 0b10010) {
    // SHRN/RSHRN (U = 0) or SQSHRUN/SQRSHRUN (U = 1)
    const shifted = shiftRight(a, right, wide, u, rounding);
    if (!u) return shifted & elementMask(size);
    return saturateUnsignedFromSigned(shifted, wide, size);
  }
  // SQSHRN/SQRSHRN or UQSHRN/UQRSHRN
  const shifted = shiftRight(a, right, wide, !u, rounding);
  if (u) return saturateUnsignedNarrow(shifted, size);
  return saturateSigned(signed(shifted, wide), size);
}

function saturateUnsignedFromSigned(v: u64, wide: u32, size: u32): u64 {
  return saturateUnsigned(signed(v, wide), size);
}

function fixedPointElement(opcode: u32, u: bool, size: u32, a: u64, fbits: u32): u64 {
  const fmt = size == 3 ? FMT_D : FMT_S;
  const bits: u32 = 8 << size;
  if (opcode == 0b11100) return fixedToFp(a, bits, u, fbits, fmt, fpcrRounding());
  return fpToFixed(a, fmt, fbits, u, bits, RM_ZERO);
}

/** Vector shift by immediate (immh ≠ 0). */
export function vectorShiftImmediate(insn: u32): bool {
  const q = ((insn >> 30) & 1) != 0;
  const u = ((insn >> 29) & 1) != 0;
  const immh = (insn >> 19) & 15;
  const immhb = (insn >> 16) & 0x7f;
  const opcode = (insn >> 11) & 31;
  const n = (insn >> 5) & 31;
  const d = insn & 31;
  const size = immhSize(immh);
  if (size == 4) return false;
  const bits: u32 = 8 << size;
  const right = 2 * bits - immhb;
  const left = immhb - bits;
  if (opcode >= 0b10000 && opcode <= 0b10100) {
    if (size == 3) return false;
    if (opcode == 0b10100) {
      // SSHLL/USHLL (and SXTL/UXTL): widen the low or high half.
      const part = q ? 8 >> size : 0;
      for (let i: u32 = 0; i < <u32>(8 >> size); i++) {
        let v = getElem(n, part + i, size);
        if (!u) v = <u64>signed(v, size);
        setResultElem(i, size + 1, (v << left) & elementMask(size + 1));
      }
      commitResult(d, true);
      return true;
    }
    if (opcode == 0b10000 && !u) {
      shiftRightNarrowFast(size, right, n, d, q);
      return true;
    }
    beginResultFrom(d);
    if (!q) clearResult();
    const count: u32 = 8 >> size;
    const base = q ? count : 0;
    for (let i: u32 = 0; i < <u32>count; i++) {
      setResultElem(base + i, size, narrowElement(opcode, u, size, getElem(n, i, size + 1), right));
    }
    commitResult(d, true);
    return true;
  }
  if (size == 3 && !q) return false;
  const elements = (q ? <u32>16 : 8) >> size;
  if (opcode == 0b11100 || opcode == 0b11111) {
    if (size < 2) return false;
    for (let i: u32 = 0; i < <u32>elements; i++) {
      setResultElem(i, size, fixedPointElement(opcode, u, size, getElem(n, i, size), right));
    }
    commitResult(d, q);
    return true;
  }
  if (!shiftOpcodeAllocated(opcode, u)) return false;
  if (shiftImmediateFast(opcode, u, size, right, left, n, d, q)) return true;
  for (let i: u32 = 0; i < <u32>elements; i++) {
    setResultElem(
      i,
      size,
      shiftElement(opcode, u, size, getElem(n, i, size), getElem(d, i, size), right, left),
    );
  }
  commitResult(d, q);
  return true;
}

function shiftOpcodeAllocated(opcode: u32, u: bool): bool {
  switch (opcode) {
    case 0b00000:
    case 0b00010:
    case 0b00100:
    case 0b00110:
    case 0b01010:
    case 0b01110:
      return true;
    case 0b01000:
    case 0b01100:
      return u;
    default:
      return false;
  }
}

/** Scalar shift by immediate. */
export function scalarShiftImmediate(insn: u32): bool {
  const u = ((insn >> 29) & 1) != 0;
  const immh = (insn >> 19) & 15;
  const immhb = (insn >> 16) & 0x7f;
  const opcode = (insn >> 11) & 31;
  const n = (insn >> 5) & 31;
  const d = insn & 31;
  const size = immhSize(immh);
  if (size == 4) return false;
  const bits: u32 = 8 << size;
  const right = 2 * bits - immhb;
  const left = immhb - bits;
  let r: u64;
  if (opcode >= 0b10000 && opcode <= 0b10011) {
    if (size == 3) return false;
    if (opcode < 0b10010 && !u) return false; // SHRN/RSHRN have no scalar form.
    r = narrowElement(opcode, u, size, getElem(n, 0, size + 1), right);
  } else if (opcode == 0b11100 || opcode == 0b11111) {
    if (size < 2) return false;
    r = fixedPointElement(opcode, u, size, getElem(n, 0, size), right);
  } else if (opcode == 0b01100 || opcode == 0b01110) {
    if (opcode == 0b01100 && !u) return false;
    r = shiftElement(opcode, u, size, getElem(n, 0, size), 0, right, left);
  } else {
    if (size != 3 || !shiftOpcodeAllocated(opcode, u)) return false;
    r = shiftElement(opcode, u, size, getElem(n, 0, size), getElem(d, 0, size), right, left);
  }
  setScalar(d, r, 1 << size);
  return true;
}
