// Operand helpers shared by the instruction-class generators. Generators write GNU assembler text, so
// the assembler (not us) encodes every instruction; they only choose operands that are architecturally
// defined (no CONSTRAINED UNPREDICTABLE forms) and addresses inside the scratch area.
import type { Random } from "../random.ts";

/** x28 always holds the scratch area's address; generators must never write it. */
export const SCRATCH_BASE_REGISTER = 28;
/** x27 points at the next free snapshot slot of the log; generators must never use it. */
export const SNAPSHOT_REGISTER = 27;
export const SCRATCH_SIZE = 4096;
/** Where SP points between items: the middle of scratch, so SP-based offsets 0..2047 stay inside. */
export const STACK_OFFSET = 2048;

/** General registers generators may freely read and write. */
const REGISTER_POOL = [...Array.from({ length: 27 }, (_, i) => i), 29, 30];

export const CONDITIONS = [
  "eq",
  "ne",
  "cs",
  "cc",
  "mi",
  "pl",
  "vs",
  "vc",
  "hi",
  "ls",
  "ge",
  "lt",
  "gt",
  "le",
  "al",
  "nv",
] as const;

export type InstructionClassName = string;

/** One unit of generated code: it runs from its first line to past its last, whatever branches it takes. */
export interface GeneratedItem {
  cls: InstructionClassName;
  lines: string[];
}

export interface InstructionClass {
  name: InstructionClassName;
  /** What the class covers, for --list and the docs. */
  description: string;
  generate(g: GenContext): string[];
  /**
   * The class makes accesses only Normal memory allows (unaligned, DC ZVA): the harness runs it on
   * virtkit with the MMU on and RAM mapped as Normal write-back, as qemu's user mode sees memory.
   */
  needsNormalMemory?: boolean;
}

/** Lines that the processor executes (not labels or assembler directives). */
export function instructionCount(lines: readonly string[]): number {
  return lines.filter((l) => !l.endsWith(":") && !l.startsWith(".")).length;
}

export class GenContext {
  private labels = 0;
  /** Registers an enclosing item holds (a loop counter): no generator may choose them meanwhile. */
  private reserved: number[] = [];

  constructor(readonly rng: Random) {}

  /** Runs `generate` with `registers` kept out of every choice of register. */
  withReserved<T>(registers: readonly number[], generate: () => T): T {
    const outer = this.reserved;
    this.reserved = [...outer, ...registers];
    try {
      return generate();
    } finally {
      this.reserved = outer;
    }
  }

  /** A label unique within the program (GNU local-label syntax keeps it out of the symbol table). */
  label(): string {
    return `.Lg${this.labels++}`;
  }

  /** Index of a general register from the pool, avoiding `exclude`. */
  regIndex(exclude: readonly number[] = []): number {
    const choices = REGISTER_POOL.filter((r) => !exclude.includes(r) && !this.reserved.includes(r));
    return this.rng.pick(choices);
  }

  /** Distinct register indices from the pool. */
  distinct(n: number, exclude: readonly number[] = []): number[] {
    const out: number[] = [];
    while (out.length < n) out.push(this.regIndex([...exclude, ...out]));
    return out;
  }

  /** Register name for index `n` (31 means the zero register here). */
  r(n: number, sf: boolean): string {
    if (n === 31) return sf ? "xzr" : "wzr";
    return `${sf ? "x" : "w"}${n}`;
  }

  /** A random pool register, or sometimes the zero register when `zeroOk`. */
  reg(sf: boolean, zeroOk = false): string {
    return this.r(zeroOk && this.rng.chance(0.06) ? 31 : this.regIndex(), sf);
  }

  sf(): boolean {
    return this.rng.chance(0.6);
  }

  cond(): string {
    return this.rng.pick(CONDITIONS);
  }

  /** An offset inside the scratch area, aligned to `align`, leaving `size` bytes after it. */
  scratchOffset(align: number, size: number, lo = 0, hi = SCRATCH_SIZE): number {
    const slots = Math.floor((hi - lo - size) / align) + 1;
    return lo + this.rng.below(slots) * align;
  }

  v(): number {
    return this.rng.below(32);
  }
}

export function hex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}
