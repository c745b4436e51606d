// Integer data processing: immediate, shifted and extended register, bitfield/extract, conditional
// select/compare, flags, multiply/divide (including the 128-bit high multiplies) and CRC32.
import { hex, type GenContext, type InstructionClass } from "./context.ts";

const EDGE_IMMEDIATES = [0n, 1n, 0xffffffffffffffffn, 0x8000000000000000n, 0x7fffffffffffffffn, 0x80000000n];

/** A value encodable as an A64 logical (bitmask) immediate of `width` bits. */
export function bitmaskImmediate(g: GenContext, width: 32 | 64): bigint {
  const sizes = [2, 4, 8, 16, 32, 64].filter((s) => s <= width);
  const e = g.rng.pick(sizes);
  const ones = g.rng.range(1, e - 1);
  const rotate = g.rng.below(e);
  const mask = (1n << BigInt(e)) - 1n;
  const run = (1n << BigInt(ones)) - 1n;
  const element = ((run >> BigInt(rotate)) | (run << BigInt(e - rotate))) & mask;
  let value = 0n;
  for (let i = 0; i < width; i += e) value |= element << BigInt(i);
  return value;
}

const immediate: InstructionClass = {
  name: "int-imm",
  description: "ADD/SUB(S) imm12 (LSL #0/#12), MOVZ/MOVN/MOVK, logical immediates, MOV, ADR/ADRP",
  generate(g) {
    const sf = g.sf();
    const width = sf ? 64 : 32;
    switch (g.rng.below(6)) {
      case 0: {
        const op = g.rng.pick(["add", "adds", "sub", "subs"]);
        const rd = op.endsWith("s") ? g.reg(sf, true) : g.reg(sf);
        return [`${op} ${rd}, ${g.reg(sf)}, #${g.rng.below(4096)}${g.rng.chance(0.3) ? ", lsl #12" : ""}`];
      }
      case 1: {
        const op = g.rng.pick(["movz", "movn", "movk"]);
        return [`${op} ${g.reg(sf)}, #${hex(g.rng.below(0x10000))}, lsl #${16 * g.rng.below(width / 16)}`];
      }
      case 2: {
        const op = g.rng.pick(["and", "orr", "eor", "ands"]);
        const rd = op === "ands" ? g.reg(sf, true) : g.reg(sf);
        return [`${op} ${rd}, ${g.reg(sf, true)}, #${hex(bitmaskImmediate(g, width))}`];
      }
      case 3: {
        const mask = sf ? 0xffffffffffffffffn : 0xffffffffn;
        const v = g.rng.chance(0.5) ? g.rng.pick(EDGE_IMMEDIATES) & mask : bitmaskImmediate(g, width);
        return [`mov ${g.reg(sf)}, #${hex(v)}`];
      }
      case 4:
        return [`tst ${g.reg(sf)}, #${hex(bitmaskImmediate(g, width))}`];
      default:
        return g.rng.chance(0.5)
          ? [`adr ${g.reg(true)}, . + ${4 * g.rng.range(-64, 64)}`]
          : [`adrp ${g.reg(true)}, . + ${4096 * g.rng.range(-16, 16)}`];
    }
  },
};

const EXTENDS = ["uxtb", "uxth", "uxtw", "uxtx", "sxtb", "sxth", "sxtw", "sxtx"];

