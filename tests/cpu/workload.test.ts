// The benchmark's workload (compiled C: xorshift, heapsort, CRC-32) must compute the same checksum on
// virtkit as in qemu-aarch64. A correctness check on real compiler output; it measures no time.
import { describe, expect, it } from "vitest";
import { buildWorkload, runWorkloadInQemu, runWorkloadOnVirtkit } from "../../bench/cpu/workload.ts";
import { ensureCpuTestTools } from "./toolchain.ts";

const toolsProblem = ensureCpuTestTools();
if (toolsProblem && process.env.CI) throw new Error(toolsProblem);
const suite = toolsProblem ? describe.skip : describe;

suite("the CPU benchmark workload", () => {
  it("computes the same checksum on virtkit as in qemu-aarch64 (5 iterations, MMU on)", async () => {
    const { linuxElf, bareMetalImage } = buildWorkload();
    const qemu = runWorkloadInQemu(linuxElf, 5);
    const virtkit = await runWorkloadOnVirtkit(bareMetalImage, 5);
    expect(qemu.checksum).not.toBe(0n);
    expect(virtkit.checksum.toString(16)).toBe(qemu.checksum.toString(16));
    expect(virtkit.instructions).toBeGreaterThan(1_000_000);
  });
});
