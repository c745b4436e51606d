// The differential harness: generates batches of items, runs each batch in qemu-aarch64 and on virtkit,
// and on any difference narrows it to the first failing item (binary search over prefixes), then, when
// it fails on its own, to that single item run from the state qemu reached just before it. After a
// mismatch the batch continues from qemu's state after the culprit, so one run counts every mismatch.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareStates, firstDifferentSnapshot, type Difference } from "./compare.ts";
import { GenContext, type GeneratedItem, type InstructionClass } from "./generators/context.ts";
import {
  ALL_CLASSES,
  OPTIONAL_CLASSES,
  findClasses,
  generateItems,
  instructionCount,
} from "./generators/index.ts";
import { buildProgram, programSource } from "./program.ts";
import { runInQemu } from "./qemu-runner.ts";
import { Random } from "./random.ts";
import { randomState, type CpuState } from "./state.ts";
import { VirtkitRunner } from "./virtkit-runner.ts";
import type { CpuTier, JitStats } from "../../../src/machine/cpu.ts";

export interface DiffOptions {
  seed: number;
  /** Instructions to generate in total. */
  count: number;
  /** Class names; all supported classes when absent. */
  classes?: readonly string[];
  /** Instructions per program. */
  batchSize?: number;
  /** Stop looking after this many mismatches. */
  maxMismatches?: number;
  /**
   * Run virtkit with the MMU on (RAM Normal memory). Classes that need Normal memory always run so;
   * with this set, every class does.
   */
  mmu?: boolean;
  /** Keep the work directory (programs, reproducers) instead of deleting it. */
  keepWorkDir?: boolean;
  log?: (line: string) => void;
}

export interface Reproducer {
  cls: string;
  /** The failing items: one when the culprit fails alone, else the shortest failing prefix. */
  items: GeneratedItem[];
  initial: CpuState;
  /** Why virtkit did not reach the end, if it did not (then `differences` is empty). */
  virtkitProblem?: string;
  /** What differs after the failing item (its snapshot), or at the end. */
  differences: Difference[];
  /** The assembly source of the reproducer program, runnable with qemu-aarch64. */
  source: string;
}

export interface ClassTally {
  items: number;
  instructions: number;
  mismatches: number;
}

export interface DiffReport {
  seed: number;
  instructions: number;
  classes: string[];
  /** virtkit ran with the MMU on (RAM as Normal memory) rather than off (Device). */
  mmu: boolean;
  tally: Record<string, ClassTally>;
  mismatches: Reproducer[];
  /** Programs qemu itself could not run: generator bugs, reported as failures too. */
  generatorProblems: string[];
  workDir: string;
}

interface Differ {
  kind: "differ";
  /** The first item whose snapshot differs, when both sides ran to the end. */
  firstItem?: number;
  /** Why virtkit did not reach the end, if it did not. */
  virtkitProblem?: string;
  differences: Difference[];
}

type RunResult = { kind: "same" } | Differ | { kind: "qemu-failed"; problem: string };

export class DifferentialHarness {
  private mmu = false;

  private constructor(
    private readonly virtkit: VirtkitRunner,
    private readonly workDir: string,
  ) {}

  static async create(tier: CpuTier = "interp"): Promise<DifferentialHarness> {
    return new DifferentialHarness(
      await VirtkitRunner.create(tier),
      mkdtempSync(join(tmpdir(), "virtkit-cpu-diff-")),
    );
  }

  /** The JIT's counters (undefined on the interpreter). */
  jitStatistics(): JitStats | undefined {
    return this.virtkit.core.jitStatistics;
  }

  /** The classes the core can run: every class, minus optional ones its ID registers say are absent. */
  supportedClasses(): InstructionClass[] {
    const isar0 = this.virtkit.idAa64Isar0();
    return ALL_CLASSES.filter((c) => OPTIONAL_CLASSES[c.name]?.(isar0) ?? true);
  }

