import { expect } from "vitest";
import { compareWithQemu } from "./differential.ts";
import type { FpSimdCase } from "./reference.ts";

/**
 * Asserts that virtkit and qemu agree on every case, and that qemu executed at least
 * `minExecuted` of them, so a class cannot pass by being UNDEFINED on both sides.
 */
export async function expectAgreement(cases: readonly FpSimdCase[], minExecuted = 0.3): Promise<void> {
  const { mismatches, executed } = await compareWithQemu(cases);
  expect(mismatches).toEqual([]);
  expect(executed / cases.length).toBeGreaterThanOrEqual(minExecuted);
  console.log(`${cases.length} cases, ${executed} executed by qemu, all identical`);
}
