// A64 data processing, immediate and register forms (ARM ARM C4.1.86, C4.1.95), with preferred aliases.
import {
  EXTENDS,
  SHIFTS,
  address,
  bit,
  bits,
  condition,
  decodeBitMask,
  gpr,
  immDec,
  immHex,
  shiftSuffix,
  signExtend,
} from "./operands.ts";

// Aliases (MOV, CMP, TST, LSL, UBFX, CSET, MUL, …) follow the ARM ARM's alias conditions, as objdump does.

export function disassembleDataProcessingImmediate(insn: number, pc: bigint): string | undefined {
  switch (bits(insn, 28, 23)) {
    case 0b100000:
    case 0b100001:
      return pcRelative(insn, pc);
    case 0b100010:
      return addSubImmediate(insn);
    case 0b100100:
      return logicalImmediate(insn);
    case 0b100101:
      return moveWide(insn);
    case 0b100110:
      return bitfield(insn);
    case 0b100111:
      return extract(insn);
  }
  return undefined;
}

function pcRelative(insn: number, pc: bigint): string {
  const page = bit(insn, 31) === 1;
  const imm = BigInt(signExtend((bits(insn, 23, 5) << 2) | bits(insn, 30, 29), 21));
  const rd = gpr(bits(insn, 4, 0), true);
  return page ? `adrp ${rd}, ${address((pc & ~0xfffn) + (imm << 12n))}` : `adr ${rd}, ${address(pc + imm)}`;
}

function addSubImmediate(insn: number): string {
  const sf = bit(insn, 31);
  const sub = bit(insn, 30);
  const setFlags = bit(insn, 29);
  const shifted = bit(insn, 22);
  const imm = bits(insn, 21, 10);
  const rn = bits(insn, 9, 5);
  const rd = bits(insn, 4, 0);
  const operand = `${immHex(imm)}${shifted ? ", lsl #12" : ""}`;
  if (setFlags && rd === 31) return `${sub ? "cmp" : "cmn"} ${gpr(rn, sf, true)}, ${operand}`;
  if (!sub && !setFlags && !shifted && imm === 0 && (rd === 31 || rn === 31)) {
    return `mov ${gpr(rd, sf, true)}, ${gpr(rn, sf, true)}`;
  }
  const name = `${sub ? "sub" : "add"}${setFlags ? "s" : ""}`;
  return `${name} ${gpr(rd, sf, !setFlags)}, ${gpr(rn, sf, true)}, ${operand}`;
}

/** ARM ARM MoveWidePreferred: whether a bitmask immediate is better written as MOVZ/MOVN. */
function moveWidePreferred(sf: number, n: number, imms: number, immr: number): boolean {
  const width = sf ? 64 : 32;
  if (sf && n !== 1) return false;
  if (!sf && (n !== 0 || imms & 0x20)) return false;
  if (imms < 16) return (-immr & 15) <= 15 - imms;
  if (imms >= width - 15) return (immr & 15) <= imms - (width - 15);
  return false;
}

function logicalImmediate(insn: number): string | undefined {
  const sf = bit(insn, 31);
  const opc = bits(insn, 30, 29);
  const n = bit(insn, 22);
  const immr = bits(insn, 21, 16);
  const imms = bits(insn, 15, 10);
  const rn = bits(insn, 9, 5);
  const rd = bits(insn, 4, 0);
  if (!sf && n) return undefined;
  const imm = decodeBitMask(n, imms, immr, sf === 1);
  if (imm === undefined) return undefined;
  if (opc === 3 && rd === 31) return `tst ${gpr(rn, sf)}, ${immHex(imm)}`;
  if (opc === 1 && rn === 31 && !moveWidePreferred(sf, n, imms, immr))
    return `mov ${gpr(rd, sf, true)}, ${immHex(imm)}`;
  const name = ["and", "orr", "eor", "ands"][opc];
  return `${name} ${gpr(rd, sf, opc !== 3)}, ${gpr(rn, sf)}, ${immHex(imm)}`;
}

function moveWide(insn: number): string | undefined {
  const sf = bit(insn, 31);
  const opc = bits(insn, 30, 29);
  const hw = bits(insn, 22, 21);
  const imm16 = bits(insn, 20, 5);
  const rd = gpr(bits(insn, 4, 0), sf);
  if (opc === 1 || (!sf && hw > 1)) return undefined;
  const shift = hw * 16;
  const raw = `${immHex(imm16)}${shift ? `, lsl #${shift}` : ""}`;
  if (opc === 3) return `movk ${rd}, ${raw}`;
  const width = sf ? 64 : 32;
  const wide = BigInt(imm16) << BigInt(shift);
  if (opc === 2) return imm16 === 0 && hw !== 0 ? `movz ${rd}, ${raw}` : `mov ${rd}, ${immHex(wide)}`;
  if ((imm16 === 0 && hw !== 0) || (!sf && imm16 === 0xffff)) return `movn ${rd}, ${raw}`;
  return `mov ${rd}, ${immHex(BigInt.asUintN(width, ~wide))}`;
}

