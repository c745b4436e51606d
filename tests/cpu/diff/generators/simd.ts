// Advanced SIMD: integer and FP vector arithmetic, compares, shifts and narrowing, permutes and TBL,
// across-lanes reductions, by-element forms, MOVI/MVNI/DUP/INS/UMOV/SMOV, scalar SIMD, and the SIMD&FP
// loads and stores (single registers, pairs, multiple and single structures). Tables name each
// operation with the element sizes it is allocated for; the assembler rejects anything else, so a
// table error shows up at once as an assembler message.
import type { GenContext, InstructionClass } from "./context.ts";
import { fpImmediate } from "./fp.ts";
import { scratchBase } from "./memory.ts";

type Table = [ops: string, sizes: string][];

const BY_SIZE: Record<string, string[]> = { b: ["8b", "16b"], h: ["4h", "8h"], s: ["2s", "4s"], d: ["2d"] };
const ELEMENT_BITS: Record<string, number> = { b: 8, h: 16, s: 32, d: 64 };
/** Wide arrangement -> narrow arrangement for the narrowing and long operations. */
const NARROW: Record<string, [string, string]> = {
  "8h": ["8b", "16b"],
  "4s": ["4h", "8h"],
  "2d": ["2s", "4s"],
};

function pickOp(g: GenContext, table: Table): [string, string] {
  const [ops, sizes] = g.rng.pick(table);
  return [g.rng.pick(ops.split(" ")), g.rng.pick([...sizes].flatMap((s) => BY_SIZE[s]!))];
}

function elementOf(arrangement: string): string {
  return arrangement.at(-1)!;
}

function v(g: GenContext, t: string): string {
  return `v${g.v()}.${t}`;
}

const SAME3: Table = [
  [
    "add sub cmeq cmgt cmge cmhi cmhs cmtst sqadd uqadd sqsub uqsub sshl ushl srshl urshl sqshl uqshl sqrshl uqrshl addp",
    "bhsd",
  ],
  [
    "mul mla mls shadd uhadd srhadd urhadd shsub uhsub smax smin umax umin sabd uabd saba uaba smaxp sminp umaxp uminp",
    "bhs",
  ],
  ["and orr eor bic orn bsl bit bif pmul", "b"],
  ["sqdmulh sqrdmulh", "hs"],
];
const MISC2: Table = [
  ["abs neg sqabs sqneg suqadd usqadd", "bhsd"],
  ["cls clz", "bhs"],
  ["cnt not rbit rev16", "b"],
  ["rev32", "bh"],
  ["rev64", "bhs"],
];
const FP3: Table = [
  [
    "fadd fsub fmul fdiv fmax fmin fmaxnm fminnm fmla fmls fabd faddp fmaxp fminp fmaxnmp fminnmp fmulx " +
      "fcmeq fcmge fcmgt facge facgt frecps frsqrts",
    "sd",
  ],
];
const FP2: Table = [
  [
    "fabs fneg fsqrt frintn frinta frintm frintp frintz frintx frinti fcvtzs fcvtzu fcvtns fcvtnu fcvtas " +
      "fcvtau fcvtms fcvtmu fcvtps fcvtpu scvtf ucvtf frecpe frsqrte",
    "sd",
  ],
  ["urecpe ursqrte", "s"],
];

