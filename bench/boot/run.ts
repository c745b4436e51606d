// `npm run bench:boot`: boots the simple example's guest (minimal kernel, then Debian's) to the first
// userspace marker, the login prompt, on virtkit's CPU core and in qemu-system-aarch64 (TCG, the same
// kernel and initramfs) in the same run, and records the wall times, their ratio, and virtkit's guest
// instruction count and MIPS in bench/results/boot-<date>.json and .md.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { guestDtb } from "../../src/guest/dtb/guest-dtb.ts";
import { ensureGuestImages, type GuestImages } from "../../src/guest/images.ts";
import { qemuVirtDeviceTree } from "../../src/guest/layout.ts";
import { boardNamed } from "../../src/machine/boards/index.ts";
import { streamProgress } from "../../src/guest/progress.ts";
import { ensureDebianPackages } from "../../src/host/debian-packages.ts";
import { HarnessConsole } from "../../src/machine/backends/harness-console.ts";
import { bootSystemFile } from "../../src/microkit/index.ts";

const MARKER = "buildroot login: ";
const GUEST_START = "VMM|INFO: linux: kernel at";
const SIMPLE_SYSTEM = join(import.meta.dirname, "../../examples/simple/qemu_virt_aarch64/simple.system");
const RESULTS = join(import.meta.dirname, "../results");
const TIMEOUT_MS = 600_000;
/** Run as `run.ts --virtkit <kernel>`, the script boots one kernel on virtkit and prints the numbers as JSON. */
const VIRTKIT_CHILD = "--virtkit";

interface VirtkitBoot {
  /** From starting the system (loading the PD modules and the CPU core) to the marker. */
  seconds: number;
  /** From the VMM starting the guest's vCPU to the marker. */
  guestSeconds: number;
  instructions: number;
}

interface BootResult {
  kernel: string;
  virtkitSeconds: number;
  /** The part of virtkitSeconds the guest ran (the rest is loading the system and the core). */
  virtkitGuestSeconds: number;
  guestInstructions: number;
  /** Guest instructions per second while the guest ran. */
  mips: number;
  qemuSeconds: number;
  /** virtkit's wall time over QEMU's: below 1.0 virtkit is faster. */
  ratio: number;
}

/** Boots the VMM PD's guest in this process, on the wasm core, until the marker appears. */
async function bootVirtkit(kernel: string): Promise<VirtkitBoot> {
  // QEMU is handed ready images, so they are built and checked before the clock starts; the VMM's own
  // check of the warm cache, inside the run, costs tens of milliseconds.
  await ensureGuestImages({ kernel });
  const console = new HarnessConsole();
  const start = performance.now();
  const system = await bootSystemFile(SIMPLE_SYSTEM, { console, guestBoot: { kernel } });
  const done = system.run();
  // The VMM logs the boot layout as it starts the vCPU: from here on the time is the guest's.
  await console.waitFor(GUEST_START, { timeoutMs: TIMEOUT_MS });
  const guestStart = performance.now();
  await console.waitFor(MARKER, { timeoutMs: TIMEOUT_MS });
  const seconds = (performance.now() - start) / 1000;
  const guestSeconds = (performance.now() - guestStart) / 1000;
  // The vCPU's retired-instruction count is the guest's.
  const instructions = system.pds.get("VMM")!.pd.vcpuInspection(0)!.instructionsRetired;
  system.stop();
  await done;
  return { seconds, guestSeconds, instructions };
}

/**
 * The VMM module picks its kernel when it is first imported, and a process imports it once: each kernel
 * boots in a fresh process (this script again, with the same loader).
 */
async function bootVirtkitInChild(kernel: string): Promise<VirtkitBoot> {
  const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, VIRTKIT_CHILD, kernel], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`the virtkit boot of the ${kernel} kernel failed (exit code ${code})`);
  return JSON.parse(output) as VirtkitBoot;
}

