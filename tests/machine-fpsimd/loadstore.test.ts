// SIMD&FP loads and stores on the whole core against qemu-aarch64: every addressing mode of
// LDR/STR/LDUR/STUR, LDP/STP/LDNP/STNP, and LD1–LD4/ST1–ST4 (multiple, single, replicate,
// post-index), with registers, FPSR and the memory they touch compared.
// LDR (literal) is PC-relative and so is covered by the core's own tests, not here.
import { describe, expect, it } from "vitest";
import { buildCore } from "./build-core.ts";
import { makeCases, type Rng } from "./cases.ts";
import { createCoreRunner } from "./core-runner.ts";
import { compareWithQemu } from "./differential.ts";
import {
  OFF_V,
  OFF_X,
  SCRATCH_ADDRESS,
  SCRATCH_BYTES,
  ensureReferenceTools,
  newInput,
  runOnQemu,
  type FpSimdCase,
} from "./reference.ts";

const CASES = 3000;

// X0–X7 hold base addresses inside the scratch memory, X8–X15 small non-negative offsets, so
// every generated access stays inside it.
function loadStoreInput(rng: Rng): Buffer {
  const input = newInput();
  for (let n = 0; n < 32; n++) {
    input.writeBigUInt64LE(rng.u64(), OFF_V + 16 * n);
    input.writeBigUInt64LE(rng.u64(), OFF_V + 16 * n + 8);
  }
  for (let n = 0; n < 16; n++) {
    const value = n < 8 ? SCRATCH_ADDRESS + 0x1000 + rng.below(0x2000) : rng.below(0x1000);
    input.writeBigUInt64LE(BigInt(value), OFF_X + 8 * n);
  }
  return input;
}

const base = (rng: Rng): number => rng.below(8);
const offsetReg = (rng: Rng): number => 8 + rng.below(8);
const vreg = (rng: Rng): number => rng.below(32);

function loadStoreInstruction(rng: Rng): number {
  const sizeOpc = rng.pick([
    [0, 0],
    [0, 1],
    [0, 2],
    [0, 3],
    [1, 0],
    [1, 1],
    [2, 0],
    [2, 1],
    [3, 0],
    [3, 1],
    [1, 2], // unallocated
  ] as const);
  const [size, opc] = sizeOpc;
  const common = (size << 30) | (opc << 22) | (base(rng) << 5) | vreg(rng);
  switch (rng.below(6)) {
    case 0:
      return (0x3d000000 | common | (rng.below(4096) << 10)) >>> 0;
    case 1:
      return (0x3c000000 | common | (rng.below(512) << 12) | (rng.pick([0, 1, 3, 2]) << 10)) >>> 0;
    case 2: {
      const option = rng.pick([2, 3, 6, 7, 0]);
      return (0x3c200800 | common | (offsetReg(rng) << 16) | (option << 13) | (rng.below(2) << 12)) >>> 0;
    }
    case 3: {
      const pairOpc = rng.below(4);
      return (
        ((pairOpc << 30) |
          0x2c000000 |
          (rng.below(4) << 23) |
          (rng.below(2) << 22) |
          (rng.below(128) << 15) |
          (vreg(rng) << 10) |
          (base(rng) << 5) |
          vreg(rng)) >>>
        0
      );
    }
    case 4: {
      const post = rng.below(2);
      const rm = post ? rng.pick([31, 31, offsetReg(rng)]) : 0;
      const opcode = rng.pick([0, 2, 4, 6, 7, 8, 10, rng.below(16)]);
      return (
        (0x0c000000 |
          (rng.below(2) << 30) |
          (post << 23) |
          (rng.below(2) << 22) |
          (rm << 16) |
          (opcode << 12) |
          (rng.below(4) << 10) |
          (base(rng) << 5) |
          vreg(rng)) >>>
        0
      );
    }
    default: {
      const post = rng.below(2);
      const rm = post ? rng.pick([31, 31, offsetReg(rng)]) : 0;
      return (
        (0x0d000000 |
          (rng.below(2) << 30) |
          (post << 23) |
          (rng.below(2) << 22) |
          (rng.below(2) << 21) |
          (rm << 16) |
          (rng.below(8) << 13) |
          (rng.below(2) << 12) |
          (rng.below(4) << 10) |
          (base(rng) << 5) |
          vreg(rng)) >>>
        0
      );
    }
  }
}

describe("SIMD&FP loads and stores on the whole core match qemu-aarch64", () => {
  it("registers and memory agree after every addressing mode", async () => {
    ensureReferenceTools();
    buildCore();
    const cases: FpSimdCase[] = makeCases(CASES, 31, (rng) => ({
      insns: [loadStoreInstruction(rng)],
      input: loadStoreInput(rng),
    }));
    const scratch = Buffer.from(Array.from({ length: SCRATCH_BYTES }, (_, i) => (i * 131 + (i >> 8)) & 0xff));
    const reference = runOnQemu(cases, scratch);
    const core = await createCoreRunner(scratch);
    const { mismatches, executed } = await compareWithQemu(cases, {
      runner: (c) => core.run(c),
      expected: reference.results,
    });
    expect(mismatches).toEqual([]);
    expect(executed / cases.length).toBeGreaterThan(0.5);
    const finalMemory = core.scratch();
    const firstDifference = finalMemory.findIndex((b, i) => b !== reference.scratch[i]);
    expect(
      firstDifference,
      `memory differs first at 0x${(SCRATCH_ADDRESS + firstDifference).toString(16)}`,
    ).toBe(-1);
  });
});
