// Self-modifying code: an item stores a new instruction word over one of its own instructions, makes
// it visible to instruction fetch as the architecture requires (DC CVAU, DSB, IC IVAU, DSB, ISB: a
// Cortex-A53's CTR_EL0 has neither IDC nor DIC) and runs it, either straight after the store or in the
// second round of a loop whose first round ran the original instruction. The program's code is
// writable (program.ts links one read-write-execute segment). This is what a translation cache must
// notice.
import { SCRATCH_BASE_REGISTER as X28, type GenContext, type InstructionClass } from "./context.ts";

/** A random instruction of a few simple kinds, as its A64 encoding, writing `d` from `n` and `m`. */
function encoding(g: GenContext, d: number, n: number, m: number): number {
  switch (g.rng.below(4)) {
    case 0: // ADD Xd, Xn, #imm12
      return (0x91000000 | (g.rng.below(4096) << 10) | (n << 5) | d) >>> 0;
    case 1: // SUB Xd, Xn, #imm12
      return (0xd1000000 | (g.rng.below(4096) << 10) | (n << 5) | d) >>> 0;
    case 2: // MOVZ Xd, #imm16, LSL #(16 * hw)
      return (0xd2800000 | (g.rng.below(4) << 21) | (g.rng.below(0x10000) << 5) | d) >>> 0;
    default: // EOR Xd, Xn, Xm
      return (0xca000000 | (m << 16) | (n << 5) | d) >>> 0;
  }
}

/** Stores `word` at the address in x`at` and makes instruction fetch see it. */
function patch(at: number, value: number, word: number): string[] {
  return [
    `movz w${value}, #${word & 0xffff}`,
    `movk w${value}, #${word >>> 16}, lsl #16`,
    `str w${value}, [x${at}]`,
    `dc cvau, x${at}`,
    "dsb ish",
    `ic ivau, x${at}`,
    "dsb ish",
    "isb",
  ];
}

export const selfModifying: InstructionClass = {
  name: "self-modifying",
  description:
    "an instruction of the item overwritten (ADD/SUB immediate, MOVZ, EOR) and made visible with " +
    "DC CVAU, DSB, IC IVAU, DSB, ISB, then run at once or in a loop's second round",
  generate(g) {
    const [at, value, counter, d, n, m] = g.distinct(6, [30]);
    const target = g.label();
    const word = encoding(g, d!, n!, m!);
    const original = `add x${d}, x${n}, #${g.rng.below(4096)}`;
    if (g.rng.chance(0.5)) {
      return [`adr x${at}, ${target}`, ...patch(at!, value!, word), `${target}:`, original];
    }
    const top = g.label();
    return [
      `mov x${counter}, #2`,
      `${top}:`,
      // The first round runs the original and keeps its result where the second cannot overwrite it.
      `${target}:`,
      original,
      `str x${d}, [x${X28}, #${8 * g.rng.below(512)}]`,
      `adr x${at}, ${target}`,
      ...patch(at!, value!, word),
      `sub x${counter}, x${counter}, #1`,
      `cbnz x${counter}, ${top}`,
    ];
  },
};
