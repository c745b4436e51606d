// Advanced SIMD against qemu-aarch64: every field of each encoding class is random, so both the
// decoding (UNDEFINED or not) and the results are compared. The cryptographic extension, which
// qemu's cortex-a53 has and virtkit does not, is not generated (see docs/cpu-fpsimd.md).
import { describe, it } from "vitest";
import { makeCases, mixedInput } from "./cases.ts";
import { expectAgreement } from "./expect-agreement.ts";
import { SIMD, instructionFrom, type Template } from "./templates.ts";

const CASES_PER_CLASS = 2500;

function classCases(seed: number, template: Template) {
  return makeCases(CASES_PER_CLASS, seed, (rng) => ({
    insns: [instructionFrom(rng, template)],
    input: mixedInput(rng),
  }));
}

describe("Advanced SIMD matches qemu-aarch64", () => {
  it("three same (integer, logic, FP, pairwise)", async () => {
    await expectAgreement(classCases(11, SIMD.threeSame));
  });

  it("three different (long, wide, narrowing high, PMULL.8B)", async () => {
    await expectAgreement(classCases(12, SIMD.threeDifferent));
  });

  it("two-register miscellaneous", async () => {
    await expectAgreement(classCases(13, SIMD.twoRegMisc));
  });

  it("across lanes", async () => {
    await expectAgreement(classCases(14, SIMD.acrossLanes));
  });

  it("copy: DUP, INS, UMOV, SMOV", async () => {
    await expectAgreement(classCases(15, SIMD.copy));
  });

  it("permutes, EXT, TBL/TBX", async () => {
    await expectAgreement([
      ...classCases(16, SIMD.permute),
      ...classCases(17, SIMD.extract),
      ...classCases(18, SIMD.tableLookup),
    ]);
  });

  it("modified immediate: MOVI, MVNI, ORR, BIC, FMOV", async () => {
    await expectAgreement(classCases(19, SIMD.modifiedImmediate));
  });

  it("shift by immediate, vector and scalar", async () => {
    await expectAgreement(
      [...classCases(20, SIMD.shiftImmediate), ...classCases(21, SIMD.scalarShiftImmediate)],
      0.2,
    );
  });

  it("by element, vector and scalar", async () => {
    await expectAgreement([...classCases(22, SIMD.byElement), ...classCases(23, SIMD.scalarByElement)], 0.15);
  });

  it("scalar three same, three different, two-register misc, pairwise and copy", async () => {
    await expectAgreement(
      [
        ...classCases(24, SIMD.scalarThreeSame),
        ...classCases(25, SIMD.scalarTwoRegMisc),
        ...classCases(26, SIMD.scalarPairwise),
        ...classCases(27, SIMD.scalarCopy),
        ...classCases(28, SIMD.scalarThreeDifferent),
      ],
      0.25,
    );
  });
});