/** ARM ARM BFXPreferred: whether SBFM/UBFM reads best as SBFX/UBFX. */
function bfxPreferred(sf: number, unsigned: boolean, imms: number, immr: number): boolean {
  if (imms < immr) return false;
  if (imms === (sf ? 63 : 31)) return false;
  if (immr === 0) {
    if (!sf && (imms === 7 || imms === 15)) return false;
    if (sf && !unsigned && (imms === 7 || imms === 15 || imms === 31)) return false;
  }
  return true;
}

function bitfield(insn: number): string | undefined {
  const sf = bit(insn, 31);
  const opc = bits(insn, 30, 29);
  const n = bit(insn, 22);
  const immr = bits(insn, 21, 16);
  const imms = bits(insn, 15, 10);
  const rn = bits(insn, 9, 5);
  const rd = bits(insn, 4, 0);
  if (opc === 3 || n !== sf || (!sf && (immr > 31 || imms > 31))) return undefined;
  const width = sf ? 64 : 32;
  const d = gpr(rd, sf);
  const s = gpr(rn, sf);
  const insert = `${immDec((width - immr) % width)}, ${immDec(imms + 1)}`;
  const extractField = `${immDec(immr)}, ${immDec(imms - immr + 1)}`;
  if (opc === 0) {
    if (imms === width - 1) return `asr ${d}, ${s}, ${immDec(immr)}`;
    if (imms < immr) return `sbfiz ${d}, ${s}, ${insert}`;
    if (bfxPreferred(sf, false, imms, immr)) return `sbfx ${d}, ${s}, ${extractField}`;
    const extend = { 7: "sxtb", 15: "sxth", 31: "sxtw" }[imms];
    if (immr === 0 && extend) return `${extend} ${d}, ${gpr(rn, false)}`;
    return `sbfm ${d}, ${s}, ${immDec(immr)}, ${immDec(imms)}`;
  }
  if (opc === 1) {
    if (imms < immr) return rn === 31 ? `bfc ${d}, ${insert}` : `bfi ${d}, ${s}, ${insert}`;
    return `bfxil ${d}, ${s}, ${extractField}`;
  }
  if (imms !== width - 1 && imms + 1 === immr) return `lsl ${d}, ${s}, ${immDec(width - 1 - imms)}`;
  if (imms === width - 1) return `lsr ${d}, ${s}, ${immDec(immr)}`;
  if (imms < immr) return `ubfiz ${d}, ${s}, ${insert}`;
  if (bfxPreferred(sf, true, imms, immr)) return `ubfx ${d}, ${s}, ${extractField}`;
  const extend = { 7: "uxtb", 15: "uxth" }[imms];
  if (immr === 0 && extend) return `${extend} ${d}, ${gpr(rn, false)}`;
  return `ubfm ${d}, ${s}, ${immDec(immr)}, ${immDec(imms)}`;
}

function extract(insn: number): string | undefined {
  const sf = bit(insn, 31);
  const rm = bits(insn, 20, 16);
  const imms = bits(insn, 15, 10);
  const rn = bits(insn, 9, 5);
  const rd = bits(insn, 4, 0);
  if (bits(insn, 30, 29) !== 0 || bit(insn, 22) !== sf || bit(insn, 21) || (!sf && imms > 31))
    return undefined;
  if (rn === rm) return `ror ${gpr(rd, sf)}, ${gpr(rn, sf)}, ${immDec(imms)}`;
  return `extr ${gpr(rd, sf)}, ${gpr(rn, sf)}, ${gpr(rm, sf)}, ${immDec(imms)}`;
}

export function disassembleDataProcessingRegister(insn: number): string | undefined {
  const op1 = bit(insn, 28);
  const op2 = bits(insn, 24, 21);
  if (!op1) {
    if ((op2 & 8) === 0) return logicalShifted(insn);
    return op2 & 1 ? addSubExtended(insn) : addSubShifted(insn);
  }
  if (op2 & 8) return threeSource(insn);
  switch (op2) {
    case 0b0000:
      return bits(insn, 15, 10) === 0 ? addSubCarry(insn) : undefined;
    case 0b0010:
      return conditionalCompare(insn);
    case 0b0100:
      return conditionalSelect(insn);
    case 0b0110:
      return bit(insn, 30) ? oneSource(insn) : twoSource(insn);
  }
  return undefined;
}