const integerVector: InstructionClass = {
  name: "simd-int",
  description:
    "integer vector three-same, two-register misc, compares against zero, long/wide/narrow-high, by element",
  generate(g) {
    switch (g.rng.below(6)) {
      case 0:
      case 1: {
        const [op, t] = pickOp(g, SAME3);
        return [`${op} ${v(g, t)}, ${v(g, t)}, ${v(g, t)}`];
      }
      case 2: {
        if (g.rng.chance(0.4)) {
          const [, t] = pickOp(g, [["", "bhsd"]]);
          return [`${g.rng.pick(["cmeq", "cmge", "cmgt", "cmle", "cmlt"])} ${v(g, t)}, ${v(g, t)}, #0`];
        }
        const [op, t] = pickOp(g, MISC2);
        return [`${op} ${v(g, t)}, ${v(g, t)}`];
      }
      case 3: {
        const wide = g.rng.pick(Object.keys(NARROW));
        const upper = g.rng.chance(0.5);
        const narrow = NARROW[wide]![upper ? 1 : 0];
        const two = upper ? "2" : "";
        switch (g.rng.below(3)) {
          case 0: {
            const long = [
              "saddl",
              "uaddl",
              "ssubl",
              "usubl",
              "smull",
              "umull",
              "smlal",
              "umlal",
              "smlsl",
              "umlsl",
              "sabdl",
              "uabdl",
              "sabal",
              "uabal",
            ];
            const sat = wide === "8h" ? [] : ["sqdmull", "sqdmlal", "sqdmlsl"];
            const op = g.rng.pick([...long, ...sat, ...(wide === "8h" ? ["pmull"] : [])]);
            return [`${op}${two} ${v(g, wide)}, ${v(g, narrow)}, ${v(g, narrow)}`];
          }
          case 1:
            return [
              `${g.rng.pick(["saddw", "uaddw", "ssubw", "usubw"])}${two} ${v(g, wide)}, ${v(g, wide)}, ${v(g, narrow)}`,
            ];
          default:
            return [
              `${g.rng.pick(["addhn", "raddhn", "subhn", "rsubhn"])}${two} ${v(g, narrow)}, ${v(g, wide)}, ${v(g, wide)}`,
            ];
        }
      }
      case 4: {
        const [op, t] = pickOp(g, [["saddlp uaddlp sadalp uadalp", "bhs"]]);
        const bits = 2 * ELEMENT_BITS[elementOf(t)]!;
        const lanes = (t.startsWith("16") || t.startsWith("8h") || t.startsWith("4s") ? 128 : 64) / bits;
        return [`${op} ${v(g, `${lanes}${{ 16: "h", 32: "s", 64: "d" }[bits]}`)}, ${v(g, t)}`];
      }
      default: {
        const t = g.rng.pick(["4h", "8h", "2s", "4s"]);
        const half = elementOf(t) === "h";
        const m = half ? g.rng.below(16) : g.v();
        const index = g.rng.below(half ? 8 : 4);
        if (g.rng.chance(0.5)) {
          const op = g.rng.pick(["mul", "mla", "mls", "sqdmulh", "sqrdmulh"]);
          return [`${op} ${v(g, t)}, ${v(g, t)}, v${m}.${elementOf(t)}[${index}]`];
        }
        const wide = half ? "4s" : "2d";
        const op = g.rng.pick([
          "smull",
          "umull",
          "smlal",
          "umlal",
          "smlsl",
          "umlsl",
          "sqdmull",
          "sqdmlal",
          "sqdmlsl",
        ]);
        const two = t.startsWith("8") || t === "4s" ? "2" : "";
        return [`${op}${two} ${v(g, wide)}, ${v(g, t)}, v${m}.${elementOf(t)}[${index}]`];
      }
    }
  },
};

const fpVector: InstructionClass = {
  name: "simd-fp",
  description:
    "FP vector arithmetic, compares (and against #0.0), rounding, conversions (and fixed point), FCVTL/FCVTN/FCVTXN, estimates, by element",
  generate(g) {
    switch (g.rng.below(6)) {
      case 0:
      case 1: {
        const [op, t] = pickOp(g, FP3);
        return [`${op} ${v(g, t)}, ${v(g, t)}, ${v(g, t)}`];
      }
      case 2: {
        const [op, t] = pickOp(g, FP2);
        return [`${op} ${v(g, t)}, ${v(g, t)}`];
      }
      case 3: {
        const t = g.rng.pick(["2s", "4s", "2d"]);
        if (g.rng.chance(0.5)) {
          return [
            `${g.rng.pick(["fcmeq", "fcmge", "fcmgt", "fcmle", "fcmlt"])} ${v(g, t)}, ${v(g, t)}, #0.0`,
          ];
        }
        const op = g.rng.pick(["fcvtzs", "fcvtzu", "scvtf", "ucvtf"]);
        return [`${op} ${v(g, t)}, ${v(g, t)}, #${g.rng.range(1, ELEMENT_BITS[elementOf(t)]!)}`];
      }
      case 4: {
        const upper = g.rng.chance(0.5);
        const two = upper ? "2" : "";
        switch (g.rng.below(3)) {
          case 0:
            return g.rng.chance(0.5)
              ? [`fcvtl${two} ${v(g, "4s")}, ${v(g, upper ? "8h" : "4h")}`]
              : [`fcvtl${two} ${v(g, "2d")}, ${v(g, upper ? "4s" : "2s")}`];
          case 1:
            return g.rng.chance(0.5)
              ? [`fcvtn${two} ${v(g, upper ? "8h" : "4h")}, ${v(g, "4s")}`]
              : [`fcvtn${two} ${v(g, upper ? "4s" : "2s")}, ${v(g, "2d")}`];
          default:
            return [`fcvtxn${two} ${v(g, upper ? "4s" : "2s")}, ${v(g, "2d")}`];
        }
      }
      default: {
        const t = g.rng.pick(["2s", "4s", "2d"]);
        const e = elementOf(t);
        const op = g.rng.pick(["fmul", "fmla", "fmls", "fmulx"]);
        return [`${op} ${v(g, t)}, ${v(g, t)}, v${g.v()}.${e}[${g.rng.below(e === "d" ? 2 : 4)}]`];
      }
    }
  },
};

