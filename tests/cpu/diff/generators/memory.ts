// Loads and stores in every addressing mode, pairs, exclusives and acquire/release. The virtkit side
// runs with the MMU off, where data accesses are Device-nGnRnE, so every access is aligned to its
// size (unaligned rules have their own bare-metal guest). Writeback forms never use the transfer
// register as base (CONSTRAINED UNPREDICTABLE), load pairs never name one register twice.
import {
  SCRATCH_BASE_REGISTER as X28,
  SCRATCH_SIZE,
  STACK_OFFSET,
  hex,
  type GenContext,
  type InstructionClass,
} from "./context.ts";

export interface Access {
  op: string;
  size: number;
  /** Transfer register is an X register. */
  sf: boolean;
  load: boolean;
}

const PREFETCH = ["pldl1keep", "pldl2strm", "pstl1keep", "plil1keep"];

export const SINGLE_ACCESSES: Access[] = [
  { op: "ldrb", size: 1, sf: false, load: true },
  { op: "ldrh", size: 2, sf: false, load: true },
  { op: "ldr", size: 4, sf: false, load: true },
  { op: "ldr", size: 8, sf: true, load: true },
  { op: "ldrsb", size: 1, sf: false, load: true },
  { op: "ldrsb", size: 1, sf: true, load: true },
  { op: "ldrsh", size: 2, sf: false, load: true },
  { op: "ldrsh", size: 2, sf: true, load: true },
  { op: "ldrsw", size: 4, sf: true, load: true },
  { op: "strb", size: 1, sf: false, load: false },
  { op: "strh", size: 2, sf: false, load: false },
  { op: "str", size: 4, sf: false, load: false },
  { op: "str", size: 8, sf: true, load: false },
];

/** The unscaled-offset mnemonic (LDUR, STURB, ...) for an access. */
function unscaled(op: string): string {
  return op.replace(/^ld/, "ldu").replace(/^st/, "stu");
}

/**
 * Puts an address inside scratch into a fresh base register, leaving room for `before` bytes below and
 * `after` bytes above it. Returns the register index, the setup line and the base's scratch offset.
 */
export function scratchBase(
  g: GenContext,
  align: number,
  before: number,
  after: number,
  exclude: number[] = [],
): { base: number; setup: string; offset: number } {
  const offset = g.scratchOffset(align, after, before);
  const base = g.regIndex(exclude);
  return { base, setup: `add x${base}, x${X28}, #${offset}`, offset };
}

function alignedSimm(g: GenContext, align: number, lo: number, hi: number): number {
  return align * g.rng.range(Math.ceil(lo / align), Math.floor(hi / align));
}

const single: InstructionClass = {
  name: "load-store",
  description:
    "LDR/STR/LDRB/LDRH/LDRS* in unsigned-offset, unscaled, pre-index, post-index, register-offset " +
    "(LSL/UXTW/SXTW/SXTX) and literal forms, SP as base, PRFM",
  generate(g) {
    const a = g.rng.pick(SINGLE_ACCESSES);
    const rt = g.regIndex();
    const t = g.rng.chance(0.05) && !a.load ? 31 : rt;
    const reg = g.r(t, a.sf);
    switch (g.rng.below(8)) {
      case 0:
        return [`${a.op} ${reg}, [x${X28}, #${g.scratchOffset(a.size, a.size)}]`];
      case 1: {
        const b = scratchBase(g, a.size, 256, 256, [rt]);
        return [b.setup, `${unscaled(a.op)} ${reg}, [x${b.base}, #${alignedSimm(g, a.size, -256, 255)}]`];
      }
      case 2:
      case 3: {
        const b = scratchBase(g, a.size, 256, 256, [rt]);
        const imm = alignedSimm(g, a.size, -256, 255);
        return [
          b.setup,
          g.rng.chance(0.5)
            ? `${a.op} ${reg}, [x${b.base}, #${imm}]!`
            : `${a.op} ${reg}, [x${b.base}], #${imm}`,
        ];
      }
      case 4: {
        const b = scratchBase(g, 8, 2048, 2040, [rt]);
        const index = g.regIndex([rt, b.base]);
        const scale = Math.log2(a.size);
        const shifted = g.rng.chance(0.5);
        const extend = g.rng.pick(["lsl", "uxtw", "sxtw", "sxtx"]);
        const limit = Math.floor(2000 / a.size);
        const j = extend === "uxtw" ? g.rng.range(0, limit) : g.rng.range(-limit, limit);
        const lines = [b.setup, `mov x${index}, #${shifted ? j : j * a.size}`];
        // UXTW/SXTW ignore bits 63:32 of the index: put something there to prove it.
        if (extend.endsWith("w")) lines.push(`movk x${index}, #${hex(g.rng.below(0x10000))}, lsl #48`);
        const indexReg = extend.endsWith("w") ? `w${index}` : `x${index}`;
        const amount = shifted ? ` #${scale}` : extend === "lsl" ? "" : " #0";
        const ext = extend === "lsl" && !shifted ? "" : `, ${extend}${amount}`;
        lines.push(`${a.op} ${reg}, [x${b.base}, ${indexReg}${ext}]`);
        return lines;
      }
      case 5:
        return [`${a.op} ${reg}, [sp, #${g.scratchOffset(a.size, a.size, 0, SCRATCH_SIZE - STACK_OFFSET)}]`];
      case 6: {
        if (!a.load || a.size < 4)
          return [`prfm ${g.rng.pick(PREFETCH)}, [x${X28}, #${g.scratchOffset(8, 8)}]`];
        // Literal loads read the code area; the literal sits behind a branch and is 8-byte aligned.
        const literal = g.label();
        const skip = g.label();
        const value = a.size === 8 ? `.quad ${hex(g.rng.u64())}` : `.word ${hex(g.rng.u32())}`;
        return [
          `${a.op} ${reg}, ${literal}`,
          `b ${skip}`,
          `.balign 8`,
          `${literal}:`,
          value,
          `.balign 4`,
          `${skip}:`,
        ];
      }
      default:
        return [`${a.op} ${reg}, [x${X28}, #${g.scratchOffset(a.size, a.size)}]`];
    }
  },
};

