// The registry of instruction classes the differential harness draws from.
import { branchClasses } from "./branch.ts";
import { crypto, extensionClasses, lse, rdm } from "./extensions.ts";
import { instructionCount, type GenContext, type GeneratedItem, type InstructionClass } from "./context.ts";
import { loopClass } from "./loop.ts";
import { fpClasses } from "./fp.ts";
import { crc32, integerClasses } from "./integer.ts";
import { memoryClasses } from "./memory.ts";
import { selfModifying } from "./self-modifying.ts";
import { simdClasses } from "./simd.ts";
import { stackPointer } from "./stack-pointer.ts";
import { normalMemoryClasses } from "./unaligned.ts";

export const ALL_CLASSES: InstructionClass[] = [
  ...integerClasses,
  crc32,
  ...memoryClasses,
  stackPointer,
  ...branchClasses,
  loopClass([...integerClasses, ...memoryClasses, stackPointer, ...branchClasses]),
  selfModifying,
  ...fpClasses,
  ...simdClasses,
  ...normalMemoryClasses,
  ...extensionClasses,
];

/** Classes that exist only when an ID register field says so, with the test that decides. */
export const OPTIONAL_CLASSES: Record<string, (idAa64Isar0: bigint) => boolean> = {
  crc32: (isar0) => field(isar0, 16) !== 0n,
  [crypto.name]: (isar0) => field(isar0, 4) >= 2n && field(isar0, 8) !== 0n && field(isar0, 12) !== 0n,
  [lse.name]: (isar0) => field(isar0, 20) !== 0n,
  [rdm.name]: (isar0) => field(isar0, 28) !== 0n,
};

function field(register: bigint, lsb: number): bigint {
  return (register >> BigInt(lsb)) & 0xfn;
}

export { instructionCount };

export function findClasses(names: readonly string[]): InstructionClass[] {
  return names.map((name) => {
    const found = ALL_CLASSES.find((c) => c.name === name);
    if (!found) {
      throw new Error(
        `unknown instruction class "${name}"; the classes are: ${ALL_CLASSES.map((c) => c.name).join(", ")}`,
      );
    }
    return found;
  });
}

/** Items drawn round-robin-at-random from `classes` until they hold `count` instructions. */
export function generateItems(
  g: GenContext,
  classes: readonly InstructionClass[],
  count: number,
): GeneratedItem[] {
  const items: GeneratedItem[] = [];
  let total = 0;
  while (total < count) {
    const cls = g.rng.pick(classes);
    const lines = cls.generate(g);
    items.push({ cls: cls.name, lines });
    total += instructionCount(lines);
  }
  return items;
}
