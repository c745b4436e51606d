// Sequences of 2–8 FP/SIMD instructions from every class, run back to back against qemu-aarch64:
// results feed later instructions, FPSR flags accumulate, FCMP/FCCMP flags reach FCSEL/FCCMP.
// Once on the stand-alone FP/SIMD unit, once on the whole core.
import { describe, expect, it } from "vitest";
import { buildCore } from "./build-core.ts";
import { makeCases, mixedInput, type Rng } from "./cases.ts";
import { createCoreRunner } from "./core-runner.ts";
import { compareWithQemu } from "./differential.ts";
import { expectAgreement } from "./expect-agreement.ts";
import { SCRATCH_BYTES, ensureReferenceTools, runOnQemu, type FpSimdCase } from "./reference.ts";
import { FP_SCALAR, SIMD, instructionFrom, type Template } from "./templates.ts";

const TEMPLATES: readonly Template[] = [...Object.values(SIMD), ...Object.values(FP_SCALAR)];

function sequenceCase(rng: Rng): FpSimdCase {
  const length = 2 + rng.below(7);
  // Registers drawn from a small set, so instructions actually consume each other's results.
  const narrow = (insn: number): number => (insn & ~0x3ff) | (rng.below(4) << 5) | rng.below(4);
  const insns = Array.from({ length }, () => {
    const insn = instructionFrom(rng, rng.pick(TEMPLATES));
    return rng.chance(0.7) ? narrow(insn) >>> 0 : insn;
  });
  return { insns, input: mixedInput(rng) };
}

describe("FP/SIMD instruction sequences match qemu-aarch64", () => {
  it("on the FP/SIMD unit", async () => {
    await expectAgreement(makeCases(3000, 41, sequenceCase), 0.05);
  });

  it("on the whole core", async () => {
    ensureReferenceTools();
    buildCore();
    const cases = makeCases(1000, 42, sequenceCase);
    const scratch = Buffer.alloc(SCRATCH_BYTES);
    const reference = runOnQemu(cases, scratch);
    const core = await createCoreRunner(scratch);
    const { mismatches } = await compareWithQemu(cases, {
      runner: (c) => core.run(c),
      expected: reference.results,
    });
    expect(mismatches).toEqual([]);
  });
});
