// SP as an operand, a destination and a base register: ADD/SUB (immediate and extended register, with
// and without flags, 64- and 32-bit WSP forms), MOV to and from SP, logical immediate into SP, loads,
// stores and pairs with SP as base in offset, pre-index and post-index forms. SP stays 16-byte aligned
// (with SCTLR_EL1.SA0, which Linux sets, a misaligned SP base faults at EL0) and far enough inside the scratch
// area for every access, and each item ends with SP back at its usual place.
import {
  STACK_OFFSET,
  SCRATCH_BASE_REGISTER as X28,
  SCRATCH_SIZE,
  type GenContext,
  type InstructionClass,
} from "./context.ts";
import { SINGLE_ACCESSES } from "./memory.ts";

/** Accesses below reach at most this far either side of SP (LDUR's -256, LDP's 248 + 16). */
const REACH = 272;
/** Where an item first puts SP: this far from both ends of scratch, so it can move a little. */
const START_MARGIN = 512;

/** A value for SP's offset in scratch: 16-byte aligned, START_MARGIN inside both ends. */
function spOffset(g: GenContext): number {
  return 16 * g.rng.range(START_MARGIN / 16, (SCRATCH_SIZE - START_MARGIN) / 16);
}

/** Moves SP's recorded offset by `delta` if it stays REACH inside scratch; false (unmoved) if not. */
function move(sp: { offset: number }, delta: number): boolean {
  const to = sp.offset + delta;
  if (to < REACH || to > SCRATCH_SIZE - REACH) return false;
  sp.offset = to;
  return true;
}

/** Lines that put SP at scratch + `offset`, by one of the instructions that can write SP. */
function setSp(g: GenContext, offset: number): string[] {
  const t = g.regIndex();
  switch (g.rng.below(5)) {
    case 0:
      return [`add sp, x${X28}, #${offset}`];
    case 1:
      // ADD (extended register) with SP as destination.
      return [`mov x${t}, #${offset}`, `add sp, x${X28}, x${t}`];
    case 2:
      return [`add x${t}, x${X28}, #${offset}`, `mov sp, x${t}`];
    case 3:
      // The 32-bit form writes SP zero-extended; the data area lies below 4 GiB.
      return [`add wsp, w${X28}, #${offset}`];
    default:
      // Logical immediate with SP as destination (scratch is 16-byte aligned), then the offset.
      return [`and sp, x${X28}, #0xfffffffffffffff0`, `add sp, sp, #${offset}`];
  }
}

/** One use of SP: as a source of arithmetic, compared, moved, or as a base register. */
function useSp(g: GenContext, sp: { offset: number }): string[] {
  const d = g.regIndex();
  const m = g.regIndex([d]);
  const imm = g.rng.below(4096);
  switch (g.rng.below(9)) {
    case 0:
      return [
        `${g.rng.pick(["add", "sub", "adds", "subs"])} x${d}, sp, #${imm}${g.rng.chance(0.2) ? ", lsl #12" : ""}`,
      ];
    case 1:
      return [`${g.rng.pick(["cmp", "cmn"])} sp, #${imm}`];
    case 2: {
      const extend = g.rng.pick(["uxtx", "sxtx", "uxtw", "sxtw", "uxth", "sxtb"]);
      const reg = extend.endsWith("x") ? `x${m}` : `w${m}`;
      const op = g.rng.pick(["add", "sub", "adds", "subs"]);
      return [`${op} x${d}, sp, ${reg}, ${extend} #${g.rng.below(5)}`];
    }
    case 3:
      return [`cmp sp, x${m}, uxtx #${g.rng.below(5)}`];
    case 4:
      return [`${g.rng.pick(["add", "sub"])} w${d}, wsp, #${imm}`];
    case 5:
      return [`mov x${d}, sp`];
    case 6: {
      const step = 16 * g.rng.range(1, 8);
      if (move(sp, -step)) return [`sub sp, sp, #${step}`];
      if (move(sp, step)) return [`add sp, sp, #${step}`];
      return [`mov x${d}, sp`];
    }
    case 7: {
      const a = g.rng.pick(SINGLE_ACCESSES);
      const t = g.r(g.regIndex(), a.sf);
      if (g.rng.chance(0.5)) return [`${a.op} ${t}, [sp, #${a.size * g.rng.below(256 / a.size)}]`];
      const unscaled = a.op.replace(/^ld/, "ldu").replace(/^st/, "stu");
      return [`${unscaled} ${t}, [sp, #${a.size * g.rng.range(-256 / a.size, 256 / a.size - 1)}]`];
    }
    default: {
      // Pairs and writeback with SP as base: SP moves by a multiple of 16, so it stays aligned.
      const [t1, t2] = g.distinct(2);
      const regs = `x${t1}, x${t2}`;
      const step = 16 * g.rng.range(1, 8);
      const kind = g.rng.below(4);
      if (kind === 1 && move(sp, -step)) return [`${g.rng.pick(["ldp", "stp"])} ${regs}, [sp, #-${step}]!`];
      if (kind === 2 && move(sp, step)) return [`${g.rng.pick(["ldp", "stp"])} ${regs}, [sp], #${step}`];
      if (kind === 3 && move(sp, -16)) return [`${g.rng.pick(["ldr", "str"])} x${t1}, [sp, #-16]!`];
      return [`${g.rng.pick(["ldp", "stp"])} ${regs}, [sp, #${8 * g.rng.range(-32, 31)}]`];
    }
  }
}

export const stackPointer: InstructionClass = {
  name: "stack-pointer",
  description:
    "SP as operand, destination and base: ADD/SUB/ADDS/SUBS/CMP/CMN immediate and extended, WSP, " +
    "MOV to/from SP, AND into SP, LDR/STR/LDUR/STUR/LDP/STP with SP base and writeback",
  generate(g) {
    const sp = { offset: spOffset(g) };
    const lines = setSp(g, sp.offset);
    const uses = g.rng.range(1, 4);
    for (let i = 0; i < uses; i++) lines.push(...useSp(g, sp));
    // Back to where the load-store class's SP-based accesses expect it.
    lines.push(`add sp, x${X28}, #${STACK_OFFSET}`);
    return lines;
  },
};
