// `npm run bench:boot [-- --rounds N --cpu interp,jit KERNEL...]`: boots the simple example's guest
// (minimal kernel, then Debian's) to the login prompt with `virtkit run` on each CPU tier and with
// qemu-system-aarch64 (TCG, the same kernel, initramfs and device tree), alternating, and records each
// figure's best and median in bench/results/boot-<date>.json and .md: end to end (process start to the
// marker), start-up (process start to the kernel's first line), the guest's part (first line to the
// marker), and virtkit's in-process boot (system start to marker).
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { guestDtb } from "../../src/guest/dtb/guest-dtb.ts";
import { ensureGuestImages, type GuestImages } from "../../src/guest/images.ts";
import { guestLayout } from "../../src/guest/layout.ts";
import { boardNamed } from "../../src/machine/boards/index.ts";
import { streamProgress } from "../../src/guest/progress.ts";
import { ensureDebianPackages } from "../../src/host/debian-packages.ts";
import { HarnessConsole } from "../../src/machine/backends/harness-console.ts";
import { CPU_TIERS, type CpuTier } from "../../src/machine/cpu.ts";
import { bootSystemFile } from "../../src/microkit/index.ts";

const ROOT = join(import.meta.dirname, "../..");
const MARKER = "buildroot login: ";
/** The kernel's first console line (earlycon), the same on both machines. */
const FIRST_LINE = "Booting Linux on physical CPU";
/** virtkit's VMM prints this as it starts the guest's vCPU: the first guest instruction follows. */
const GUEST_START = "VMM|INFO: linux: kernel at";
const SIMPLE_SYSTEM = join(ROOT, "examples/simple/qemu_virt_aarch64/simple.system");
const RESULTS = join(import.meta.dirname, "../results");
const TIMEOUT_MS = 600_000;
/** Alternating rounds per kernel (`--rounds N`); each round runs every measurement once. */
const DEFAULT_ROUNDS = 5;
/** Run as `run.ts --virtkit <kernel> <tier>`, the script boots one kernel in-process and prints the numbers as JSON. */
const VIRTKIT_CHILD = "--virtkit";
/**
 * Idle time is waited out in real time on both machines: QEMU's TCG guest clock is the host's, and
 * virtkit runs with its realtime clock (its default, virtual clock would skip the guest's idle time).
 */
const IDLE =
  "waited in real time on both sides (virtkit with `--clock realtime`, QEMU with its default clock: TCG " +
  "without -icount)";

/** Seconds from process start to each marker seen. */
type Marks = Record<string, number>;

/** One timed process: when each marker appeared, and the CPU time it had used at the last one. */
interface Run {
  at: Marks;
  /** User and system time of all its threads (a figure the machine's load hardly changes). */
  cpuSeconds: number;
}

/** Clock ticks per second of /proc's CPU times. */
const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim());

/** CPU seconds process `pid` has used so far (utime + stime, /proc/<pid>/stat fields 14 and 15). */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/**
 * Starts `command` and times, from just before the spawn, the first appearance of each marker on its
 * output; stops it at the last marker and resolves once it has exited, so runs never overlap.
 */