const pair: InstructionClass = {
  name: "load-store-pair",
  description: "LDP/STP (W, X), LDPSW, LDNP/STNP in signed-offset, pre-index and post-index forms",
  generate(g) {
    const kind = g.rng.pick(["ldp", "stp", "ldpsw", "ldnp", "stnp"]);
    const sf = kind === "ldpsw" ? true : g.sf();
    const size = kind === "ldpsw" ? 4 : sf ? 8 : 4;
    const load = kind.startsWith("ld");
    const [t1, t2] = load ? g.distinct(2) : [g.regIndex(), g.regIndex()];
    const span = 64 * size;
    const b = scratchBase(g, size, span, span + 2 * size, [t1!, t2!]);
    const imm = alignedSimm(g, size, -span, span - size);
    const regs = `${g.r(t1!, sf)}, ${g.r(t2!, sf)}`;
    const mode = kind.endsWith("np") ? 0 : g.rng.below(3);
    const addr = [`[x${b.base}, #${imm}]`, `[x${b.base}, #${imm}]!`, `[x${b.base}], #${imm}`][mode];
    return [b.setup, `${kind} ${regs}, ${addr}`];
  },
};

const EXCLUSIVE_SIZES = [
  { suffix: "b", size: 1, sf: false },
  { suffix: "h", size: 2, sf: false },
  { suffix: "", size: 4, sf: false },
  { suffix: "", size: 8, sf: true },
];

const exclusive: InstructionClass = {
  name: "exclusive",
  description: "LDXR/LDAXR/STXR/STLXR (B, H, W, X), LDXP/LDAXP/STXP/STLXP, LDAR/STLR, CLREX",
  generate(g) {
    const e = g.rng.pick(EXCLUSIVE_SIZES);
    switch (g.rng.below(4)) {
      case 0: {
        // A matched pair succeeds; a lone store after CLREX fails. Status, data and base all differ.
        const [rt, rs, rv] = g.distinct(3);
        const b = scratchBase(g, e.size, 0, e.size, [rt!, rs!, rv!]);
        const ld = `${g.rng.pick(["ldxr", "ldaxr"])}${e.suffix}`;
        const st = `${g.rng.pick(["stxr", "stlxr"])}${e.suffix}`;
        const lines = ["clrex", b.setup];
        if (g.rng.chance(0.8)) lines.push(`${ld} ${g.r(rt!, e.sf)}, [x${b.base}]`);
        lines.push(`${st} w${rs}, ${g.r(rv!, e.sf)}, [x${b.base}]`);
        return lines;
      }
      case 1: {
        const sf = g.sf();
        const size = sf ? 8 : 4;
        const [t1, t2, rs, v1, v2] = g.distinct(5);
        const b = scratchBase(g, 2 * size, 0, 2 * size, [t1!, t2!, rs!, v1!, v2!]);
        return [
          "clrex",
          b.setup,
          `${g.rng.pick(["ldxp", "ldaxp"])} ${g.r(t1!, sf)}, ${g.r(t2!, sf)}, [x${b.base}]`,
          `${g.rng.pick(["stxp", "stlxp"])} w${rs}, ${g.r(v1!, sf)}, ${g.r(v2!, sf)}, [x${b.base}]`,
        ];
      }
      default: {
        const rt = g.regIndex();
        const b = scratchBase(g, e.size, 0, e.size, [rt]);
        const op = `${g.rng.pick(["ldar", "stlr"])}${e.suffix}`;
        return [b.setup, `${op} ${g.r(rt, e.sf)}, [x${b.base}]`];
      }
    }
  },
};

export const memoryClasses: InstructionClass[] = [single, pair, exclusive];
