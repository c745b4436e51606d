// npm run bench:cpu [-- --iterations N]: the same CPU-bound program (bench/cpu/workload.c) run by
// qemu-aarch64 (Linux user mode) and by virtkit (bare metal, MMU on) in one run. Reports both MIPS and
// their ratio and writes bench/results/cpu-<timestamp>.json and .md. Instruction counts come from
// virtkit's instructionsRetired; qemu runs the same object code, its start-up measured and subtracted.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, hostname } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CROSS, ensureCpuTestTools } from "../../tests/cpu/toolchain.ts";
import { buildWorkload, runWorkloadInQemu, runWorkloadOnVirtkit } from "./workload.ts";

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), "..", "results");

function best<T>(runs: T[], key: (t: T) => number): T {
  return runs.reduce((a, b) => (key(b) < key(a) ? b : a));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { iterations: { type: "string" }, repeat: { type: "string" } } });
  const iterations = Number(values.iterations ?? 300);
  const repeat = Number(values.repeat ?? 3);
  if (!Number.isSafeInteger(iterations) || iterations < 1)
    throw new Error(`--iterations takes a positive integer`);
  const problem = ensureCpuTestTools();
  if (problem) throw new Error(problem);
  const { linuxElf, bareMetalImage } = buildWorkload();

  const virtkitRuns = [];
  for (let i = 0; i < repeat; i++) {
    const run = await runWorkloadOnVirtkit(bareMetalImage, iterations);
    virtkitRuns.push(run);
    process.stderr.write(
      `virtkit run ${i + 1}: ${run.instructions} instructions in ${run.seconds.toFixed(3)} s\n`,
    );
  }
  const virtkit = best(virtkitRuns, (r) => r.seconds);

  const startup = best(
    Array.from({ length: repeat }, () => runWorkloadInQemu(linuxElf, 0)),
    (r) => r.seconds,
  );
  const qemu = best(
    Array.from({ length: repeat }, () => runWorkloadInQemu(linuxElf, iterations)),
    (r) => r.seconds,
  );
  if (qemu.checksum !== virtkit.checksum) {
    throw new Error(
      `checksums differ: qemu 0x${qemu.checksum.toString(16)}, virtkit 0x${virtkit.checksum.toString(16)}`,
    );
  }
  const qemuSeconds = qemu.seconds - startup.seconds;
  if (qemuSeconds < 0.1) {
    throw new Error(
      `qemu-aarch64 ran the workload for only ${qemuSeconds.toFixed(3)} s beyond its start-up: too short to time; ` +
        `use more --iterations (${Math.ceil((iterations * 0.2) / Math.max(qemuSeconds, 0.001))} or more)`,
    );
  }
  const virtkitMips = virtkit.instructions / virtkit.seconds / 1e6;
  const qemuMips = virtkit.instructions / qemuSeconds / 1e6;
  const qemuVersion = spawnSync(CROSS.qemu, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0];
  const timestamp = new Date().toISOString();
  const result = {
    timestamp,
    machine: {
      hostname: hostname(),
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      node: process.version,
      qemu: qemuVersion,
    },
    workload: {
      program: "bench/cpu/workload.c",
      iterations,
      instructions: virtkit.instructions,
      checksum: `0x${virtkit.checksum.toString(16)}`,
    },
    virtkit: { seconds: virtkit.seconds, mips: virtkitMips, runs: virtkitRuns.map((r) => r.seconds) },
    qemu: { seconds: qemuSeconds, rawSeconds: qemu.seconds, startupSeconds: startup.seconds, mips: qemuMips },
    ratio: { virtkitOverQemu: virtkitMips / qemuMips },
  };
  const markdown = [
    `# CPU benchmark, ${timestamp}`,
    "",
    `Machine: ${result.machine.cpu} (${result.machine.cores} cores), Node ${result.machine.node}, ${qemuVersion}.`,
    `Workload: bench/cpu/workload.c, ${iterations} iterations, ${virtkit.instructions} instructions, checksum ${result.workload.checksum} (identical in both).`,
    "",
    "| runner | seconds | MIPS |",
    "|---|---|---|",
    `| virtkit (bare metal, MMU on) | ${virtkit.seconds.toFixed(3)} | ${virtkitMips.toFixed(1)} |`,
    `| qemu-aarch64 -cpu cortex-a53 (start-up ${startup.seconds.toFixed(3)} s subtracted) | ${qemuSeconds.toFixed(3)} | ${qemuMips.toFixed(1)} |`,
    "",
    `virtkit / qemu: ${(virtkitMips / qemuMips).toFixed(3)} (best of ${repeat} runs each).`,
    "",
  ].join("\n");
  mkdirSync(resultsDir, { recursive: true });
  const base = join(resultsDir, `cpu-${timestamp.replace(/[:.]/g, "-")}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${base}.md`, markdown);
  console.log(markdown);
  console.log(`wrote ${base}.json and ${base}.md`);
}

main().catch((error: unknown) => {
  console.error(`bench:cpu: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