  async run(options: DiffOptions): Promise<DiffReport> {
    const log = options.log ?? (() => {});
    const classes = options.classes
      ? findClasses(options.classes)
      : this.supportedClasses().filter((c) => options.mmu || !c.needsNormalMemory);
    const unsupported = classes.filter((c) => !this.supportedClasses().includes(c));
    if (unsupported.length > 0) {
      throw new Error(
        `the core's ID registers say ${unsupported.map((c) => c.name).join(", ")} are not implemented`,
      );
    }
    // Device-memory rules (MMU off) forbid what Normal-memory classes do: they force the MMU on.
    this.mmu = (options.mmu ?? false) || classes.some((c) => c.needsNormalMemory);
    const batchSize = options.batchSize ?? 2000;
    const maxMismatches = options.maxMismatches ?? 25;
    const rng = new Random(options.seed);
    const report: DiffReport = {
      seed: options.seed,
      instructions: 0,
      classes: classes.map((c) => c.name),
      mmu: this.mmu,
      tally: Object.fromEntries(classes.map((c) => [c.name, { items: 0, instructions: 0, mismatches: 0 }])),
      mismatches: [],
      generatorProblems: [],
      workDir: this.workDir,
    };
    const g = new GenContext(rng);
    try {
      while (report.instructions < options.count && report.mismatches.length < maxMismatches) {
        const items = generateItems(g, classes, Math.min(batchSize, options.count - report.instructions));
        const state = randomState(rng);
        for (const item of items) {
          const n = instructionCount(item.lines);
          report.tally[item.cls]!.items++;
          report.tally[item.cls]!.instructions += n;
          report.instructions += n;
        }
        this.checkBatch(items, state, report, maxMismatches);
        log(`${report.instructions} instructions, ${report.mismatches.length} mismatches`);
      }
    } finally {
      if (!options.keepWorkDir && report.mismatches.length === 0)
        rmSync(this.workDir, { recursive: true, force: true });
    }
    return report;
  }

  private checkBatch(
    items: GeneratedItem[],
    initial: CpuState,
    report: DiffReport,
    maxMismatches: number,
  ): void {
    let rest = items;
    let state = initial;
    while (rest.length > 0 && report.mismatches.length < maxMismatches) {
      const whole = this.runBoth(rest, state);
      if (whole.kind === "same") return;
      if (whole.kind === "qemu-failed") {
        report.generatorProblems.push(whole.problem);
        return;
      }
      // The snapshot log names the first differing item; without it (virtkit stopped, or only memory
      // differs at the end) a binary search over prefixes finds it.
      const found =
        whole.firstItem !== undefined
          ? { bad: whole.firstItem + 1, run: whole }
          : this.search(rest, state, whole);
      if ("problem" in found) {
        report.generatorProblems.push(found.problem);
        return;
      }
      const culprit = rest[found.bad - 1]!;
      const before = found.bad === 1 ? state : this.qemuState(rest.slice(0, found.bad - 1), state);
      const alone = this.runBoth([culprit], before);
      const repro =
        alone.kind === "differ"
          ? this.reproducer(culprit.cls, [culprit], before, alone)
          : this.reproducer(culprit.cls, rest.slice(0, found.bad), state, found.run);
      report.mismatches.push(repro);
      report.tally[culprit.cls]!.mismatches++;
      state = this.qemuState(rest.slice(0, found.bad), state);
      rest = rest.slice(found.bad);
    }
  }

  /** The shortest prefix that differs, given that all of `items` does. */
  private search(
    items: GeneratedItem[],
    state: CpuState,
    whole: Differ,
  ): { bad: number; run: Differ } | { problem: string } {
    // Invariant: the prefix of length `good` matches, the prefix of length `bad` differs.
    let good = 0;
    let bad = items.length;
    let run = whole;
    while (bad - good > 1) {
      const mid = (good + bad) >> 1;
      const r = this.runBoth(items.slice(0, mid), state);
      if (r.kind === "qemu-failed") return { problem: r.problem };
      if (r.kind === "same") {
        good = mid;
      } else {
        bad = mid;
        run = r;
      }
    }
    return { bad, run };
  }

  private reproducer(cls: string, items: GeneratedItem[], initial: CpuState, run: Differ): Reproducer {
    return {
      cls,
      items,
      initial,
      virtkitProblem: run.virtkitProblem,
      differences: run.differences,
      source: programSource(items, initial),
    };
  }

  /** qemu's complete end state (registers and scratch) after `items`: the reference to continue from. */
  private qemuState(items: GeneratedItem[], state: CpuState): CpuState {
    const program = buildProgram(this.workDir, "program", programSource(items, state));
    const qemu = runInQemu(program.elf);
    if (!qemu.ok) throw new Error(`qemu could not run a prefix it ran before: ${qemu.problem}`);
    return qemu.state;
  }

  private runBoth(items: GeneratedItem[], state: CpuState): RunResult {
    // One name for every program: the files are rewritten each time instead of piling up.
    const program = buildProgram(this.workDir, "program", programSource(items, state));
    const qemu = runInQemu(program.elf);
    if (!qemu.ok) return { kind: "qemu-failed", problem: `${qemu.problem} (program ${program.elf})` };
    const virtkit = this.virtkit.run(program, this.mmu);
    if (!virtkit.ok) return { kind: "differ", virtkitProblem: virtkit.problem, differences: [] };
    const first = firstDifferentSnapshot(qemu.log, virtkit.log);
    if (first) return { kind: "differ", firstItem: first.index, differences: first.differences };
    const differences = compareStates(qemu.state, virtkit.state);
    return differences.length === 0 ? { kind: "same" } : { kind: "differ", differences };
  }
}