const register: InstructionClass = {
  name: "int-reg",
  description:
    "shifted and extended register ADD/SUB(S), logical (AND/ORR/EOR/BIC/ORN/EON/ANDS/BICS), ADC/SBC(S), " +
    "NEG/NGC/MVN, variable shifts, CLZ/CLS/RBIT/REV*",
  generate(g) {
    const sf = g.sf();
    const width = sf ? 64 : 32;
    switch (g.rng.below(6)) {
      case 0: {
        const op = g.rng.pick(["add", "adds", "sub", "subs"]);
        const shift = g.rng.pick(["lsl", "lsr", "asr"]);
        return [
          `${op} ${g.reg(sf, true)}, ${g.reg(sf, true)}, ${g.reg(sf, true)}, ${shift} #${g.rng.below(width)}`,
        ];
      }
      case 1: {
        const op = g.rng.pick(["add", "adds", "sub", "subs"]);
        const ext = g.rng.pick(EXTENDS);
        const rmSf = sf && ext.endsWith("x");
        // Rd/Rn = 31 means SP in this form; the pool never yields 31 there.
        return [`${op} ${g.reg(sf)}, ${g.reg(sf)}, ${g.reg(rmSf, true)}, ${ext} #${g.rng.below(5)}`];
      }
      case 2: {
        const op = g.rng.pick(["and", "orr", "eor", "ands", "bic", "bics", "orn", "eon"]);
        const shift = g.rng.pick(["lsl", "lsr", "asr", "ror"]);
        return [
          `${op} ${g.reg(sf, true)}, ${g.reg(sf, true)}, ${g.reg(sf, true)}, ${shift} #${g.rng.below(width)}`,
        ];
      }
      case 3: {
        const op = g.rng.pick(["adc", "adcs", "sbc", "sbcs", "ngc", "ngcs", "neg", "negs", "mvn"]);
        const two = ["ngc", "ngcs", "neg", "negs", "mvn"].includes(op);
        return [`${op} ${g.reg(sf, true)}, ${g.reg(sf, true)}${two ? "" : `, ${g.reg(sf, true)}`}`];
      }
      case 4: {
        const op = g.rng.pick(["lslv", "lsrv", "asrv", "rorv"]);
        return [`${op} ${g.reg(sf)}, ${g.reg(sf, true)}, ${g.reg(sf, true)}`];
      }
      default: {
        const op = g.rng.pick(
          sf ? ["clz", "cls", "rbit", "rev", "rev16", "rev32"] : ["clz", "cls", "rbit", "rev", "rev16"],
        );
        return [`${op} ${g.reg(sf)}, ${g.reg(sf, true)}`];
      }
    }
  },
};

const bitfield: InstructionClass = {
  name: "bitfield",
  description:
    "SBFM/UBFM/BFM and their aliases (SBFX, UBFX, BFI, BFXIL, SXT*, UXT*, LSL/LSR/ASR #), EXTR/ROR",
  generate(g) {
    const sf = g.sf();
    const width = sf ? 64 : 32;
    const lsb = g.rng.below(width);
    const bits = g.rng.range(1, width - lsb);
    switch (g.rng.below(5)) {
      case 0:
        return [
          `${g.rng.pick(["sbfm", "ubfm", "bfm"])} ${g.reg(sf)}, ${g.reg(sf, true)}, #${g.rng.below(width)}, #${g.rng.below(width)}`,
        ];
      case 1:
        return [
          `${g.rng.pick(["sbfx", "ubfx", "bfi", "bfxil", "sbfiz", "ubfiz"])} ${g.reg(sf)}, ${g.reg(sf, true)}, #${lsb}, #${bits}`,
        ];
      case 2: {
        const op = g.rng.pick(sf ? ["sxtb", "sxth", "sxtw"] : ["sxtb", "sxth", "uxtb", "uxth"]);
        return [`${op} ${g.reg(sf)}, ${g.reg(false, true)}`];
      }
      case 3:
        return [
          `${g.rng.pick(["lsl", "lsr", "asr", "ror"])} ${g.reg(sf)}, ${g.reg(sf, true)}, #${g.rng.below(width)}`,
        ];
      default:
        return [`extr ${g.reg(sf)}, ${g.reg(sf, true)}, ${g.reg(sf, true)}, #${g.rng.below(width)}`];
    }
  },
};

