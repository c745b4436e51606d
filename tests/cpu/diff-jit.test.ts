// The differential harness on the JIT tier: generated programs of every class, every block start
// translated when first reached, against qemu-aarch64, with the MMU off and on. One core runs all the
// programs, so each new program is new code at addresses with translations of the last one.
import { describe, expect, it } from "vitest";
import { DifferentialHarness } from "./diff/harness.ts";
import { formatReproducer } from "./diff/reproducer.ts";
import { ensureCpuTestTools } from "./toolchain.ts";

const toolsProblem = ensureCpuTestTools();
if (toolsProblem && process.env.CI) throw new Error(toolsProblem);
const suite = toolsProblem ? describe.skip : describe;

const BUDGET_SEED = 20261203;

suite("CPU differential harness on the JIT tier against qemu-aarch64", () => {
  for (const [mmu, count] of [
    [false, 20_000],
    [true, 10_000],
  ] as const) {
    it(`every class, MMU ${mmu ? "on" : "off"}: ${count} instructions match, and run translated`, async () => {
      const harness = await DifferentialHarness.create("jit");
      const report = await harness.run({ seed: BUDGET_SEED + Number(mmu), count, mmu, maxMismatches: 5 });
      const text = report.mismatches.map((m, i) => formatReproducer(m, i + 1, report.workDir)).join("\n\n");
      expect(report.generatorProblems).toEqual([]);
      expect(report.mismatches.length, `mismatches on the JIT tier:\n${text}`).toBe(0);
      const jit = harness.jitStatistics()!;
      // The JIT really ran this code, and saw it change (self-modifying items, programs reloaded).
      expect(jit.blocksTranslated).toBeGreaterThan(1000);
      expect(jit.instructionsInBlocks).toBeGreaterThan(count / 2);
      expect(jit.invalidations).toBeGreaterThan(0);
      expect(jit.translationErrors, jit.firstError).toBe(0);
    });
  }
});
