// Scalar floating point (single and double; half precision only in conversions, as ARMv8.0 has it):
// arithmetic, fused multiply-add, conversions to and from integers and between precisions, rounding,
// compares and conditional select. The rounding mode, FZ and DN come from the random initial FPCR.
import { DOUBLE_EDGES, FLOAT_EDGES } from "../state.ts";
import type { GenContext, InstructionClass } from "./context.ts";

function fpReg(g: GenContext, p: "h" | "s" | "d"): string {
  return `${p}${g.v()}`;
}

function precision(g: GenContext): "s" | "d" {
  return g.rng.chance(0.5) ? "s" : "d";
}

/** An FMOV-encodable immediate: ±(16 + m)/16 × 2^e with m in 0..15 and e in -3..4. */
export function fpImmediate(g: GenContext): string {
  const value = ((16 + g.rng.below(16)) / 16) * 2 ** g.rng.range(-3, 4);
  const text = Number.isInteger(value) ? value.toFixed(1) : String(value);
  return `${g.rng.chance(0.5) ? "-" : ""}${text}`;
}

const ROUNDING = ["frintn", "frinta", "frintm", "frintp", "frintz", "frintx", "frinti"];
const TO_INT = [
  "fcvtzs",
  "fcvtzu",
  "fcvtns",
  "fcvtnu",
  "fcvtas",
  "fcvtau",
  "fcvtms",
  "fcvtmu",
  "fcvtps",
  "fcvtpu",
];

const arithmetic: InstructionClass = {
  name: "fp-arith",
  description:
    "FADD/FSUB/FMUL/FDIV/FNMUL/FMAX/FMIN/FMAXNM/FMINNM, FABS/FNEG/FSQRT, FRINT*, FMADD/FMSUB/FNMADD/FNMSUB, FMOV",
  generate(g) {
    const p = precision(g);
    switch (g.rng.below(5)) {
      case 0: {
        const op = g.rng.pick(["fadd", "fsub", "fmul", "fdiv", "fnmul", "fmax", "fmin", "fmaxnm", "fminnm"]);
        return [`${op} ${fpReg(g, p)}, ${fpReg(g, p)}, ${fpReg(g, p)}`];
      }
      case 1:
        return [
          `${g.rng.pick(["fabs", "fneg", "fsqrt", "fmov", ...ROUNDING])} ${fpReg(g, p)}, ${fpReg(g, p)}`,
        ];
      case 2: {
        const op = g.rng.pick(["fmadd", "fmsub", "fnmadd", "fnmsub"]);
        return [`${op} ${fpReg(g, p)}, ${fpReg(g, p)}, ${fpReg(g, p)}, ${fpReg(g, p)}`];
      }
      case 3:
        return [`fmov ${fpReg(g, p)}, #${fpImmediate(g)}`];
      default:
        return [
          `${g.rng.pick(["fmul", "fadd", "fsub", "fdiv"])} ${fpReg(g, p)}, ${fpReg(g, p)}, ${fpReg(g, p)}`,
        ];
    }
  },
};

const convert: InstructionClass = {
  name: "fp-convert",
  description:
    "FCVT between H/S/D, FCVT[ZNAMP][SU] to W/X (and fixed point), SCVTF/UCVTF (and fixed point), FMOV general<->FP",
  generate(g) {
    const p = precision(g);
    const sf = g.sf();
    const width = sf ? 64 : 32;
    switch (g.rng.below(5)) {
      case 0: {
        const [to, from] = g.rng.pick([
          ["s", "d"],
          ["d", "s"],
          ["h", "s"],
          ["s", "h"],
          ["h", "d"],
          ["d", "h"],
        ] as const);
        return [`fcvt ${fpReg(g, to)}, ${fpReg(g, from)}`];
      }
      case 1:
        return [`${g.rng.pick(TO_INT)} ${g.reg(sf)}, ${fpReg(g, p)}`];
      case 2:
        return g.rng.chance(0.5)
          ? [`${g.rng.pick(["scvtf", "ucvtf"])} ${fpReg(g, p)}, ${g.reg(sf, true)}`]
          : [
              `${g.rng.pick(["scvtf", "ucvtf"])} ${fpReg(g, p)}, ${g.reg(sf, true)}, #${g.rng.range(1, width)}`,
            ];
      case 3:
        return [
          `${g.rng.pick(["fcvtzs", "fcvtzu"])} ${g.reg(sf)}, ${fpReg(g, p)}, #${g.rng.range(1, width)}`,
        ];
      default: {
        const form = g.rng.below(6);
        const v = g.v();
        return [
          [
            `fmov s${v}, ${g.reg(false, true)}`,
            `fmov ${g.reg(false)}, s${v}`,
            `fmov d${v}, ${g.reg(true, true)}`,
            `fmov ${g.reg(true)}, d${v}`,
            `fmov v${v}.d[1], ${g.reg(true, true)}`,
            `fmov ${g.reg(true)}, v${v}.d[1]`,
          ][form]!,
        ];
      }
    }
  },
};

