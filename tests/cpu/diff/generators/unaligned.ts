// Accesses that only Normal memory allows: loads and stores of every size, pairs and SIMD&FP
// registers at unaligned addresses, and DC ZVA. The harness runs these classes with virtkit's MMU on
// (RAM mapped Normal write-back), matching the memory qemu's user mode gives the program.
import { SCRATCH_BASE_REGISTER as X28, type GenContext, type InstructionClass } from "./context.ts";
import { SINGLE_ACCESSES, scratchBase } from "./memory.ts";

const VECTOR_SIZES: [string, number][] = [
  ["h", 2],
  ["s", 4],
  ["d", 8],
  ["q", 16],
];

/** A base register at an odd scratch offset with `room` bytes around it. */
function oddBase(g: GenContext, room: number, exclude: number[] = []) {
  const b = scratchBase(g, 1, room, room, exclude);
  if (b.offset % 2 === 0) return { ...b, setup: `add x${b.base}, x${X28}, #${b.offset + 1}` };
  return b;
}

const unaligned: InstructionClass = {
  name: "unaligned",
  description:
    "LDR/STR (all sizes and modes), LDP/STP, SIMD&FP LDR/STR/LDP/STP and LD1/ST1 at unaligned addresses",
  needsNormalMemory: true,
  generate(g) {
    switch (g.rng.below(5)) {
      case 0:
      case 1: {
        const a = g.rng.pick(SINGLE_ACCESSES);
        const rt = g.regIndex();
        const b = oddBase(g, 300, [rt]);
        const reg = g.r(rt, a.sf);
        const imm = g.rng.range(-256, 255);
        switch (g.rng.below(4)) {
          case 0:
            return [b.setup, `${a.op} ${reg}, [x${b.base}, #${a.size * g.rng.below(16)}]`];
          case 1:
            return [b.setup, `${a.op.replace(/^(ld|st)/, "$1u")} ${reg}, [x${b.base}, #${imm}]`];
          case 2:
            return [b.setup, `${a.op} ${reg}, [x${b.base}, #${imm}]!`];
          default:
            return [b.setup, `${a.op} ${reg}, [x${b.base}], #${imm}`];
        }
      }
      case 2: {
        const sf = g.sf();
        const size = sf ? 8 : 4;
        const op = g.rng.pick(["ldp", "stp"]);
        const [t1, t2] = op === "ldp" ? g.distinct(2) : [g.regIndex(), g.regIndex()];
        const b = oddBase(g, 64 * size, [t1!, t2!]);
        const imm = size * g.rng.range(-32, 31);
        const mode = g.rng.below(3);
        const addr = [`[x${b.base}, #${imm}]`, `[x${b.base}, #${imm}]!`, `[x${b.base}], #${imm}`][mode];
        return [b.setup, `${op} ${g.r(t1!, sf)}, ${g.r(t2!, sf)}, ${addr}`];
      }
      case 3: {
        const [p, size] = g.rng.pick(VECTOR_SIZES);
        const b = oddBase(g, 512);
        if (g.rng.chance(0.5) && size >= 4) {
          const op = g.rng.pick(["ldp", "stp"]);
          const t1 = g.v();
          const t2 = op === "ldp" ? (t1 + g.rng.range(1, 31)) % 32 : g.v();
          return [b.setup, `${op} ${p}${t1}, ${p}${t2}, [x${b.base}, #${size * g.rng.range(-8, 8)}]`];
        }
        return [
          b.setup,
          `${g.rng.pick(["ldr", "str"])} ${p}${g.v()}, [x${b.base}, #${size * g.rng.below(8)}]`,
        ];
      }
      default: {
        const b = oddBase(g, 64);
        const t = g.rng.pick(["16b", "8h", "4s", "2d"]);
        const n = g.rng.range(1, 4);
        const first = g.v();
        const regs = `{${Array.from({ length: n }, (_, i) => `v${(first + i) % 32}.${t}`).join(", ")}}`;
        return [b.setup, `${g.rng.pick(["ld1", "st1"])} ${regs}, [x${b.base}]`];
      }
    }
  },
};

const dcZva: InstructionClass = {
  name: "dc-zva",
  description:
    "DC ZVA at any address inside scratch (zeroes the aligned DCZID_EL0 block), with loads after it",
  needsNormalMemory: true,
  generate(g) {
    const b = scratchBase(g, 1, 0, 256);
    const rt = g.regIndex([b.base]);
    return [b.setup, `dc zva, x${b.base}`, `ldr x${rt}, [x${X28}, #${8 * g.rng.below(512)}]`];
  },
};

export const normalMemoryClasses: InstructionClass[] = [unaligned, dcZva];