const shifts: InstructionClass = {
  name: "simd-shift",
  description:
    "vector shifts by immediate (SHL, S/USHR, S/USRA, S/URSHR, S/URSRA, SRI, SLI, SQSHL(U), UQSHL), narrowing (SHRN, RSHRN, SQ/UQ(R)SHR(U)N), SSHLL/USHLL, SHLL, XTN/SQXTN/UQXTN/SQXTUN",
  generate(g) {
    switch (g.rng.below(4)) {
      case 0: {
        const [op, t] = pickOp(g, [["sshr ushr ssra usra srshr urshr srsra ursra sri", "bhsd"]]);
        return [`${op} ${v(g, t)}, ${v(g, t)}, #${g.rng.range(1, ELEMENT_BITS[elementOf(t)]!)}`];
      }
      case 1: {
        const [op, t] = pickOp(g, [["shl sli sqshl uqshl sqshlu", "bhsd"]]);
        return [`${op} ${v(g, t)}, ${v(g, t)}, #${g.rng.below(ELEMENT_BITS[elementOf(t)]!)}`];
      }
      case 2: {
        const wide = g.rng.pick(Object.keys(NARROW));
        const upper = g.rng.chance(0.5);
        const narrow = NARROW[wide]![upper ? 1 : 0];
        const two = upper ? "2" : "";
        const bits = ELEMENT_BITS[elementOf(narrow)]!;
        switch (g.rng.below(4)) {
          case 0: {
            const op = g.rng.pick([
              "shrn",
              "rshrn",
              "sqshrn",
              "uqshrn",
              "sqrshrn",
              "uqrshrn",
              "sqshrun",
              "sqrshrun",
            ]);
            return [`${op}${two} ${v(g, narrow)}, ${v(g, wide)}, #${g.rng.range(1, bits)}`];
          }
          case 1:
            return [
              `${g.rng.pick(["sshll", "ushll"])}${two} ${v(g, wide)}, ${v(g, narrow)}, #${g.rng.below(bits)}`,
            ];
          case 2:
            return [`shll${two} ${v(g, wide)}, ${v(g, narrow)}, #${bits}`];
          default:
            return [
              `${g.rng.pick(["xtn", "sqxtn", "uqxtn", "sqxtun"])}${two} ${v(g, narrow)}, ${v(g, wide)}`,
            ];
        }
      }
      default: {
        const [op, t] = pickOp(g, [["sshl ushl srshl urshl", "bhsd"]]);
        return [`${op} ${v(g, t)}, ${v(g, t)}, ${v(g, t)}`];
      }
    }
  },
};

/** A list of `count` consecutive vector registers (wrapping after v31). */
function registerList(first: number, count: number, t: string): string {
  return `{${Array.from({ length: count }, (_, i) => `v${(first + i) % 32}.${t}`).join(", ")}}`;
}

const permute: InstructionClass = {
  name: "simd-permute",
  description: "ZIP1/2, UZP1/2, TRN1/2, EXT, TBL/TBX with 1-4 table registers",
  generate(g) {
    switch (g.rng.below(3)) {
      case 0: {
        const [op, t] = pickOp(g, [["zip1 zip2 uzp1 uzp2 trn1 trn2", "bhsd"]]);
        return [`${op} ${v(g, t)}, ${v(g, t)}, ${v(g, t)}`];
      }
      case 1: {
        const t = g.rng.pick(["8b", "16b"]);
        return [`ext ${v(g, t)}, ${v(g, t)}, ${v(g, t)}, #${g.rng.below(t === "8b" ? 8 : 16)}`];
      }
      default: {
        const t = g.rng.pick(["8b", "16b"]);
        const list = registerList(g.v(), g.rng.range(1, 4), "16b");
        return [`${g.rng.pick(["tbl", "tbx"])} ${v(g, t)}, ${list}, ${v(g, t)}`];
      }
    }
  },
};