function timeProcess(command: string, args: string[], markers: string[]): Promise<Run> {
  const start = performance.now();
  const child = spawn(command, args, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  let errors = "";
  const marks: Marks = {};
  const last = markers[markers.length - 1]!;
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} never showed ${JSON.stringify(last)}; it shows:\n${output.slice(-2000)}`));
    }, TIMEOUT_MS);
    child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString("latin1")));
    child.stdout.on("data", (chunk: Buffer) => {
      const now = (performance.now() - start) / 1000;
      output += chunk.toString("latin1");
      for (const marker of markers) if (!(marker in marks) && output.includes(marker)) marks[marker] = now;
      if (!(last in marks)) return;
      clearTimeout(timer);
      const cpuSeconds = cpuSecondsOf(child.pid!);
      child.kill("SIGKILL");
      void exited.then(() => resolve({ at: marks, cpuSeconds }));
    });
    child.on("exit", (code) => {
      if (last in marks) return;
      clearTimeout(timer);
      reject(
        new Error(`${command} ${args.join(" ")} exited (${code}) before ${JSON.stringify(last)}:\n${errors}`),
      );
    });
    child.on("error", reject);
  });
}

interface InProcessBoot {
  /** From starting the system (loading the PD modules and the CPU core) to the marker. */
  seconds: number;
  /** From the VMM starting the guest's vCPU to the marker. */
  guestSeconds: number;
  instructions: number;
}

/** Boots the VMM PD's guest in this process, on the wasm core, until the marker appears. */
async function bootInProcess(kernel: string, cpu: CpuTier): Promise<InProcessBoot> {
  // The images are built and checked before the clock starts, as for QEMU, which is handed them ready.
  await ensureGuestImages({ kernel });
  const console = new HarnessConsole();
  const start = performance.now();
  const system = await bootSystemFile(SIMPLE_SYSTEM, {
    console,
    guestBoot: { kernel },
    clock: "realtime",
    cpu,
  });
  const done = system.run();
  await console.waitFor(GUEST_START, { timeoutMs: TIMEOUT_MS });
  const guestStart = performance.now();
  await console.waitFor(MARKER, { timeoutMs: TIMEOUT_MS });
  const seconds = (performance.now() - start) / 1000;
  const guestSeconds = (performance.now() - guestStart) / 1000;
  const instructions = system.pds.get("VMM")!.pd.vcpuInspection(0)!.instructionsRetired;
  system.stop();
  await done;
  return { seconds, guestSeconds, instructions };
}

/** The VMM module picks its kernel when first imported, so each in-process boot has a fresh process. */
async function bootInProcessChild(kernel: string, cpu: CpuTier): Promise<InProcessBoot> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, import.meta.filename, VIRTKIT_CHILD, kernel, cpu],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`the in-process boot of the ${kernel} kernel failed (exit code ${code})`);
  return JSON.parse(output) as InProcessBoot;
}

/**
 * The device tree virtkit's VMM gives the guest, for QEMU: the same nodes and properties, except that
 * PSCI is called with HVC (QEMU's virt board without EL2 and EL3 answers PSCI there; virtkit's VMM
 * answers SMC) and that QEMU writes the initrd's place into /chosen itself.
 */
function qemuDtb(): string {
  const tree = guestLayout(boardNamed()).deviceTree(undefined);
  const path = join(mkdtempSync(join(tmpdir(), "virtkit-bench-")), "guest.dtb");
  writeFileSync(path, guestDtb({ ...tree, psciMethod: "hvc" }));
  return path;
}

function qemuArgs(images: GuestImages, dtb: string): string[] {
  return [
    ...[
      "-M",
      "virt,gic-version=2",
      "-cpu",
      "cortex-a53",
      "-m",
      "256M",
      "-nographic",
      "-no-reboot",
      "-nic",
      "none",
    ],
    ...["-kernel", images.kernel, "-initrd", images.initrd!, "-dtb", dtb],
  ];
}

function virtkitArgs(kernel: string, cpu: CpuTier): string[] {
  return [
    "bin/virtkit.mjs",
    ...[
      "run",
      "examples/simple",
      "--console",
      "stdio",
      "--clock",
      "realtime",
      "--kernel",
      kernel,
      "--cpu",
      cpu,
    ],
  ];
}

interface Figure {
  best: number;
  median: number;
  samples: number[];
}

/** Best (the least time, or the most of a rate) and median of `samples`. */
function figure(samples: number[], rate = false): Figure {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    best: round(rate ? sorted.at(-1)! : sorted[0]!),
    median: round(median),
    samples: samples.map(round),
  };
}

interface VirtkitResult {
  cpu: CpuTier;
  endToEnd: Figure;
  endToEndCpu: Figure;
  startUp: Figure;
  firstInstruction: Figure;
  guest: Figure;
  inProcess: { seconds: Figure; guestSeconds: Figure; instructions: number; mips: Figure };
}

interface KernelResult {
  kernel: string;
  rounds: number;
  virtkit: VirtkitResult[];
  qemu: { endToEnd: Figure; endToEndCpu: Figure; startUp: Figure; guest: Figure };
}

/** The end-to-end figures of one side's runs. */
function side(runs: Run[]) {
  return {
    endToEnd: figure(runs.map((r) => r.at[MARKER]!)),
    endToEndCpu: figure(runs.map((r) => r.cpuSeconds)),
    startUp: figure(runs.map((r) => r.at[FIRST_LINE]!)),
    guest: figure(runs.map((r) => r.at[MARKER]! - r.at[FIRST_LINE]!)),
  };
}

async function benchmark(
  kernel: string,
  tiers: readonly CpuTier[],
  rounds: number,
  dtb: string,
): Promise<KernelResult> {
  const images = await ensureGuestImages({ kernel, onProgress: streamProgress(process.stderr) });
  const v = new Map<CpuTier, Run[]>(tiers.map((cpu) => [cpu, []]));
  const inProcess = new Map<CpuTier, InProcessBoot[]>(tiers.map((cpu) => [cpu, []]));
  const q: Run[] = [];
  for (let round = 1; round <= rounds; round++) {
    // Alternating, and in the opposite order every other round, so a change in the machine's load
    // hits every side alike.
    const runs = [
      async () =>
        q.push(await timeProcess("qemu-system-aarch64", qemuArgs(images, dtb), [FIRST_LINE, MARKER])),
      ...tiers.map((cpu) => async () => {
        v.get(cpu)!.push(
          await timeProcess(process.execPath, virtkitArgs(kernel, cpu), [GUEST_START, FIRST_LINE, MARKER]),
        );
      }),
      ...tiers.map((cpu) => async () => {
        inProcess.get(cpu)!.push(await bootInProcessChild(kernel, cpu));
      }),
    ];
    if (round % 2 === 0) runs.reverse();
    for (const run of runs) await run();
    const last = tiers.map(
      (cpu) =>
        `virtkit ${cpu} ${v.get(cpu)!.at(-1)!.at[MARKER]!.toFixed(2)} s (in-process ${inProcess.get(cpu)!.at(-1)!.seconds.toFixed(2)} s)`,
    );
    process.stderr.write(
      `bench:boot: ${kernel} round ${round}/${rounds}: ${last.join(", ")}, QEMU ${q.at(-1)!.at[MARKER]!.toFixed(2)} s\n`,
    );
  }
  return {
    kernel,
    rounds,
    virtkit: tiers.map((cpu) => {
      const runs = v.get(cpu)!;
      const boots = inProcess.get(cpu)!;
      return {
        cpu,
        ...side(runs),
        firstInstruction: figure(runs.map((r) => r.at[GUEST_START]!)),
        inProcess: {
          seconds: figure(boots.map((b) => b.seconds)),
          guestSeconds: figure(boots.map((b) => b.guestSeconds)),
          instructions: boots[0]!.instructions,
          mips: figure(
            boots.map((b) => b.instructions / b.guestSeconds / 1e6),
            true,
          ),
        },
      };
    }),
    qemu: side(q),
  };
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
const ratio = (a: Figure, b: Figure): string => (a.median / b.median).toFixed(2);

function markdown(date: string, qemuVersion: string, load: string, results: KernelResult[]): string {
  const cell = (f: Figure): string => `${f.best.toFixed(2)} / ${f.median.toFixed(2)}`;
  const marker = `\`${MARKER.trim()}\``;
  const rows = results.flatMap((r) =>
    r.virtkit.flatMap((k) => {
      const name = `${r.kernel}, ${k.cpu}`;
      return [
        `| ${name} | end to end: process start → ${marker} | ${cell(k.endToEnd)} | ${cell(r.qemu.endToEnd)} | ${ratio(k.endToEnd, r.qemu.endToEnd)} |`,
        `| ${name} | end to end, CPU seconds the process had used at ${marker} | ${cell(k.endToEndCpu)} | ${cell(r.qemu.endToEndCpu)} | ${ratio(k.endToEndCpu, r.qemu.endToEndCpu)} |`,
        `| ${name} | start-up: process start → kernel's first line | ${cell(k.startUp)} | ${cell(r.qemu.startUp)} | ${ratio(k.startUp, r.qemu.startUp)} |`,
        `| ${name} | guest: kernel's first line → ${marker} | ${cell(k.guest)} | ${cell(r.qemu.guest)} | ${ratio(k.guest, r.qemu.guest)} |`,
        `| ${name} | in-process: system start → ${marker} (virtkit) against QEMU end to end | ${cell(k.inProcess.seconds)} | ${cell(r.qemu.endToEnd)} | ${ratio(k.inProcess.seconds, r.qemu.endToEnd)} |`,
      ];
    }),
  );
  const details = results.flatMap((r) =>
    r.virtkit.map(
      (k) =>
        `- ${r.kernel}, ${k.cpu}: \`virtkit run\` process start → first guest instruction (the VMM's ` +
        `\`${GUEST_START}\` line) ${cell(k.firstInstruction)} s; in-process, vCPU start → marker ` +
        `${cell(k.inProcess.guestSeconds)} s, ${k.inProcess.instructions.toLocaleString("en")} guest instructions, ` +
        `${cell(k.inProcess.mips)} MIPS.`,
    ),
  );
  return [
    `# Boot benchmark, ${date}`,
    "",
    "The simple example's guest booted to its login prompt by `virtkit run examples/simple --console stdio",
    "--clock realtime --cpu TIER` (bin/virtkit.mjs, from the build) and by `qemu-system-aarch64 -M virt,gic-version=2",
    "-cpu cortex-a53 -m 256M -nic none` (TCG) with the same kernel, initramfs and device tree (virtkit's guest tree,",
    `with PSCI over HVC as QEMU's virt board answers it). ${results[0]?.rounds ?? 0} alternating rounds per kernel;`,
    "each cell is best / median in seconds; ratio = virtkit's median over QEMU's (below 1.0 virtkit is",
    `faster). The kernel's first line is \`${FIRST_LINE}\`. Idle time is ${IDLE}.`,
    "In-process: the boot benchmark's own process boots the system (bootSystemFile) after the images are",
    "checked, so Node's and the CLI's start-up are left out. CPU seconds: user and system time of all the",
    "process's threads (/proc/PID/stat), which the machine's load changes far less than wall time.",
    `Host: ${cpus()[0]?.model ?? "unknown"}, ${cpus().length} cores, Node ${process.versions.node}, ${qemuVersion};`,
    `load average ${load}.`,
    "",
    "| kernel, CPU tier | figure | virtkit (s) | QEMU (s) | ratio |",
    "|---|---|---|---|---|",
    ...rows,
    "",
    ...details,
    "",
  ].join("\n");
}

