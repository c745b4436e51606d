// A64 "Data processing -- register": logical and add/subtract (shifted and
// extended register), add/subtract with carry, conditional compare and select,
// one- and two-source operations (with CRC32), and three-source multiplies.
import { getX, setX, getXSP, setXSP } from "./registers";
import { nzcv } from "./state";
import { addWithCarry64, addWithCarry32, setLogicalFlags, conditionHolds, umulh, smulh } from "./alu";

export function executeDataProcessingRegister(insn: u32): bool {
  const op1 = (insn >> 28) & 1;
  const op2 = (insn >> 21) & 0xf;
  if (!op1) {
    if (!(op2 & 8)) return logicalShifted(insn);
    return op2 & 1 ? addSubExtended(insn) : addSubShifted(insn);
  }
  if (op2 == 0) return ((insn >> 10) & 0x3f) == 0 ? addSubCarry(insn) : false;
  if (op2 == 2) return conditionalCompare(insn);
  if (op2 == 4) return conditionalSelect(insn);
  if (op2 == 6) return (insn >> 30) & 1 ? oneSource(insn) : twoSource(insn);
  if (op2 & 8) return threeSource(insn);
  return false;
}

/** Shifts a register operand on 64 bits, or on 32 bits when !sf. */
function shiftReg(v: u64, type: u32, amount: u64, sf: bool): u64 {
  if (sf) {
    switch (type) {
      case 0:
        return v << amount;
      case 1:
        return v >> amount;
      case 2:
        return <u64>((<i64>v) >> amount);
      default:
        return amount == 0 ? v : (v >> amount) | (v << (64 - amount));
    }
  }
  const w = v & 0xffff_ffff;
  switch (type) {
    case 0:
      return (w << amount) & 0xffff_ffff;
    case 1:
      return w >> amount;
    case 2:
      return <u64>(<u32>((<i32>(<u32>w)) >> (<i32>amount)));
    default:
      return amount == 0 ? w : ((w >> amount) | (w << (32 - amount))) & 0xffff_ffff;
  }
}

function logicalShifted(insn: u32): bool {
  return LogicalShifted.execute(insn, insn >> 31 != 0, (insn >> 29) & 3);
}

/** AND, ORR, EOR, ANDS and their inverted forms (shifted register) with sf and opc given (see execute.ts). */
export class LogicalShifted {
  @inline
  static execute(insn: u32, sf: bool, opc: u32): bool {
    const shift = (insn >> 22) & 3;
    const invert = (insn >> 21) & 1;
    const amount = <u64>((insn >> 10) & 0x3f);
    if (!sf && amount >= 32) return false;
    let operand = shiftReg(getX((insn >> 16) & 31), shift, amount, sf);
    if (invert) operand = ~operand;
    const x = getX((insn >> 5) & 31);
    let result: u64;
    if (opc == 1) result = x | operand;
    else if (opc == 2) result = x ^ operand;
    else result = x & operand;
    if (!sf) result &= 0xffff_ffff;
    if (opc == 3) setLogicalFlags(result, sf);
    setX(insn & 31, result);
    return true;
  }
}

function addSub(x: u64, y: u64, sub: bool, setFlags: bool, sf: bool): u64 {
  if (sf) return sub ? addWithCarry64(x, ~y, 1, setFlags) : addWithCarry64(x, y, 0, setFlags);
  return sub ? addWithCarry32(x, ~y, 1, setFlags) : addWithCarry32(x, y, 0, setFlags);
}

function addSubShifted(insn: u32): bool {
  return AddSubShifted.execute(insn, insn >> 31 != 0, ((insn >> 30) & 1) != 0, ((insn >> 29) & 1) != 0);
}

/** ADD, SUB, ADDS, SUBS (shifted register) with sf, op and S given (see execute.ts). */
export class AddSubShifted {
  @inline
  static execute(insn: u32, sf: bool, sub: bool, setFlags: bool): bool {
    const shift = (insn >> 22) & 3;
    const amount = <u64>((insn >> 10) & 0x3f);
    if (shift == 3 || (!sf && amount >= 32)) return false;
    const operand = shiftReg(getX((insn >> 16) & 31), shift, amount, sf);
    const result = addSub(getX((insn >> 5) & 31), operand, sub, setFlags, sf);
    setX(insn & 31, result);
    return true;
  }
}