const acrossLanes: InstructionClass = {
  name: "simd-across",
  description: "ADDV, S/UMAXV, S/UMINV, S/UADDLV, FMAXV/FMINV/FMAXNMV/FMINNMV",
  generate(g) {
    const t = g.rng.pick(["8b", "16b", "4h", "8h", "4s"]);
    const e = elementOf(t);
    switch (g.rng.below(3)) {
      case 0:
        return [`${g.rng.pick(["addv", "smaxv", "sminv", "umaxv", "uminv"])} ${e}${g.v()}, ${v(g, t)}`];
      case 1:
        return [`${g.rng.pick(["saddlv", "uaddlv"])} ${{ b: "h", h: "s", s: "d" }[e]}${g.v()}, ${v(g, t)}`];
      default:
        return [`${g.rng.pick(["fmaxv", "fminv", "fmaxnmv", "fminnmv"])} s${g.v()}, ${v(g, "4s")}`];
    }
  },
};

function byteMask64(g: GenContext): string {
  let value = 0n;
  for (let i = 0; i < 8; i++) if (g.rng.chance(0.5)) value |= 0xffn << BigInt(8 * i);
  return `0x${value.toString(16)}`;
}

const moves: InstructionClass = {
  name: "simd-move",
  description:
    "MOVI/MVNI (all shift forms), ORR/BIC (vector immediate), FMOV (vector immediate), DUP, INS, UMOV/SMOV, MOV",
  generate(g) {
    const imm8 = g.rng.below(256);
    switch (g.rng.below(7)) {
      case 0: {
        switch (g.rng.below(5)) {
          case 0:
            return [`movi ${v(g, g.rng.pick(["8b", "16b"]))}, #${imm8}`];
          case 1:
            return [
              `${g.rng.pick(["movi", "mvni"])} ${v(g, g.rng.pick(["4h", "8h"]))}, #${imm8}, lsl #${g.rng.pick([0, 8])}`,
            ];
          case 2:
            return [
              `${g.rng.pick(["movi", "mvni"])} ${v(g, g.rng.pick(["2s", "4s"]))}, #${imm8}, lsl #${g.rng.pick([0, 8, 16, 24])}`,
            ];
          case 3:
            return [
              `${g.rng.pick(["movi", "mvni"])} ${v(g, g.rng.pick(["2s", "4s"]))}, #${imm8}, msl #${g.rng.pick([8, 16])}`,
            ];
          default:
            return g.rng.chance(0.5)
              ? [`movi ${v(g, "2d")}, #${byteMask64(g)}`]
              : [`movi d${g.v()}, #${byteMask64(g)}`];
        }
      }
      case 1: {
        const t = g.rng.pick(["4h", "8h", "2s", "4s"]);
        const shifts = t.endsWith("h") ? [0, 8] : [0, 8, 16, 24];
        return [`${g.rng.pick(["orr", "bic"])} ${v(g, t)}, #${imm8}, lsl #${g.rng.pick(shifts)}`];
      }
      case 2:
        return [`fmov ${v(g, g.rng.pick(["2s", "4s", "2d"]))}, #${fpImmediate(g)}`];
      case 3: {
        const [, t] = pickOp(g, [["", "bhsd"]]);
        const e = elementOf(t);
        const lanes = (64 / ELEMENT_BITS[e]!) * 2;
        return g.rng.chance(0.5)
          ? [`dup ${v(g, t)}, v${g.v()}.${e}[${g.rng.below(lanes)}]`]
          : [`dup ${v(g, t)}, ${g.reg(e === "d", true)}`];
      }
      case 4: {
        const e = g.rng.pick(["b", "h", "s", "d"]);
        const lanes = 128 / ELEMENT_BITS[e]!;
        return g.rng.chance(0.5)
          ? [`ins v${g.v()}.${e}[${g.rng.below(lanes)}], ${g.reg(e === "d", true)}`]
          : [`ins v${g.v()}.${e}[${g.rng.below(lanes)}], v${g.v()}.${e}[${g.rng.below(lanes)}]`];
      }
      case 5: {
        const e = g.rng.pick(["b", "h", "s", "d"]);
        const lanes = 128 / ELEMENT_BITS[e]!;
        if (g.rng.chance(0.5) || e === "d")
          return [`umov ${g.reg(e === "d")}, v${g.v()}.${e}[${g.rng.below(lanes)}]`];
        const sf = e === "s" ? true : g.sf();
        return [`smov ${g.reg(sf)}, v${g.v()}.${e}[${g.rng.below(lanes)}]`];
      }
      default: {
        const e = g.rng.pick(["b", "h", "s", "d"]);
        return g.rng.chance(0.5)
          ? [`mov ${e}${g.v()}, v${g.v()}.${e}[${g.rng.below(128 / ELEMENT_BITS[e]!)}]`]
          : [`mov ${v(g, "16b")}, ${v(g, "16b")}`];
      }
    }
  },
};

