// npm run test:cpu-diff -- --seed S --count N [--class a,b] [--mmu] [--cpu interp|jit] [--batch N] [--max-mismatches N] [--keep] [--list]
// Runs the differential harness against qemu-aarch64 and exits non-zero on any mismatch.
import { parseArgs } from "node:util";
import { CPU_TIERS, type CpuTier } from "../src/machine/cpu.ts";
import { ALL_CLASSES } from "../tests/cpu/diff/generators/index.ts";
import { DifferentialHarness } from "../tests/cpu/diff/harness.ts";
import { formatReproducer, formatSummary } from "../tests/cpu/diff/reproducer.ts";
import { ensureCpuTestTools } from "../tests/cpu/toolchain.ts";

function integer(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`--${name} takes a non-negative integer, not "${text}"`);
  }
  return value;
}

const USAGE = `Usage: npm run test:cpu-diff -- [options]

Runs generated instruction sequences on virtkit and in qemu-aarch64 and compares every register,
the flags, FP/SIMD state, FPSR and touched memory. Exits 1 on any mismatch, printing a reproducer.

Options:
  --seed S             generator seed (default 1); the same seed gives the same instructions
  --count N            instructions to generate (default 10000)
  --class a,b          only these classes (see --list)
  --mmu                run with virtkit's MMU on (identity map, RAM as Normal memory)
  --cpu TIER           virtkit's CPU tier: interp (default) or jit (every block translated when first reached)
  --batch N            instructions per qemu process (default 2000)
  --max-mismatches N   stop after N mismatches (default 25)
  --keep               keep the work directories
  --list               list the instruction classes
  --help               show this help`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: "string" },
      count: { type: "string" },
      class: { type: "string" },
      batch: { type: "string" },
      "max-mismatches": { type: "string" },
      keep: { type: "boolean" },
      mmu: { type: "boolean" },
      cpu: { type: "string" },
      list: { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.list) {
    for (const c of ALL_CLASSES) console.log(`${c.name.padEnd(16)} ${c.description}`);
    return 0;
  }
  const problem = ensureCpuTestTools();
  if (problem) throw new Error(problem);
  const seed = integer("seed", values.seed, 1);
  const count = integer("count", values.count, 10_000);
  const tier = values.cpu ?? "interp";
  if (!(CPU_TIERS as readonly string[]).includes(tier)) {
    throw new Error(`--cpu takes ${CPU_TIERS.join(" or ")}, not "${tier}"`);
  }
  const harness = await DifferentialHarness.create(tier as CpuTier);
  const report = await harness.run({
    seed,
    count,
    classes: values.class?.split(",").map((c) => c.trim()),
    batchSize: integer("batch", values.batch, 2000),
    maxMismatches: integer("max-mismatches", values["max-mismatches"], 25),
    keepWorkDir: values.keep ?? false,
    mmu: values.mmu ?? false,
    log: (line) => process.stderr.write(`\r${line}   `),
  });
  process.stderr.write("\n");
  report.mismatches.forEach((m, i) => console.log(`${formatReproducer(m, i + 1, report.workDir)}\n`));
  for (const p of report.generatorProblems)
    console.log(`generator problem (qemu could not run the program): ${p}`);
  console.log(formatSummary(report));
  const jit = harness.jitStatistics();
  if (jit) {
    console.log(
      `JIT: ${jit.blocksTranslated} blocks translated (${jit.instructionsTranslated} instructions, ` +
        `${jit.compileMs.toFixed(0)} ms), ${jit.invalidations} invalidated, ${jit.evictions} evicted, ` +
        `${jit.untranslatable} untranslatable block starts`,
    );
  }
  const failed = report.mismatches.length + report.generatorProblems.length;
  console.log(
    failed === 0
      ? "no mismatches"
      : `${report.mismatches.length} mismatches, ${report.generatorProblems.length} generator problems`,
  );
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`cpu-diff: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
