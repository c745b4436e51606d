// Advanced SIMD against qemu-aarch64: every field of each encoding class is random, so both the
// decoding (UNDEFINED or not) and the results are compared. The cryptographic extension, which
// qemu's cortex-a53 has and virtkit does not, is not generated (see docs/cpu-fpsimd.md).
import { describe, it } from "vitest";
import { makeCases, randomVectorInput, randomFpInput, type Rng } from "./cases.ts";
import { expectAgreement } from "./expect-agreement.ts";

const CASES_PER_CLASS = 2500;

/** Fills `fields` ([shift, width] pairs) of `base` with random bits. */
function randomFields(rng: Rng, base: number, fields: readonly (readonly [number, number])[]): number {
  let insn = base;
  for (const [shift, width] of fields) insn |= (rng.u32() & ((1 << width) - 1)) << shift;
  return insn >>> 0;
}

const bits = (insn: number, shift: number, width: number): number => (insn >>> shift) & ((1 << width) - 1);

function classCases(
  seed: number,
  base: number,
  fields: readonly (readonly [number, number])[],
  skip: (insn: number) => boolean,
) {
  return makeCases(CASES_PER_CLASS, seed, (rng) => {
    let insn: number;
    do insn = randomFields(rng, base, fields);
    while (skip(insn));
    return { insn, input: rng.chance(0.5) ? randomVectorInput(rng) : randomFpInput(rng, rng.pick([4, 8])) };
  });
}

const Q = [30, 1] as const;
const U = [29, 1] as const;
const SIZE = [22, 2] as const;
const RM = [16, 5] as const;
const RN = [5, 5] as const;
const RD = [0, 5] as const;
const never = (): boolean => false;

describe("Advanced SIMD matches qemu-aarch64", () => {
  it("three same (integer, logic, FP, pairwise)", async () => {
    const cases = classCases(11, 0x0e200400, [Q, U, SIZE, RM, [11, 5], RN, RD], never);
    await expectAgreement(cases);
  });

  it("three different (long, wide, narrowing high, PMULL.8B)", async () => {
    const cases = classCases(12, 0x0e200000, [Q, U, SIZE, RM, [12, 4], RN, RD], (insn) => {
      return bits(insn, 12, 4) === 0b1110 && bits(insn, 22, 2) === 3; // PMULL.1Q (crypto)
    });
    await expectAgreement(cases);
  });

  it("two-register miscellaneous", async () => {
    const cases = classCases(13, 0x0e200800, [Q, U, SIZE, [12, 5], RN, RD], never);
    await expectAgreement(cases);
  });

  it("across lanes", async () => {
    const opcodes = [0b00011, 0b01010, 0b11010, 0b11011, 0b01100, 0b01111];
    const cases = classCases(
      14,
      0x0e300800,
      [Q, U, SIZE, [12, 5], RN, RD],
      (insn) => !opcodes.includes(bits(insn, 12, 5)),
    );
    await expectAgreement(cases);
  });

  it("copy: DUP, INS, UMOV, SMOV", async () => {
    // Registers 0–15 only: general-register operands must stay clear of the harness's x16+.
    const cases = classCases(15, 0x0e000400, [Q, U, RM, [11, 4], [5, 4], [0, 4]], never);
    await expectAgreement(cases);
  });

  it("permutes, EXT, TBL/TBX", async () => {
    const permutes = classCases(16, 0x0e000800, [Q, SIZE, RM, [12, 3], RN, RD], never);
    const ext = classCases(17, 0x2e000000, [Q, RM, [11, 4], RN, RD], never);
    const tbl = classCases(18, 0x0e000000, [Q, RM, [12, 3], RN, RD], never);
    await expectAgreement([...permutes, ...ext, ...tbl]);
  });

  it("modified immediate: MOVI, MVNI, ORR, BIC, FMOV", async () => {
    const cases = classCases(19, 0x0f000400, [Q, U, [16, 3], [11, 5], RN, RD], never);
    await expectAgreement(cases);
  });

  it("shift by immediate, vector and scalar", async () => {
    // Mostly allocated opcodes, some random ones for the decoder.
    const opcodes = [0, 2, 4, 6, 8, 10, 12, 14, 16, 17, 18, 19, 20, 28, 31];
    const skip = (insn: number): boolean =>
      bits(insn, 19, 4) === 0 || (!opcodes.includes(bits(insn, 11, 5)) && insn % 4 !== 0);
    const vector = classCases(20, 0x0f000400, [Q, U, [16, 7], [11, 5], RN, RD], skip);
    const scalar = classCases(21, 0x5f000400, [U, [16, 7], [11, 5], RN, RD], skip);
    await expectAgreement([...vector, ...scalar]);
  });

  it("by element, vector and scalar", async () => {
    const fields = [Q, U, SIZE, [21, 1], RM, [12, 4], [11, 1], RN, RD] as const;
    const vector = classCases(22, 0x0f000000, fields, never);
    const scalar = classCases(23, 0x5f000000, fields.slice(1), (insn) => {
      // SQRDMLAH/SQRDMLSH by element are FEAT_RDM, absent from both.
      return bits(insn, 12, 4) === 0b1101 && bits(insn, 29, 1) === 1;
    });
    await expectAgreement([...vector, ...scalar], 0.15);
  });

  it("scalar three same, three different, two-register misc, pairwise and copy", async () => {
    const same = classCases(24, 0x5e200400, [U, SIZE, RM, [11, 5], RN, RD], never);
    const misc = classCases(25, 0x5e200800, [U, SIZE, [12, 5], RN, RD], never);
    const pairwise = classCases(26, 0x5e300800, [U, SIZE, [12, 5], RN, RD], never);
    const dup = classCases(27, 0x5e000400, [RM, RN, RD], never);
    const different = classCases(28, 0x5e200000, [U, SIZE, RM, [12, 4], RN, RD], never);
    await expectAgreement([...same, ...misc, ...pairwise, ...dup, ...different], 0.25);
  });
});