const scalar: InstructionClass = {
  name: "simd-scalar",
  description:
    "scalar Advanced SIMD: ADD/SUB/CM*/shifts on D, saturating arithmetic and narrowing on B/H/S/D, ADDP/FADDP/FMAXP, FP estimates, integer-in-FP-register conversions",
  generate(g) {
    const d = () => `d${g.v()}`;
    switch (g.rng.below(9)) {
      case 0:
        return [
          `${g.rng.pick(["add", "sub", "cmeq", "cmge", "cmgt", "cmhi", "cmhs", "cmtst", "sshl", "ushl"])} ${d()}, ${d()}, ${d()}`,
        ];
      case 1: {
        const op = g.rng.pick(["sshr", "ushr", "ssra", "usra", "srshr", "urshr", "sri"]);
        return g.rng.chance(0.7)
          ? [`${op} ${d()}, ${d()}, #${g.rng.range(1, 64)}`]
          : [`${g.rng.pick(["shl", "sli"])} ${d()}, ${d()}, #${g.rng.below(64)}`];
      }
      case 2: {
        const e = g.rng.pick(["b", "h", "s", "d"]);
        const op = g.rng.pick(["sqadd", "uqadd", "sqsub", "uqsub", "sqshl", "uqshl"]);
        return [`${op} ${e}${g.v()}, ${e}${g.v()}, ${e}${g.v()}`];
      }
      case 3: {
        const [wide, narrow] = g.rng.pick([
          ["h", "b"],
          ["s", "h"],
          ["d", "s"],
        ] as const);
        return [`${g.rng.pick(["sqxtn", "uqxtn", "sqxtun"])} ${narrow}${g.v()}, ${wide}${g.v()}`];
      }
      case 4:
        return g.rng.chance(0.5)
          ? [`${g.rng.pick(["addp"])} ${d()}, ${v(g, "2d")}`]
          : [`${g.rng.pick(["faddp", "fmaxp", "fminp", "fmaxnmp", "fminnmp"])} s${g.v()}, ${v(g, "2s")}`];
      case 5: {
        const p = g.rng.pick(["s", "d"]);
        const op = g.rng.pick([
          "frecpe",
          "frsqrte",
          "frecpx",
          "fcvtzs",
          "fcvtzu",
          "scvtf",
          "ucvtf",
          "fcvtns",
          "fcvtas",
        ]);
        return [`${op} ${p}${g.v()}, ${p}${g.v()}`];
      }
      default: {
        const p = g.rng.pick(["s", "d"]);
        const op = g.rng.pick([
          "fabd",
          "frecps",
          "frsqrts",
          "fcmeq",
          "fcmge",
          "fcmgt",
          "facge",
          "facgt",
          "fmulx",
        ]);
        return [`${op} ${p}${g.v()}, ${p}${g.v()}, ${p}${g.v()}`];
      }
    }
  },
};

const FP_ACCESS: [string, number][] = [
  ["b", 1],
  ["h", 2],
  ["s", 4],
  ["d", 8],
  ["q", 16],
];

