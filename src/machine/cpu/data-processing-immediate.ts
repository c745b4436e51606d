// A64 "Data processing -- immediate": PC-relative addressing, add/subtract,
// logical, move wide, bitfield and extract.
import { getX, setX, getXSP, setXSP } from "./registers";
import { pc } from "./state";
import {
  addWithCarry64,
  addWithCarry32,
  setLogicalFlags,
  decodeBitMasks,
  bitmaskImmediate,
  wmask,
  tmask,
  bitMasksValid,
} from "./alu";

/** Returns false for unallocated encodings. */
export function executeDataProcessingImmediate(insn: u32): bool {
  switch ((insn >> 23) & 7) {
    case 0:
    case 1:
      return pcRelative(insn);
    case 2:
      return addSubImmediate(insn);
    case 4:
      return logicalImmediate(insn);
    case 5:
      return moveWide(insn);
    case 6:
      return bitfield(insn);
    case 7:
      return extract(insn);
    default:
      return false; // add/subtract with tags (MTE) is not implemented
  }
}

function pcRelative(insn: u32): bool {
  const immlo = (insn >> 29) & 3;
  const immhi = (insn >> 5) & 0x7ffff;
  const imm = (<i64>(<i32>(((immhi << 2) | immlo) << 11))) >> 11;
  const rd = insn & 31;
  if (insn >> 31) setX(rd, (pc & ~(<u64>0xfff)) + ((<u64>imm) << 12));
  else setX(rd, pc + <u64>imm);
  return true;
}

function addSubImmediate(insn: u32): bool {
  AddSubImmediate.execute(insn, insn >> 31, (insn >> 30) & 1, ((insn >> 29) & 1) != 0);
  return true;
}

/** ADD, SUB, ADDS, SUBS (immediate) with sf, op and S given, which a decoded form (execute.ts) fixes. */
export class AddSubImmediate {
  @inline
  static execute(insn: u32, sf: u32, sub: u32, setFlags: bool): void {
    const shift = (insn >> 22) & 1;
    let imm = <u64>((insn >> 10) & 0xfff);
    if (shift) imm <<= 12;
    const rn = (insn >> 5) & 31;
    const rd = insn & 31;
    const x = getXSP(rn);
    let result: u64;
    if (sf) result = sub ? addWithCarry64(x, ~imm, 1, setFlags) : addWithCarry64(x, imm, 0, setFlags);
    else result = sub ? addWithCarry32(x, ~imm, 1, setFlags) : addWithCarry32(x, imm, 0, setFlags);
    if (setFlags) setX(rd, result);
    else setXSP(rd, result);
  }
}

function logicalImmediate(insn: u32): bool {
  const sf = insn >> 31;
  const opc = (insn >> 29) & 3;
  const n = (insn >> 22) & 1;
  if (!sf && n) return false;
  const mask = bitmaskImmediate(n, (insn >> 16) & 0x3f, (insn >> 10) & 0x3f);
  if (mask == 0) return false;
  const imm = sf ? mask : mask & 0xffff_ffff;
  const rn = (insn >> 5) & 31;
  const rd = insn & 31;
  const x = getX(rn);
  let result: u64;
  switch (opc) {
    case 0:
      result = x & imm;
      break;
    case 1:
      result = x | imm;
      break;
    case 2:
      result = x ^ imm;
      break;
    default:
      result = x & imm;
      break;
  }
  if (!sf) result &= 0xffff_ffff;
  if (opc == 3) {
    setLogicalFlags(result, sf != 0);
    setX(rd, result);
  } else {
    setXSP(rd, result);
  }
  return true;
}

function moveWide(insn: u32): bool {
  const sf = insn >> 31;
  const opc = (insn >> 29) & 3;
  const hw = (insn >> 21) & 3;
  if (opc == 1 || (!sf && hw >= 2)) return false;
  const pos = <u64>(hw << 4);
  const imm = <u64>((insn >> 5) & 0xffff);
  const rd = insn & 31;
  let result: u64;
  if (opc == 3) result = (getX(rd) & ~((<u64>0xffff) << pos)) | (imm << pos);
  else if (opc == 2) result = imm << pos;
  else result = ~(imm << pos);
  setX(rd, sf ? result : result & 0xffff_ffff);
  return true;
}

function bitfield(insn: u32): bool {
  const sf = insn >> 31;
  const opc = (insn >> 29) & 3;
  const n = (insn >> 22) & 1;
  const immr = (insn >> 16) & 0x3f;
  const imms = (insn >> 10) & 0x3f;
  if (opc == 3 || n != sf) return false;
  if (!sf && (immr >= 32 || imms >= 32)) return false;
  if (opc != 1) {
    setX(insn & 31, signedOrUnsignedField(getX((insn >> 5) & 31), immr, imms, opc == 0, sf != 0));
    return true;
  }
  // BFM: the ARM ARM's masks, with the destination's other bits kept.
  decodeBitMasks(n, imms, immr, false);
  if (!bitMasksValid) return false;
  const size: u64 = sf ? 64 : 32;
  const sizeMask: u64 = sf ? ~(<u64>0) : 0xffff_ffff;
  const rd = insn & 31;
  const src = getX((insn >> 5) & 31) & sizeMask;
  const dst = getX(rd) & sizeMask;
  const r = <u64>immr;
  const rotated = r == 0 ? src : ((src >> r) | (src << (size - r))) & sizeMask;
  const bot = (dst & ~wmask) | (rotated & wmask);
  setX(rd, ((dst & ~tmask) | (bot & tmask)) & sizeMask);
  return true;
}

/**
 * SBFM/UBFM without masks: with imms >= immr the field src[imms:immr] moves to
 * bit 0 (SBFX/UBFX, ASR/LSR); otherwise src[imms:0] moves to bit size-immr
 * (SBFIZ/UBFIZ, LSL). Sign- or zero-extended to the register size.
 */
function signedOrUnsignedField(src: u64, immr: u32, imms: u32, signed: bool, sf: bool): u64 {
  const sizeMask: u64 = sf ? ~(<u64>0) : 0xffff_ffff;
  const lead: u64 = 63 - imms;
  // Move src[imms] to bit 63, then shift right (arithmetically when signed).
  const top = src << lead;
  const topSigned: i64 = <i64>top;
  if (imms >= immr) {
    const shift: u64 = lead + immr;
    const fieldAtZero = signed ? <u64>(topSigned >> shift) : top >> shift;
    return fieldAtZero & sizeMask;
  }
  const field = signed ? <u64>(topSigned >> lead) : top >> lead;
  const position: u64 = (sf ? 64 : 32) - immr;
  return (field << position) & sizeMask;
}

function extract(insn: u32): bool {
  const sf = insn >> 31;
  const op21 = (insn >> 29) & 3;
  const n = (insn >> 22) & 1;
  const o0 = (insn >> 21) & 1;
  const lsb = <u64>((insn >> 10) & 0x3f);
  if (op21 != 0 || o0 != 0 || n != sf || (!sf && lsb >= 32)) return false;
  const rm = (insn >> 16) & 31;
  const rn = (insn >> 5) & 31;
  const rd = insn & 31;
  const hi = getX(rn);
  const lo = getX(rm);
  let result: u64;
  if (sf) {
    result = lsb == 0 ? lo : (lo >> lsb) | (hi << (64 - lsb));
  } else {
    const both = ((hi & 0xffff_ffff) << 32) | (lo & 0xffff_ffff);
    result = (both >> lsb) & 0xffff_ffff;
  }
  setX(rd, result);
  return true;
}