async function main(kernels: string[], tiers: readonly CpuTier[], rounds: number): Promise<void> {
  ensureDebianPackages(["qemu-system-arm"]);
  // `virtkit run` is measured as a user starts it: from the build's JavaScript.
  spawnSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { stdio: "inherit" });
  const trace = spawnSync(process.execPath, ["bin/virtkit.mjs", "--help"], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, VIRTKIT_TRACE: "1" },
  });
  if (!trace.stderr.includes("CLI loaded from build/js")) {
    throw new Error(`bench:boot: bin/virtkit.mjs does not run from the build:\n${trace.stderr}`);
  }
  const qemuVersion = spawnSync("qemu-system-aarch64", ["--version"], { encoding: "utf8" }).stdout.split(
    "\n",
  )[0]!;
  const loadBefore = loadavg()[0]!.toFixed(2);
  const dtb = qemuDtb();
  const results: KernelResult[] = [];
  for (const kernel of kernels) {
    const result = await benchmark(kernel, tiers, rounds, dtb);
    process.stderr.write(`bench:boot: ${JSON.stringify(result)}\n`);
    results.push(result);
  }
  const load = `${loadBefore} at the start, ${loadavg()[0]!.toFixed(2)} at the end`;
  const date = new Date()
    .toISOString()
    .replace(/:\d\d\.\d+Z$/, "Z")
    .replace(":", "");
  mkdirSync(RESULTS, { recursive: true });
  const base = join(RESULTS, `boot-${date}`);
  writeFileSync(
    `${base}.json`,
    `${JSON.stringify({ date, marker: MARKER, firstLine: FIRST_LINE, idle: IDLE, qemuVersion, load, results }, null, 2)}\n`,
  );
  const report = markdown(date, qemuVersion, load, results);
  writeFileSync(`${base}.md`, report);
  process.stdout.write(report);
}