/** ExtendReg(): extends the low bits of a register per `option`, then shifts left. */
export function extendReg(v: u64, option: u32, shift: u64): u64 {
  let e: u64;
  switch (option) {
    case 0:
      e = v & 0xff;
      break;
    case 1:
      e = v & 0xffff;
      break;
    case 2:
      e = v & 0xffff_ffff;
      break;
    case 4:
      e = <u64>(<i64>(<i8>v));
      break;
    case 5:
      e = <u64>(<i64>(<i16>v));
      break;
    case 6:
      e = <u64>(<i64>(<i32>v));
      break;
    default:
      e = v;
      break;
  }
  return e << shift;
}

function addSubExtended(insn: u32): bool {
  const sf = insn >> 31 != 0;
  const opt = (insn >> 22) & 3;
  const option = (insn >> 13) & 7;
  const amount = <u64>((insn >> 10) & 7);
  if (opt != 0 || amount > 4) return false;
  const operand = extendReg(getX((insn >> 16) & 31), option, amount);
  const setFlags = ((insn >> 29) & 1) != 0;
  const result = addSub(getXSP((insn >> 5) & 31), operand, ((insn >> 30) & 1) != 0, setFlags, sf);
  if (setFlags) setX(insn & 31, result);
  else setXSP(insn & 31, sf ? result : result & 0xffff_ffff);
  return true;
}

function addSubCarry(insn: u32): bool {
  const sf = insn >> 31 != 0;
  const sub = (insn >> 30) & 1;
  const setFlags = ((insn >> 29) & 1) != 0;
  const carry = <u64>((nzcv >> 29) & 1);
  const x = getX((insn >> 5) & 31);
  let y = getX((insn >> 16) & 31);
  if (sub) y = ~y;
  const result = sf ? addWithCarry64(x, y, carry, setFlags) : addWithCarry32(x, y, carry, setFlags);
  setX(insn & 31, result);
  return true;
}

function conditionalCompare(insn: u32): bool {
  if (!((insn >> 29) & 1) || (insn >> 10) & 1 || (insn >> 4) & 1) return false;
  const sf = insn >> 31 != 0;
  const sub = ((insn >> 30) & 1) != 0;
  const cond = (insn >> 12) & 15;
  if (conditionHolds(cond)) {
    const y = (insn >> 11) & 1 ? <u64>((insn >> 16) & 31) : getX((insn >> 16) & 31);
    addSub(getX((insn >> 5) & 31), y, sub, true, sf);
  } else {
    nzcv = (insn & 15) << 28;
  }
  return true;
}

function conditionalSelect(insn: u32): bool {
  if ((insn >> 29) & 1 || (insn >> 11) & 1) return false;
  const sf = insn >> 31 != 0;
  const op = (insn >> 30) & 1;
  const o2 = (insn >> 10) & 1;
  let result: u64;
  if (conditionHolds((insn >> 12) & 15)) {
    result = getX((insn >> 5) & 31);
  } else {
    result = getX((insn >> 16) & 31);
    if (op) result = ~result;
    if (o2) result += 1;
  }
  setX(insn & 31, sf ? result : result & 0xffff_ffff);
  return true;
}

function twoSource(insn: u32): bool {
  if ((insn >> 29) & 1) return false;
  const sf = insn >> 31 != 0;
  const opcode = (insn >> 10) & 0x3f;
  const n = getX((insn >> 5) & 31);
  const m = getX((insn >> 16) & 31);
  let result: u64;
  switch (opcode) {
    case 2: // UDIV
      if (sf) result = m == 0 ? 0 : n / m;
      else result = (m & 0xffff_ffff) == 0 ? 0 : (n & 0xffff_ffff) / (m & 0xffff_ffff);
      break;
    case 3: // SDIV
      if (sf) {
        if (m == 0) result = 0;
        else if (n == 0x8000_0000_0000_0000 && m == ~(<u64>0)) result = n;
        else result = <u64>(<i64>n / <i64>m);
      } else {
        const a = <i64>(<i32>n);
        const b = <i64>(<i32>m);
        result = b == 0 ? 0 : (<u64>(a / b)) & 0xffff_ffff;
      }
      break;
    case 8:
    case 9:
    case 10:
    case 11: {
      const amount = sf ? m & 63 : m & 31;
      result = shiftReg(n, opcode & 3, amount, sf);
      break;
    }
    case 16:
    case 17:
    case 18:
    case 19:
    case 20:
    case 21:
    case 22:
    case 23: {
      // CRC32{B,H,W,X} and CRC32C{B,H,W,X}: only CRC32X/CRC32CX take a 64-bit Rm, and they need sf.
      const size = opcode & 3;
      if ((size == 3) != sf) return false;
      result = crc32(<u32>n, m, 1 << size, opcode & 4 ? CRC32C_POLYNOMIAL : CRC32_POLYNOMIAL);
      break;
    }
    default:
      return false;
  }
  setX(insn & 31, sf ? result : result & 0xffff_ffff);
  return true;
}

