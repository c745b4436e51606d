// Branches, always forward to a label inside the same item, so any prefix of a sequence is still a
// complete program: B.cond, CBZ/CBNZ, TBZ/TBNZ, B, BL, BR/BLR/RET through ADR. The skipped (or not)
// instructions come from the integer classes.
import type { GenContext, InstructionClass } from "./context.ts";
import { integerClasses } from "./integer.ts";

function filler(g: GenContext): string[] {
  const lines: string[] = [];
  const n = g.rng.range(1, 3);
  for (let i = 0; i < n; i++) lines.push(...g.rng.pick(integerClasses).generate(g));
  return lines;
}

const branch: InstructionClass = {
  name: "branch",
  description: "B.cond, CBZ/CBNZ, TBZ/TBNZ, B, BL, BR/BLR/RET (forward, within the item)",
  generate(g) {
    const target = g.label();
    const sf = g.sf();
    let head: string[];
    switch (g.rng.below(6)) {
      case 0:
        head = [`b.${g.cond()} ${target}`];
        break;
      case 1:
        head = [`${g.rng.pick(["cbz", "cbnz"])} ${g.reg(sf)}, ${target}`];
        break;
      case 2: {
        const bit = g.rng.below(sf ? 64 : 32);
        head = [`${g.rng.pick(["tbz", "tbnz"])} ${g.reg(bit >= 32)}, #${bit}, ${target}`];
        break;
      }
      case 3:
        head = [`${g.rng.pick(["b", "bl"])} ${target}`];
        break;
      default: {
        const via = g.regIndex([30]);
        head = [`adr x${via}, ${target}`, `${g.rng.pick(["br", "blr", "ret"])} x${via}`];
        break;
      }
    }
    return [...head, ...filler(g), `${target}:`];
  },
};

export const branchClasses: InstructionClass[] = [branch];
