// The benchmark's workloads (compiled C: xorshift, heapsort and CRC-32; LZ77 compression and its round
// trip) must compute the same checksum on virtkit as in qemu-aarch64. A correctness check on real
// compiler output; it measures no time.
import { describe, expect, it } from "vitest";
import {
  WORKLOADS,
  buildWorkload,
  runWorkloadInQemu,
  runWorkloadOnVirtkit,
} from "../../bench/cpu/workload.ts";
import { ensureCpuTestTools } from "./toolchain.ts";

const toolsProblem = ensureCpuTestTools();
if (toolsProblem && process.env.CI) throw new Error(toolsProblem);
const suite = toolsProblem ? describe.skip : describe;

suite("the CPU benchmark workloads", () => {
  for (const name of Object.keys(WORKLOADS) as (keyof typeof WORKLOADS)[]) {
    it(`${name} computes the same checksum on virtkit as in qemu-aarch64 (5 iterations, MMU on)`, async () => {
      const { linuxElf, bareMetalImage } = buildWorkload(name);
      const qemu = runWorkloadInQemu(linuxElf, 5);
      const virtkit = await runWorkloadOnVirtkit(bareMetalImage, 5);
      // 0 is what the compression workload returns when a round trip fails its own check.
      expect(qemu.checksum).not.toBe(0n);
      expect(virtkit.checksum.toString(16)).toBe(qemu.checksum.toString(16));
      expect(virtkit.instructions).toBeGreaterThan(1_000_000);
    });
  }
});
