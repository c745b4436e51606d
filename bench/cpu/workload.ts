// Builds one of the CPU benchmark's workloads (bench/cpu/*.c, each defining `u64 workload(u64)`) once
// into one object and links it twice: a static Linux program for qemu-aarch64 and a bare-metal image for
// virtkit, then runs either with an iteration count. Used by the benchmark (bench/cpu/run.ts) and by the
// test that both compute the same checksum.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CROSS, runTool } from "../../tests/cpu/toolchain.ts";
import { GUEST_CFLAGS, linkGuest } from "../../tests/guests/build.ts";
import { runGuestImage } from "../../tests/guests/run-guest.ts";
import type { CpuTier } from "../../src/machine/cpu.ts";

const here = dirname(fileURLToPath(import.meta.url));
const buildDir = join(here, "..", "..", "build", "bench-cpu");

/** The workloads, with the iteration count that makes qemu-aarch64 run well beyond its start-up. */
export const WORKLOADS = {
  "sort-crc": {
    source: "workload.c",
    iterations: 300,
    description: "xorshift fill, heapsort and table-driven CRC-32 over 16 KiB (tight loops)",
  },
  compress: {
    source: "compress.c",
    iterations: 150,
    description: "LZ77 compression with hash chains of 16 KiB of generated text, decompression, check",
  },
} as const;

export type WorkloadName = keyof typeof WORKLOADS;

export interface WorkloadPrograms {
  linuxElf: string;
  bareMetalImage: Uint8Array;
}

export function buildWorkload(name: WorkloadName = "sort-crc"): WorkloadPrograms {
  mkdirSync(buildDir, { recursive: true });
  const object = join(buildDir, `${name}.o`);
  runTool(CROSS.gcc, [...GUEST_CFLAGS, "-c", "-o", object, join(here, WORKLOADS[name].source)]);
  const linuxElf = join(buildDir, `${name}-linux.elf`);
  runTool(CROSS.gcc, [...GUEST_CFLAGS, "-o", linuxElf, join(here, "linux-entry.c"), object]);
  const bare = linkGuest(buildDir, `${name}-baremetal`, [join(here, "baremetal-main.c"), object]);
  return { linuxElf, bareMetalImage: readFileSync(bare.bin) };
}

/** Runs the Linux build in qemu-aarch64; returns the printed checksum and the wall time. */
export function runWorkloadInQemu(elf: string, iterations: number): { checksum: bigint; seconds: number } {
  const start = performance.now();
  const r = spawnSync(CROSS.qemu, ["-cpu", "cortex-a53", elf, String(iterations)], { encoding: "utf8" });
  const seconds = (performance.now() - start) / 1000;
  if (r.status !== 0) {
    throw new Error(`qemu-aarch64 ${elf} ${iterations} failed (${r.status ?? r.signal}): ${r.stderr}`);
  }
  return { checksum: BigInt(`0x${r.stdout.trim()}`), seconds };
}

/** Runs the bare-metal build on a virtkit vCPU (it asks for the iteration count with HVC #2). */
export async function runWorkloadOnVirtkit(
  image: Uint8Array,
  iterations: number,
  tier: CpuTier = "interp",
): Promise<{ checksum: bigint; seconds: number; instructions: number }> {
  const result = await runGuestImage(
    "bench-cpu",
    image,
    {
      core: { tier },
      onExit(exit, { vcpu }) {
        if (exit.kind !== "hvc" || exit.imm !== 2) return false;
        vcpu.setX(0, BigInt(iterations));
        return true;
      },
    },
    Number.MAX_SAFE_INTEGER,
  );
  const checksum = result.checkpoints.find(([id]) => id === 1)?.[1];
  if (result.code !== 0 || checksum === undefined) {
    throw new Error(`the bare-metal workload failed (code ${result.code}): ${result.console}`);
  }
  return { checksum, seconds: result.runSeconds, instructions: result.instructions };
}