/** The CRC-32 (ISO-HDLC) and CRC-32C (Castagnoli) polynomials, bit-reversed (x^0 in bit 31). */
const CRC32_POLYNOMIAL: u32 = 0xedb8_8320;
const CRC32C_POLYNOMIAL: u32 = 0x82f6_3b78;

/**
 * The CRC32 instructions' accumulate step: `bytes` bytes of `value`, lowest first, divided into the
 * accumulator bit by bit, least significant bit first (the architecture's bit-reversed Poly32Mod2);
 * no initial or final inversion, which software does itself.
 */
function crc32(accumulator: u32, value: u64, bytes: i32, polynomial: u32): u32 {
  let crc = accumulator;
  for (let i = 0; i < bytes; i++) {
    crc ^= (<u32>(value >> (<u64>i * 8))) & 0xff;
    for (let bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (polynomial & (0 - (crc & 1)));
  }
  return crc;
}

function reverseBytesInHalves(v: u64, chunkBytes: u32): u64 {
  // Reverses the byte order inside each chunk of `chunkBytes` bytes.
  if (chunkBytes == 8) return bswap<u64>(v);
  if (chunkBytes == 4) return ((<u64>bswap<u32>(<u32>(v >> 32))) << 32) | (<u64>bswap<u32>(<u32>v));
  const m: u64 = 0x00ff_00ff_00ff_00ff;
  return ((v & m) << 8) | ((v >> 8) & m);
}

function oneSource(insn: u32): bool {
  if ((insn >> 29) & 1 || ((insn >> 16) & 31) != 0) return false; // PAC forms are not implemented
  const sf = insn >> 31 != 0;
  const opcode = (insn >> 10) & 0x3f;
  const n = getX((insn >> 5) & 31);
  let result: u64;
  switch (opcode) {
    case 0: // RBIT
      result = sf ? rbit64(n) : rbit64(n) >> 32;
      break;
    case 1: // REV16
      result = reverseBytesInHalves(n, 2);
      break;
    case 2: // REV32 (64-bit) or REV (32-bit)
      result = reverseBytesInHalves(n, 4);
      break;
    case 3: // REV
      if (!sf) return false;
      result = bswap<u64>(n);
      break;
    case 4: // CLZ
      result = sf ? clz<u64>(n) : <u64>clz<u32>(<u32>n);
      break;
    case 5: {
      // CLS
      if (sf) result = clz<u64>(n ^ (<u64>((<i64>n) >> 1))) - 1;
      else {
        const w = <u32>n;
        result = <u64>(clz<u32>(w ^ (<u32>((<i32>w) >> 1))) - 1);
      }
      break;
    }
    default:
      return false;
  }
  setX(insn & 31, sf ? result : result & 0xffff_ffff);
  return true;
}

function rbit64(v: u64): u64 {
  let x = v;
  x = ((x >> 1) & 0x5555_5555_5555_5555) | ((x & 0x5555_5555_5555_5555) << 1);
  x = ((x >> 2) & 0x3333_3333_3333_3333) | ((x & 0x3333_3333_3333_3333) << 2);
  x = ((x >> 4) & 0x0f0f_0f0f_0f0f_0f0f) | ((x & 0x0f0f_0f0f_0f0f_0f0f) << 4);
  return bswap<u64>(x);
}

function threeSource(insn: u32): bool {
  const sf = insn >> 31 != 0;
  if ((insn >> 29) & 3) return false;
  const op31 = (insn >> 21) & 7;
  const o0 = (insn >> 15) & 1;
  const n = getX((insn >> 5) & 31);
  const m = getX((insn >> 16) & 31);
  const a = getX((insn >> 10) & 31);
  let result: u64;
  switch (op31) {
    case 0:
      result = o0 ? a - n * m : a + n * m;
      if (!sf) result &= 0xffff_ffff;
      break;
    case 1: {
      if (!sf) return false;
      const p = <u64>(<i64>(<i32>n) * <i64>(<i32>m));
      result = o0 ? a - p : a + p;
      break;
    }
    case 2:
      if (!sf || o0) return false;
      result = smulh(n, m);
      break;
    case 5: {
      if (!sf) return false;
      const p = (n & 0xffff_ffff) * (m & 0xffff_ffff);
      result = o0 ? a - p : a + p;
      break;
    }
    case 6:
      if (!sf || o0) return false;
      result = umulh(n, m);
      break;
    default:
      return false;
  }
  setX(insn & 31, result);
  return true;
}