const loadStore: InstructionClass = {
  name: "simd-loadstore",
  description:
    "LDR/STR/LDUR/STUR B/H/S/D/Q (all modes), LDP/STP/LDNP/STNP S/D/Q, LD1-4/ST1-4 multiple and single structures, LD1R-LD4R, post-index by immediate and register, LDR literal",
  generate(g) {
    switch (g.rng.below(6)) {
      case 0: {
        const [p, size] = g.rng.pick(FP_ACCESS);
        const op = g.rng.pick(["ldr", "str"]);
        const reg = `${p}${g.v()}`;
        const b = scratchBase(g, size, 256, 256 + size);
        switch (g.rng.below(4)) {
          case 0:
            return [b.setup, `${op} ${reg}, [x${b.base}, #${size * g.rng.below(256 / size)}]`];
          case 1:
            return [
              b.setup,
              `${op.replace(/^(ld|st)/, "$1u")} ${reg}, [x${b.base}, #${size * g.rng.range(-Math.floor(256 / size), Math.floor(255 / size))}]`,
            ];
          case 2: {
            const imm = size * g.rng.range(-Math.floor(256 / size), Math.floor(255 / size));
            return [
              b.setup,
              g.rng.chance(0.5)
                ? `${op} ${reg}, [x${b.base}, #${imm}]!`
                : `${op} ${reg}, [x${b.base}], #${imm}`,
            ];
          }
          default: {
            const index = g.regIndex([b.base]);
            const k = g.rng.range(-8, 8);
            return [
              b.setup,
              `mov x${index}, #${k}`,
              `${op} ${reg}, [x${b.base}, x${index}, lsl #${Math.log2(size)}]`,
            ];
          }
        }
      }
      case 1: {
        const [p, size] = g.rng.pick(FP_ACCESS.slice(2));
        const op = g.rng.pick(["ldp", "stp", "ldnp", "stnp"]);
        const t1 = g.v();
        const t2 = op.startsWith("ld") ? (t1 + g.rng.range(1, 31)) % 32 : g.v();
        const span = 64 * size;
        const b = scratchBase(g, size, Math.min(span, 2048), Math.min(span, 2032) + 2 * size);
        const imm =
          size *
          g.rng.range(-Math.floor(Math.min(span, 2048) / size), Math.floor(Math.min(span, 2032) / size) - 1);
        const mode = op.endsWith("np") ? 0 : g.rng.below(3);
        const addr = [`[x${b.base}, #${imm}]`, `[x${b.base}, #${imm}]!`, `[x${b.base}], #${imm}`][mode];
        return [b.setup, `${op} ${p}${t1}, ${p}${t2}, ${addr}`];
      }
      case 2: {
        const n = g.rng.range(1, 4);
        const interleave = g.rng.chance(0.5) ? 1 : n;
        const [, t] = pickOp(g, [["", interleave === 1 ? "bhsd" : "bhsd"]]);
        const bytes = (t.startsWith("16") || ["8h", "4s", "2d"].includes(t) ? 16 : 8) * n;
        const op = `${g.rng.pick(["ld", "st"])}${interleave}`;
        return structureAccess(
          g,
          `${op} ${registerList(g.v(), n, t)}`,
          ELEMENT_BITS[elementOf(t)]! / 8,
          bytes,
        );
      }
      case 3: {
        const n = g.rng.range(1, 4);
        const [, t] = pickOp(g, [["", "bhsd"]]);
        const esize = ELEMENT_BITS[elementOf(t)]! / 8;
        return structureAccess(g, `ld${n}r ${registerList(g.v(), n, t)}`, esize, esize * n);
      }
      case 4: {
        const n = g.rng.range(1, 4);
        const e = g.rng.pick(["b", "h", "s", "d"]);
        const esize = ELEMENT_BITS[e]! / 8;
        const lane = g.rng.below(16 / esize);
        const op = `${g.rng.pick(["ld", "st"])}${n}`;
        return structureAccess(g, `${op} ${registerList(g.v(), n, e)}[${lane}]`, esize, esize * n);
      }
      default: {
        const [p, size] = g.rng.pick(FP_ACCESS.slice(2));
        const literal = g.label();
        const skip = g.label();
        const words = Array.from({ length: size / 4 }, () => `0x${g.rng.u32().toString(16)}`).join(", ");
        return [
          `ldr ${p}${g.v()}, ${literal}`,
          `b ${skip}`,
          `.balign 16`,
          `${literal}:`,
          `.word ${words}`,
          `.balign 4`,
          `${skip}:`,
        ];
      }
    }
  },
};

/** A structure load/store at an element-aligned base, plain or post-indexed by its size or a register. */
function structureAccess(g: GenContext, head: string, esize: number, bytes: number): string[] {
  const b = scratchBase(g, esize, 0, bytes);
  switch (g.rng.below(3)) {
    case 0:
      return [b.setup, `${head}, [x${b.base}]`];
    case 1:
      return [b.setup, `${head}, [x${b.base}], #${bytes}`];
    default: {
      const step = g.regIndex([b.base]);
      const back = Math.min(b.offset, 256);
      return [
        b.setup,
        `mov x${step}, #${esize * g.rng.range(-Math.floor(back / esize), 32)}`,
        `${head}, [x${b.base}], x${step}`,
      ];
    }
  }
}

export const simdClasses: InstructionClass[] = [
  integerVector,
  fpVector,
  shifts,
  permute,
  acrossLanes,
  moves,
  scalar,
  loadStore,
];