/** The value after `--name` in `args`, and `args` without both. */
function option(args: string[], name: string): { value: string | undefined; rest: string[] } {
  const at = args.indexOf(name);
  if (at < 0) return { value: undefined, rest: args };
  return { value: args[at + 1], rest: args.filter((_, i) => i !== at && i !== at + 1) };
}

const args = process.argv.slice(2);
if (args[0] === VIRTKIT_CHILD) {
  process.stdout.write(JSON.stringify(await bootInProcess(args[1]!, args[2] as CpuTier)));
} else {
  const roundsOption = option(args, "--rounds");
  const cpuOption = option(roundsOption.rest, "--cpu");
  const rounds = roundsOption.value === undefined ? DEFAULT_ROUNDS : Number(roundsOption.value);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error("bench:boot: --rounds takes a whole number ≥ 1");
  const tiers = (cpuOption.value?.split(",") ?? [...CPU_TIERS]) as CpuTier[];
  const unknown = tiers.filter((cpu) => !CPU_TIERS.includes(cpu));
  if (unknown.length > 0)
    throw new Error(`bench:boot: --cpu takes ${CPU_TIERS.join(", ")}, not ${unknown.join(", ")}`);
  const kernels = cpuOption.rest;
  await main(kernels.length > 0 ? kernels : ["minimal", "debian"], tiers, rounds);
}