function logicalShifted(insn: number): string | undefined {
  const sf = bit(insn, 31);
  const opc = bits(insn, 30, 29);
  const shift = bits(insn, 23, 22);
  const n = bit(insn, 21);
  const rm = bits(insn, 20, 16);
  const imm6 = bits(insn, 15, 10);
  const rn = bits(insn, 9, 5);
  const rd = bits(insn, 4, 0);
  if (!sf && imm6 > 31) return undefined;
  const operand = `${gpr(rm, sf)}${shiftSuffix(shift, imm6)}`;
  const name = ["and", "bic", "orr", "orn", "eor", "eon", "ands", "bics"][opc * 2 + n]!;
  if (name === "orr" && rn === 31 && shift === 0 && imm6 === 0) return `mov ${gpr(rd, sf)}, ${gpr(rm, sf)}`;
  if (name === "orn" && rn === 31) return `mvn ${gpr(rd, sf)}, ${operand}`;
  if (name === "ands" && rd === 31) return `tst ${gpr(rn, sf)}, ${operand}`;
  return `${name} ${gpr(rd, sf)}, ${gpr(rn, sf)}, ${operand}`;
}

function addSubShifted(insn: number): string | undefined {
  const sf = bit(insn, 31);
  const sub = bit(insn, 30);
  const setFlags = bit(insn, 29);
  const shift = bits(insn, 23, 22);
  const rm = bits(insn, 20, 16);
  const imm6 = bits(insn, 15, 10);
  const rn = bits(insn, 9, 5);
  const rd = bits(insn, 4, 0);
  if (shift === 3 || (!sf && imm6 > 31)) return undefined;
  const operand = `${gpr(rm, sf)}${shiftSuffix(shift, imm6)}`;
  if (setFlags && rd === 31) return `${sub ? "cmp" : "cmn"} ${gpr(rn, sf)}, ${operand}`;
  if (sub && rn === 31) return `${setFlags ? "negs" : "neg"} ${gpr(rd, sf)}, ${operand}`;
  return `${sub ? "sub" : "add"}${setFlags ? "s" : ""} ${gpr(rd, sf)}, ${gpr(rn, sf)}, ${operand}`;
}

function addSubExtended(insn: number): string | undefined {
  const sf = bit(insn, 31);
  const sub = bit(insn, 30);
  const setFlags = bit(insn, 29);
  const rm = bits(insn, 20, 16);
  const option = bits(insn, 15, 13);
  const imm3 = bits(insn, 12, 10);
  const rn = bits(insn, 9, 5);
  const rd = bits(insn, 4, 0);
  if (bits(insn, 23, 22) !== 0 || imm3 > 4) return undefined;
  // LSL is preferred when a stack-pointer operand is involved (Rd is the zero register for ADDS/SUBS).
  const useLsl = ((!setFlags && rd === 31) || rn === 31) && option === (sf ? 3 : 2);
  const extend = useLsl ? (imm3 ? `, lsl #${imm3}` : "") : `, ${EXTENDS[option]}${imm3 ? ` #${imm3}` : ""}`;
  const operand = `${gpr(rm, sf && (option & 3) === 3)}${extend}`;
  if (setFlags && rd === 31) return `${sub ? "cmp" : "cmn"} ${gpr(rn, sf, true)}, ${operand}`;
  return `${sub ? "sub" : "add"}${setFlags ? "s" : ""} ${gpr(rd, sf, !setFlags)}, ${gpr(rn, sf, true)}, ${operand}`;
}

function addSubCarry(insn: number): string {
  const sf = bit(insn, 31);
  const sub = bit(insn, 30);
  const setFlags = bit(insn, 29) ? "s" : "";
  const rm = gpr(bits(insn, 20, 16), sf);
  const rn = bits(insn, 9, 5);
  const rd = gpr(bits(insn, 4, 0), sf);
  if (sub && rn === 31) return `ngc${setFlags} ${rd}, ${rm}`;
  return `${sub ? "sbc" : "adc"}${setFlags} ${rd}, ${gpr(rn, sf)}, ${rm}`;
}

function conditionalCompare(insn: number): string | undefined {
  const sf = bit(insn, 31);
  if (!bit(insn, 29) || bit(insn, 10) || bit(insn, 4)) return undefined;
  const name = bit(insn, 30) ? "ccmp" : "ccmn";
  const second = bit(insn, 11) ? immHex(bits(insn, 20, 16)) : gpr(bits(insn, 20, 16), sf);
  return `${name} ${gpr(bits(insn, 9, 5), sf)}, ${second}, ${immHex(bits(insn, 3, 0))}, ${condition(bits(insn, 15, 12))}`;
}