const compare: InstructionClass = {
  name: "fp-compare",
  description: "FCMP/FCMPE (register and #0.0), FCCMP/FCCMPE, FCSEL",
  generate(g) {
    const p = precision(g);
    switch (g.rng.below(3)) {
      case 0: {
        const operand = g.rng.chance(0.2) ? "#0.0" : fpReg(g, p);
        return [`${g.rng.pick(["fcmp", "fcmpe"])} ${fpReg(g, p)}, ${operand}`];
      }
      case 1:
        return [
          `${g.rng.pick(["fccmp", "fccmpe"])} ${fpReg(g, p)}, ${fpReg(g, p)}, #${g.rng.below(16)}, ${g.cond()}`,
        ];
      default:
        return [`fcsel ${fpReg(g, p)}, ${fpReg(g, p)}, ${fpReg(g, p)}, ${g.cond()}`];
    }
  },
};

/** FPCR values with a random rounding mode and FZ/DN/AHP, as MOV immediates (bits 26:22 only). */
function fpcrValue(g: GenContext): number {
  return (
    (g.rng.below(4) << 22) |
    (g.rng.chance(0.3) ? 1 << 24 : 0) |
    (g.rng.chance(0.3) ? 1 << 25 : 0) |
    (g.rng.chance(0.2) ? 1 << 26 : 0)
  );
}

const control: InstructionClass = {
  name: "fp-control",
  description:
    "MSR/MRS FPCR (rounding mode, FZ, DN, AHP changed mid-sequence) and FPSR, followed by FP arithmetic",
  generate(g) {
    const rt = g.regIndex();
    switch (g.rng.below(4)) {
      case 3: {
        // An edge value (NaN, infinity, denormal, ±0, ...) from a literal, then an operation on it.
        const double = g.rng.chance(0.5);
        const literal = g.label();
        const skip = g.label();
        const value = double
          ? `.quad 0x${g.rng.pick(DOUBLE_EDGES).toString(16)}`
          : `.word 0x${g.rng.pick(FLOAT_EDGES).toString(16)}`;
        const p = double ? "d" : "s";
        const reg = `${p}${g.v()}`;
        const use = g.rng.chance(0.6)
          ? `${g.rng.pick(["fadd", "fsub", "fmul", "fdiv", "fmax", "fmin", "fmaxnm", "fminnm"])} ${p}${g.v()}, ${reg}, ${p}${g.v()}`
          : g.rng.chance(0.5)
            ? `${g.rng.pick(["fsqrt", "frintx", "frinta", "fabs", "fneg"])} ${p}${g.v()}, ${reg}`
            : `${g.rng.pick(TO_INT)} ${g.reg(g.sf())}, ${reg}`;
        return [
          `ldr ${reg}, ${literal}`,
          `b ${skip}`,
          ".balign 8",
          `${literal}:`,
          value,
          ".balign 4",
          `${skip}:`,
          use,
        ];
      }
      case 0:
        return [`mov x${rt}, #0x${fpcrValue(g).toString(16)}`, `msr fpcr, x${rt}`, ...arithmetic.generate(g)];
      case 1:
        return [
          `mrs x${rt}, fpsr`,
          `${g.rng.pick(["orr", "eor", "and"])} x${rt}, x${rt}, #0x${g.rng.pick([1, 2, 4, 8, 16, 0x80, 0x8000000]).toString(16)}`,
          `msr fpsr, x${rt}`,
        ];
      default:
        return [...convert.generate(g), `mrs x${rt}, ${g.rng.pick(["fpsr", "fpcr"])}`];
    }
  },
};

export const fpClasses: InstructionClass[] = [arithmetic, convert, compare, control];
