// Counted loops around long straight-line bodies drawn from other classes (with their own forward
// branches inside): code that runs many times, ends in a backward branch and is entered again at its
// top, as the JIT tier's blocks, chains and loop exits see real code. The counter is kept out of every
// other choice of register while the body is generated.
import { instructionCount, type GenContext, type InstructionClass } from "./context.ts";

/** The loop class over bodies drawn from `bodyClasses`. */
export function loopClass(bodyClasses: readonly InstructionClass[]): InstructionClass {
  return {
    name: "loop",
    description:
      "counted loops (CBNZ, SUBS + B.NE, CMP + B.LO, TBZ back edges) around 8-48 instructions of the " +
      "integer, memory, stack-pointer and branch classes",
    generate(g: GenContext) {
      // BL and BLR in a body write x30, so it cannot count.
      const counter = g.regIndex([30]);
      const iterations = g.rng.range(2, 6);
      const top = g.label();
      const exit = g.label();
      const length = g.rng.range(8, 48);
      const body = g.withReserved([counter], () => {
        const lines: string[] = [];
        while (instructionCount(lines) < length) lines.push(...g.rng.pick(bodyClasses).generate(g));
        return lines;
      });
      const c = `x${counter}`;
      switch (g.rng.below(4)) {
        case 0:
          return [`mov ${c}, #${iterations}`, `${top}:`, ...body, `sub ${c}, ${c}, #1`, `cbnz ${c}, ${top}`];
        case 1:
          return [`mov ${c}, #${iterations}`, `${top}:`, ...body, `subs ${c}, ${c}, #1`, `b.ne ${top}`];
        case 2:
          return [
            `mov ${c}, #0`,
            `${top}:`,
            ...body,
            `add ${c}, ${c}, #1`,
            `cmp ${c}, #${iterations}`,
            `b.lo ${top}`,
          ];
        default:
          // Counts up until bit 3 is set (8 - start iterations), leaving through a forward TBNZ.
          return [
            `mov ${c}, #${8 - iterations}`,
            `${top}:`,
            ...body,
            `add ${c}, ${c}, #1`,
            `tbnz ${c}, #3, ${exit}`,
            `b ${top}`,
            `${exit}:`,
          ];
      }
    },
  };
}
