// npm run bench:cpu [-- --workload NAME] [--iterations N] [--repeat N] [--cpu interp,jit]: the CPU benchmark's
// workloads (bench/cpu/workload.ts: heapsort and CRC-32, tight loops; LZ77 compression, branchy), each run by
// qemu-aarch64 (Linux user mode) and by virtkit (bare metal, MMU on; each CPU tier) in one run, alternating.
// Reports MIPS and their ratio per workload and tier and writes bench/results/cpu-<timestamp>.json and .md.
// Instruction counts come from virtkit's instructionsRetired; qemu runs the same object code, its
// start-up measured and subtracted.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, hostname, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CROSS, ensureCpuTestTools } from "../../tests/cpu/toolchain.ts";
import {
  WORKLOADS,
  buildWorkload,
  runWorkloadInQemu,
  runWorkloadOnVirtkit,
  type WorkloadName,
} from "./workload.ts";
import { CPU_TIERS, type CpuTier } from "../../src/machine/cpu.ts";

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), "..", "results");

function best<T>(runs: T[], key: (t: T) => number): T {
  return runs.reduce((a, b) => (key(b) < key(a) ? b : a));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function measure(name: WorkloadName, iterations: number, repeat: number, tiers: readonly CpuTier[]) {
  const { linuxElf, bareMetalImage } = buildWorkload(name);
  const virtkitRuns = new Map(
    tiers.map((tier) => [tier, [] as Awaited<ReturnType<typeof runWorkloadOnVirtkit>>[]]),
  );
  const startupRuns: ReturnType<typeof runWorkloadInQemu>[] = [];
  const qemuRuns: ReturnType<typeof runWorkloadInQemu>[] = [];
  for (let i = 0; i < repeat; i++) {
    for (const tier of tiers) {
      const run = await runWorkloadOnVirtkit(bareMetalImage, iterations, tier);
      virtkitRuns.get(tier)!.push(run);
      process.stderr.write(
        `${name} run ${i + 1}: virtkit (${tier}) ${run.instructions} instructions in ${run.seconds.toFixed(3)} s\n`,
      );
    }
    startupRuns.push(runWorkloadInQemu(linuxElf, 0));
    qemuRuns.push(runWorkloadInQemu(linuxElf, iterations));
    process.stderr.write(`${name} run ${i + 1}: qemu ${qemuRuns.at(-1)!.seconds.toFixed(3)} s\n`);
  }
  return tiers.map((tier) =>
    summarise(name, iterations, tier, virtkitRuns.get(tier)!, startupRuns, qemuRuns),
  );
}

function summarise(
  name: WorkloadName,
  iterations: number,
  tier: CpuTier,
  virtkitRuns: Awaited<ReturnType<typeof runWorkloadOnVirtkit>>[],
  startupRuns: ReturnType<typeof runWorkloadInQemu>[],
  qemuRuns: ReturnType<typeof runWorkloadInQemu>[],
) {
  const virtkit = best(virtkitRuns, (r) => r.seconds);
  const startup = best(startupRuns, (r) => r.seconds);
  const qemu = best(qemuRuns, (r) => r.seconds);
  if (qemu.checksum !== virtkit.checksum || virtkit.checksum === 0n) {
    throw new Error(
      `${name} (${tier}): checksums differ or the workload failed its own check: qemu 0x${qemu.checksum.toString(16)}, ` +
        `virtkit 0x${virtkit.checksum.toString(16)}`,
    );
  }
  const qemuSeconds = qemu.seconds - startup.seconds;
  if (qemuSeconds < 0.1) {
    throw new Error(
      `${name}: qemu-aarch64 ran the workload for only ${qemuSeconds.toFixed(3)} s beyond its start-up: too short ` +
        `to time; use more --iterations (${Math.ceil((iterations * 0.2) / Math.max(qemuSeconds, 0.001))} or more)`,
    );
  }
  const virtkitMips = virtkit.instructions / virtkit.seconds / 1e6;
  const qemuMips = virtkit.instructions / qemuSeconds / 1e6;
  const virtkitMedianMips = virtkit.instructions / median(virtkitRuns.map((r) => r.seconds)) / 1e6;
  const qemuMedianMips =
    virtkit.instructions / (median(qemuRuns.map((r) => r.seconds)) - startup.seconds) / 1e6;
  return {
    tier,
    workload: {
      name,
      program: `bench/cpu/${WORKLOADS[name].source}`,
      description: WORKLOADS[name].description,
      iterations,
      instructions: virtkit.instructions,
      checksum: `0x${virtkit.checksum.toString(16)}`,
    },
    virtkit: {
      seconds: virtkit.seconds,
      mips: virtkitMips,
      medianMips: virtkitMedianMips,
      runs: virtkitRuns.map((r) => r.seconds),
    },
    qemu: {
      seconds: qemuSeconds,
      rawSeconds: qemu.seconds,
      startupSeconds: startup.seconds,
      mips: qemuMips,
      medianMips: qemuMedianMips,
      rawRuns: qemuRuns.map((r) => r.seconds),
    },
    ratio: {
      virtkitOverQemu: virtkitMips / qemuMips,
      mediansVirtkitOverQemu: virtkitMedianMips / qemuMedianMips,
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workload: { type: "string" },
      iterations: { type: "string" },
      repeat: { type: "string" },
      cpu: { type: "string" },
    },
  });
  const tiers = (values.cpu ?? CPU_TIERS.join(",")).split(",") as CpuTier[];
  if (tiers.some((tier) => !CPU_TIERS.includes(tier)))
    throw new Error(`--cpu takes ${CPU_TIERS.join(" and/or ")}`);
  const names = values.workload ? [values.workload] : Object.keys(WORKLOADS);
  for (const name of names) {
    if (!(name in WORKLOADS))
      throw new Error(`no workload "${name}"; they are ${Object.keys(WORKLOADS).join(", ")}`);
  }
  const repeat = Number(values.repeat ?? 3);
  const iterationsGiven = values.iterations === undefined ? undefined : Number(values.iterations);
  if (iterationsGiven !== undefined && (!Number.isSafeInteger(iterationsGiven) || iterationsGiven < 1))
    throw new Error(`--iterations takes a positive integer`);
  const problem = ensureCpuTestTools();
  if (problem) throw new Error(problem);
  const loadBefore = loadavg()[0]!.toFixed(2);
  const results = [];
  for (const name of names as WorkloadName[]) {
    results.push(...(await measure(name, iterationsGiven ?? WORKLOADS[name].iterations, repeat, tiers)));
  }
  const qemuVersion = spawnSync(CROSS.qemu, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0];
  const timestamp = new Date().toISOString();
  const load = `${loadBefore} at the start, ${loadavg()[0]!.toFixed(2)} at the end`;
  const machine = {
    hostname: hostname(),
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    node: process.version,
    qemu: qemuVersion,
    load,
    tiers,
  };
  const markdown = [
    `# CPU benchmark, ${timestamp}`,
    "",
    `Machine: ${machine.cpu} (${machine.cores} cores), Node ${machine.node}, ${qemuVersion}; load average ${load}.`,
    `virtkit's CPU tiers: ${tiers.join(", ")} (--cpu).`,
    `Each workload is one object file linked for virtkit (bare metal, MMU on) and for qemu-aarch64 -cpu cortex-a53`,
    `(Linux user mode, its start-up subtracted); all compute the same checksum. ${repeat} alternating runs each;`,
    "seconds are the best run's; MIPS (virtkit's retired instructions over each side's time) are best / median.",
    "",
    "| workload | tier | instructions | virtkit (s) | virtkit MIPS | qemu-aarch64 (s) | qemu MIPS | virtkit / qemu (best, medians) |",
    "|---|---|---|---|---|---|---|---|",
    ...results.map(
      (r) =>
        `| ${r.workload.name}: ${r.workload.description}, ${r.workload.iterations} iterations | ${r.tier} | ` +
        `${r.workload.instructions.toLocaleString("en")} | ${r.virtkit.seconds.toFixed(3)} | ` +
        `${r.virtkit.mips.toFixed(1)} / ${r.virtkit.medianMips.toFixed(1)} | ${r.qemu.seconds.toFixed(3)} | ` +
        `${r.qemu.mips.toFixed(1)} / ${r.qemu.medianMips.toFixed(1)} | ` +
        `${r.ratio.virtkitOverQemu.toFixed(3)}, ${r.ratio.mediansVirtkitOverQemu.toFixed(3)} |`,
    ),
    "",
  ].join("\n");
  mkdirSync(resultsDir, { recursive: true });
  const base = join(resultsDir, `cpu-${timestamp.replace(/[:.]/g, "-")}`);
  writeFileSync(`${base}.json`, `${JSON.stringify({ timestamp, machine, results }, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdown);
  console.log(markdown);
  console.log(`wrote ${base}.json and ${base}.md`);
}

main().catch((error: unknown) => {
  console.error(`bench:cpu: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