function conditionalSelect(insn: number): string | undefined {
  const sf = bit(insn, 31);
  const op = bit(insn, 30);
  const op2 = bits(insn, 11, 10);
  if (bit(insn, 29) || op2 > 1) return undefined;
  const rm = bits(insn, 20, 16);
  const cond = bits(insn, 15, 12);
  const rn = bits(insn, 9, 5);
  const d = gpr(bits(insn, 4, 0), sf);
  const kind = op * 2 + op2; // csel, csinc, csinv, csneg
  const invertible = cond < 14;
  const inverted = condition(cond ^ 1);
  if (kind === 1 && invertible && rn === rm)
    return rn === 31 ? `cset ${d}, ${inverted}` : `cinc ${d}, ${gpr(rn, sf)}, ${inverted}`;
  if (kind === 2 && invertible && rn === rm)
    return rn === 31 ? `csetm ${d}, ${inverted}` : `cinv ${d}, ${gpr(rn, sf)}, ${inverted}`;
  if (kind === 3 && invertible && rn === rm) return `cneg ${d}, ${gpr(rn, sf)}, ${inverted}`;
  const name = ["csel", "csinc", "csinv", "csneg"][kind];
  return `${name} ${d}, ${gpr(rn, sf)}, ${gpr(rm, sf)}, ${condition(cond)}`;
}

function twoSource(insn: number): string | undefined {
  const sf = bit(insn, 31);
  const opcode = bits(insn, 15, 10);
  const operands = `${gpr(bits(insn, 4, 0), sf)}, ${gpr(bits(insn, 9, 5), sf)}, ${gpr(bits(insn, 20, 16), sf)}`;
  if (bit(insn, 29)) return undefined;
  if (opcode === 2) return `udiv ${operands}`;
  if (opcode === 3) return `sdiv ${operands}`;
  if (opcode >= 8 && opcode <= 11) return `${SHIFTS[opcode - 8]} ${operands}`;
  if ((opcode & 0x38) === 0x10) {
    const size = opcode & 3;
    if ((size === 3) !== (sf === 1)) return undefined;
    const name = `crc32${opcode & 4 ? "c" : ""}${"bhwx"[size]}`;
    return `${name} ${gpr(bits(insn, 4, 0), false)}, ${gpr(bits(insn, 9, 5), false)}, ${gpr(bits(insn, 20, 16), size === 3)}`;
  }
  return undefined;
}

function oneSource(insn: number): string | undefined {
  const sf = bit(insn, 31);
  const opcode = bits(insn, 15, 10);
  if (bits(insn, 20, 16) !== 0 || bit(insn, 29)) return undefined;
  const names = sf
    ? ["rbit", "rev16", "rev32", "rev", "clz", "cls"]
    : ["rbit", "rev16", "rev", undefined, "clz", "cls"];
  const name = names[opcode];
  return name ? `${name} ${gpr(bits(insn, 4, 0), sf)}, ${gpr(bits(insn, 9, 5), sf)}` : undefined;
}

function threeSource(insn: number): string | undefined {
  const sf = bit(insn, 31);
  const op31 = bits(insn, 23, 21);
  const o0 = bit(insn, 15);
  const rm = bits(insn, 20, 16);
  const ra = bits(insn, 14, 10);
  const rn = bits(insn, 9, 5);
  const rd = bits(insn, 4, 0);
  if (bits(insn, 30, 29) !== 0) return undefined;
  if (op31 === 0) {
    const operands = `${gpr(rd, sf)}, ${gpr(rn, sf)}, ${gpr(rm, sf)}`;
    if (ra === 31) return `${o0 ? "mneg" : "mul"} ${operands}`;
    return `${o0 ? "msub" : "madd"} ${operands}, ${gpr(ra, sf)}`;
  }
  if (!sf) return undefined;
  if (op31 === 2 || op31 === 6) {
    // Ra is should-be-ones here and, like objdump, we do not insist on it.
    return o0 ? undefined : `${op31 === 2 ? "smulh" : "umulh"} ${gpr(rd, 1)}, ${gpr(rn, 1)}, ${gpr(rm, 1)}`;
  }
  if (op31 !== 1 && op31 !== 5) return undefined;
  const sign = op31 === 1 ? "s" : "u";
  const operands = `${gpr(rd, 1)}, ${gpr(rn, 0)}, ${gpr(rm, 0)}`;
  if (ra === 31) return `${sign}${o0 ? "mnegl" : "mull"} ${operands}`;
  return `${sign}${o0 ? "msubl" : "maddl"} ${operands}, ${gpr(ra, 1)}`;
}