const conditional: InstructionClass = {
  name: "cond",
  description:
    "CSEL/CSINC/CSINV/CSNEG and aliases, CCMP/CCMN (register and immediate), CMP/CMN/TST, MRS/MSR NZCV",
  generate(g) {
    const sf = g.sf();
    const aliasCond = () =>
      g.rng.pick(["eq", "ne", "cs", "cc", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le"]);
    switch (g.rng.below(6)) {
      case 0:
        return [
          `${g.rng.pick(["csel", "csinc", "csinv", "csneg"])} ${g.reg(sf)}, ${g.reg(sf, true)}, ${g.reg(sf, true)}, ${g.cond()}`,
        ];
      case 1: {
        const op = g.rng.pick(["cset", "csetm", "cinc", "cinv", "cneg"]);
        const src = op.startsWith("cset") ? "" : `, ${g.reg(sf, true)}`;
        return [`${op} ${g.reg(sf)}${src}, ${aliasCond()}`];
      }
      case 2: {
        const operand = g.rng.chance(0.5) ? g.reg(sf, true) : `#${g.rng.below(32)}`;
        return [
          `${g.rng.pick(["ccmp", "ccmn"])} ${g.reg(sf, true)}, ${operand}, #${g.rng.below(16)}, ${g.cond()}`,
        ];
      }
      case 3: {
        const op = g.rng.pick(["cmp", "cmn", "tst"]);
        const operand =
          op === "tst" ? g.reg(sf, true) : g.rng.chance(0.5) ? g.reg(sf, true) : `#${g.rng.below(4096)}`;
        return [`${op} ${g.reg(sf)}, ${operand}`];
      }
      case 4:
        return [`msr nzcv, ${g.reg(true, true)}`];
      default:
        return [`mrs ${g.reg(true)}, nzcv`];
    }
  },
};

const multiply: InstructionClass = {
  name: "muldiv",
  description: "MADD/MSUB/MUL/MNEG, S/UMADDL, S/UMSUBL, S/UMULL, SMULH/UMULH, SDIV/UDIV",
  generate(g) {
    const sf = g.sf();
    switch (g.rng.below(5)) {
      case 0:
        return [
          `${g.rng.pick(["madd", "msub"])} ${g.reg(sf)}, ${g.reg(sf, true)}, ${g.reg(sf, true)}, ${g.reg(sf, true)}`,
        ];
      case 1:
        return [`${g.rng.pick(["mul", "mneg"])} ${g.reg(sf)}, ${g.reg(sf, true)}, ${g.reg(sf, true)}`];
      case 2: {
        const op = g.rng.pick(["smaddl", "smsubl", "umaddl", "umsubl"]);
        return [`${op} ${g.reg(true)}, ${g.reg(false, true)}, ${g.reg(false, true)}, ${g.reg(true, true)}`];
      }
      case 3: {
        const op = g.rng.pick(["smulh", "umulh", "smull", "umull"]);
        const src = op.endsWith("h");
        return [`${op} ${g.reg(true)}, ${g.reg(src, true)}, ${g.reg(src, true)}`];
      }
      default:
        return [`${g.rng.pick(["sdiv", "udiv"])} ${g.reg(sf)}, ${g.reg(sf, true)}, ${g.reg(sf, true)}`];
    }
  },
};

/** CRC32 is optional in ARMv8.0; the harness enables this class only when ID_AA64ISAR0_EL1.CRC32 says so. */
export const crc32: InstructionClass = {
  name: "crc32",
  description: "CRC32B/H/W/X and CRC32CB/H/W/X (only when ID_AA64ISAR0_EL1.CRC32 is set)",
  generate(g) {
    const size = g.rng.pick(["b", "h", "w", "x"]);
    const op = `${g.rng.pick(["crc32", "crc32c"])}${size}`;
    return [`${op} ${g.reg(false)}, ${g.reg(false, true)}, ${g.reg(size === "x", true)}`];
  },
};

export const integerClasses: InstructionClass[] = [immediate, register, bitfield, conditional, multiply];