/** QEMU's TCG on the same kernel and initramfs, with the device tree for its virt board. */
async function bootQemu(images: GuestImages): Promise<number> {
  const dtb = join(mkdtempSync(join(tmpdir(), "virtkit-bench-")), "qemu-virt.dtb");
  writeFileSync(dtb, guestDtb(qemuVirtDeviceTree(boardNamed())));
  const args = [
    ...["-M", "virt,gic-version=2", "-cpu", "cortex-a53", "-m", "256M", "-nographic", "-no-reboot"],
    ...["-kernel", images.kernel, "-initrd", images.initrd!, "-dtb", dtb],
  ];
  const start = performance.now();
  const qemu = spawn("qemu-system-aarch64", args, { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      qemu.kill();
      reject(new Error(`QEMU never showed ${JSON.stringify(MARKER)}; it shows:\n${output.slice(-2000)}`));
    }, TIMEOUT_MS);
    qemu.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("latin1");
      if (!output.includes(MARKER)) return;
      clearTimeout(timer);
      qemu.kill();
      resolve((performance.now() - start) / 1000);
    });
    qemu.on("error", reject);
  });
}

async function benchmark(kernel: string): Promise<BootResult> {
  const images = await ensureGuestImages({ kernel, onProgress: streamProgress(process.stderr) });
  process.stderr.write(`bench:boot: ${kernel}: booting on virtkit\n`);
  const virtkit = await bootVirtkitInChild(kernel);
  process.stderr.write(`bench:boot: ${kernel}: booting in qemu-system-aarch64 (TCG)\n`);
  const qemuSeconds = await bootQemu(images);
  return {
    kernel,
    virtkitSeconds: round(virtkit.seconds),
    virtkitGuestSeconds: round(virtkit.guestSeconds),
    guestInstructions: virtkit.instructions,
    mips: round(virtkit.instructions / virtkit.guestSeconds / 1e6),
    qemuSeconds: round(qemuSeconds),
    ratio: round(virtkit.seconds / qemuSeconds),
  };
}

const round = (x: number): number => Math.round(x * 100) / 100;

function markdown(date: string, results: BootResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.kernel} | ${r.virtkitSeconds} (${r.virtkitGuestSeconds}) | ${r.qemuSeconds} | ${r.ratio} | ${r.guestInstructions.toLocaleString("en")} | ${r.mips} |`,
  );
  return [
    `# Boot benchmark, ${date}`,
    "",
    `Wall time from starting the system to \`${MARKER.trim()}\` (the first userspace marker), the simple`,
    "example's guest on virtkit's CPU core against `qemu-system-aarch64 -M virt,gic-version=2 -cpu cortex-a53",
    "-m 256M` (TCG) with the same kernel and initramfs. Ratio = virtkit / QEMU (below 1.0 virtkit is faster).",
    "In brackets: the part of virtkit's time the guest ran (after loading the system and the CPU core);",
    "MIPS is guest instructions over that time.",
    `Host: ${cpus()[0]?.model ?? "unknown"}, ${cpus().length} cores, Node ${process.versions.node}.`,
    "",
    "| kernel | virtkit (s) | QEMU (s) | ratio | guest instructions | MIPS |",
    "|---|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

async function main(kernels: string[]): Promise<void> {
  await ensureDebianPackages(["qemu-system-arm"]);
  const results: BootResult[] = [];
  for (const kernel of kernels) {
    const result = await benchmark(kernel);
    process.stderr.write(`bench:boot: ${JSON.stringify(result)}\n`);
    results.push(result);
  }
  const date = new Date()
    .toISOString()
    .replace(/:\d\d\.\d+Z$/, "Z")
    .replace(":", "");
  mkdirSync(RESULTS, { recursive: true });
  const base = join(RESULTS, `boot-${date}`);
  writeFileSync(`${base}.json`, `${JSON.stringify({ date, marker: MARKER, results }, null, 2)}\n`);
  const report = markdown(date, results);
  writeFileSync(`${base}.md`, report);
  process.stdout.write(report);
}

const args = process.argv.slice(2);
if (args[0] === VIRTKIT_CHILD) process.stdout.write(JSON.stringify(await bootVirtkit(args[1]!)));
else await main(args.length > 0 ? args : ["minimal", "debian"]);
