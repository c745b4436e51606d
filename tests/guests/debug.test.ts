// Self-hosted debug: tests/guests/debug.c (breakpoints, watchpoints, software step, the OS lock and the
// KDE/PSTATE.D masks) on both tiers, the JIT's translations of the same code set aside while debug is
// active; the same program under qemu-system-aarch64 as the oracle; and the host's view of the
// breakpoint and watchpoint registers.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureDebianPackages } from "../../src/host/debian-packages.ts";
import { createCpuCore } from "../../src/machine/cpu.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";
import { CROSS, ensureCpuTestTools, runTool } from "../cpu/toolchain.ts";
import { buildGuest } from "./build.ts";
import { describeResult, GUEST_RAM_BASE, GUEST_RAM_SIZE, runGuest } from "./run-guest.ts";

const toolsProblem = ensureCpuTestTools() ?? qemuSystemProblem();
if (toolsProblem && process.env.CI) throw new Error(toolsProblem);
const suite = toolsProblem ? describe.skip : describe;

function qemuSystemProblem(): string | undefined {
  try {
    ensureDebianPackages(["qemu-system-arm"]);
    return undefined;
  } catch (error) {
    return `qemu-system-aarch64 (qemu-system-arm) is unavailable: ${(error as Error).message}`;
  }
}

/** The guest's last console line when it passes; where nothing ends a qemu run, this ends it. */
const PASSED = "debug: every check passed";
const QEMU_TIMEOUT_MS = 30_000;

/** Flags in debug.c's .data that the image for qemu 7.2 sets to 1, each for one way it differs (see debug.c). */
const QEMU_FLAGS = ["os_lock_ignored", "cache_maintenance_unwatched"];

/** The ELF with the guest's QEMU_FLAGS set. */
function imageForQemu(elfPath: string, dir: string): string {
  const symbols = runTool(CROSS.nm, [elfPath]).toString();
  const sections = runTool(CROSS.objdump, ["-h", elfPath]).toString();
  const data = /\s\.data\s+[0-9a-f]+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)/.exec(sections);
  if (!data) throw new Error(`${elfPath}: no .data section`);
  const elf = readFileSync(elfPath);
  for (const name of QEMU_FLAGS) {
    const flag = new RegExp(`^([0-9a-f]+) D ${name}$`, "m").exec(symbols);
    if (!flag) throw new Error(`${elfPath}: no ${name} in .data`);
    elf[parseInt(data[2], 16) + parseInt(flag[1], 16) - parseInt(data[1], 16)] = 1;
  }
  const out = join(dir, "debug-qemu.elf");
  writeFileSync(out, elf);
  return out;
}

/** Runs the image at EL1 on qemu's virt board (no EL2, no EL3, PL011 at 0x09000000) until it passes or fails. */
function runInQemu(elf: string): Promise<string> {
  const args = ["-M", "virt,virtualization=off,secure=off", "-cpu", "cortex-a53", "-m", "128M"];
  args.push("-nographic", "-nodefaults", "-serial", "stdio", "-kernel", elf);
  return new Promise((resolve, reject) => {
    const child = spawn("qemu-system-aarch64", args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const timer = setTimeout(() => child.kill(), QEMU_TIMEOUT_MS);
    const collect = (chunk: Buffer) => {
      output += chunk.toString("latin1");
      // The guest's exit HVC is UNDEFINED without EL2, so the guest never stops: the console says when.
      if (output.includes(PASSED) || output.includes("check failed") || output.includes("unexpected"))
        child.kill();
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.on("error", reject);
    child.on("close", () => {
      clearTimeout(timer);
      resolve(output);
    });
  });
}

suite("self-hosted debug guest (debug)", () => {
  it("takes breakpoints, watchpoints and software steps with their syndromes (interpreter)", async () => {
    const result = await runGuest("debug");
    expect(result.code, describeResult("debug", result)).toBe(0);
  });

  it("does the same on the JIT tier, whose translation of the breakpointed loop stays unused meanwhile", async () => {
    // Threshold 1: the loop is translated while the OS lock still keeps debug inactive, so a
    // translated block that ignored the breakpoints would miss the three hits the guest counts.
    const result = await runGuest("debug", { core: { tier: "jit", jitThreshold: 1 } });
    expect(result.code, describeResult("debug", result)).toBe(0);
  });

  it("passes the same checks under qemu-system-aarch64, except the OS lock's and DC IVAC's, which qemu 7.2 ignores", async () => {
    const dir = mkdtempSync(join(tmpdir(), "virtkit-debug-"));
    try {
      const output = await runInQemu(imageForQemu(buildGuest("debug").elf, dir));
      expect(output).toContain(PASSED);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("debug registers through the host API", () => {
  it("names the two breakpoints and two watchpoints the ID register advertises, and no more", async () => {
    const memory = new PhysicalMemory({ ramBase: GUEST_RAM_BASE, ramSize: GUEST_RAM_SIZE });
    const vcpu = (await createCpuCore(memory)).createVcpu();
    for (const name of ["DBGBVR0_EL1", "DBGBCR1_EL1", "DBGWVR1_EL1", "DBGWCR0_EL1"]) {
      vcpu.writeSysreg(name, 0x4000_1004n);
      expect(vcpu.readSysreg(name), name).toBe(0x4000_1004n);
    }
    const dfr0 = vcpu.readSysreg("ID_AA64DFR0_EL1");
    expect((dfr0 >> 12n) & 0xfn, "BRPs").toBe(1n);
    expect((dfr0 >> 20n) & 0xfn, "WRPs").toBe(1n);
    expect(() => vcpu.readSysreg("DBGBVR2_EL1")).toThrow(/unknown system register "DBGBVR2_EL1"/);
    expect(vcpu.readSysreg("OSLSR_EL1"), "OS lock set at reset").toBe(0xan);
  });
});
