// Assembles small A64 programs with the Debian cross binutils into flat images,
// and runs them on a fresh core with RAM mapped one to one at stage 2.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDebianPackages } from "../../src/host/debian-packages.ts";
import { createCpuCore, type CpuCore, type Vcpu } from "../../src/machine/cpu.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";

export const RAM_BASE = 0x4000_0000;
export const RAM_SIZE = 16 * 1024 * 1024;
/** PSTATE for EL1h with D, A, I and F masked. */
export const EL1H_MASKED = 0x3c5;

let toolsReady = false;

/** Installs binutils-aarch64-linux-gnu when missing; throws (so tests fail, never skip) when it cannot. */
export function ensureBinutils(): void {
  if (toolsReady) return;
  ensureDebianPackages(["binutils-aarch64-linux-gnu"]);
  toolsReady = true;
}

/** Assembles `source` linked at `base` and returns the flat image. */
export function assemble(source: string, base = RAM_BASE): Uint8Array {
  ensureBinutils();
  const dir = mkdtempSync(join(tmpdir(), "virtkit-asm-"));
  try {
    const src = join(dir, "prog.S");
    writeFileSync(src, `.text\n.global _start\n_start:\n${source}\n`);
    const run = (tool: string, args: string[]) => {
      try {
        execFileSync(tool, args, { stdio: ["ignore", "pipe", "pipe"] });
      } catch (error) {
        const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
        throw new Error(`${tool} ${args.join(" ")} failed:\n${stderr}`, { cause: error });
      }
    };
    run("aarch64-linux-gnu-as", ["-o", join(dir, "prog.o"), src]);
    run("aarch64-linux-gnu-ld", [
      "-Ttext",
      `0x${base.toString(16)}`,
      "-o",
      join(dir, "prog.elf"),
      join(dir, "prog.o"),
    ]);
    run("aarch64-linux-gnu-objcopy", ["-O", "binary", join(dir, "prog.elf"), join(dir, "prog.bin")]);
    return new Uint8Array(readFileSync(join(dir, "prog.bin")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Machine {
  memory: PhysicalMemory;
  core: CpuCore;
  vcpu: Vcpu;
}

/** Page tables of identityMap(): the last 64 KiB of RAM. */
export const TABLES = RAM_BASE + RAM_SIZE - 0x1_0000;
/** MAIR_EL1: attribute 0 Normal write-back, attribute 1 Device-nGnRnE. */
export const MAIR_NORMAL_DEVICE = 0x00ffn;
/** TCR_EL1: 39-bit VAs in both halves, 4 KiB granules (TG1 = 0b10). */
export const TCR_39BIT = 25n | (25n << 16n) | (2n << 30n);
const SCTLR_MMU_CACHES = 0x30d0_0800n | 1n | (1n << 2n) | (1n << 12n);
/** Level-1 block descriptor: valid block, AF, AttrIndx, EL1 read/write. */
export function blockDescriptor(pa: number, attrIndex: number): bigint {
  return BigInt(pa) | 1n | (1n << 10n) | (BigInt(attrIndex) << 2n);
}

/**
 * Turns the stage-1 MMU on with TTBR0 identity-mapping the first 2 GiB: [0, 1 GiB)
 * as Device memory and [1 GiB, 2 GiB) (RAM) as Normal memory, so unaligned
 * accesses to RAM are allowed as on hardware with the MMU on.
 */
export function identityMap(m: { memory: PhysicalMemory; vcpu: Vcpu }): void {
  const table = new DataView(
    m.memory.view(TABLES, 0x1000).buffer,
    m.memory.ramOffset + TABLES - RAM_BASE,
    0x1000,
  );
  table.setBigUint64(0, blockDescriptor(0, 1), true);
  table.setBigUint64(8, blockDescriptor(0x4000_0000, 0), true);
  m.vcpu.writeSysreg("MAIR_EL1", MAIR_NORMAL_DEVICE);
  m.vcpu.writeSysreg("TCR_EL1", TCR_39BIT | (1n << 23n));
  m.vcpu.writeSysreg("TTBR0_EL1", BigInt(TABLES));
  m.vcpu.writeSysreg("SCTLR_EL1", SCTLR_MMU_CACHES);
}

/**
 * A core with RAM mapped RWX at stage 2, the program loaded at RAM_BASE and the
 * PC on it, at EL1h; unless `mmu` is false, the MMU is on with identityMap().
 */
export async function machineWith(
  source: string,
  options: { mmu?: boolean; gicVersion?: 2 | 3; realtime?: boolean } = {},
): Promise<Machine> {
  const image = assemble(source);
  const memory = new PhysicalMemory({ ramBase: RAM_BASE, ramSize: RAM_SIZE });
  memory.view(RAM_BASE, image.length).set(image);
  const core = await createCpuCore(memory, { realtime: options.realtime ?? false });
  const vcpu = core.createVcpu({ gicVersion: options.gicVersion ?? 2 });
  vcpu.mapStage2(RAM_BASE, RAM_BASE, RAM_SIZE, { read: true, write: true, execute: true }, false);
  vcpu.pstate = EL1H_MASKED;
  vcpu.pc = BigInt(RAM_BASE);
  if (options.mmu ?? true) identityMap({ memory, vcpu });
  return { memory, core, vcpu };
}

/** Runs until an exit other than slice-end; fails after `limit` instructions. */
export function runToExit(vcpu: Vcpu, limit = 10_000_000) {
  const start = vcpu.instructionsRetired;
  for (;;) {
    const exit = vcpu.run(100_000);
    if (exit.kind !== "slice-end") return exit;
    if (vcpu.instructionsRetired - start > limit) {
      throw new Error(`program still running after ${limit} instructions at pc 0x${vcpu.pc.toString(16)}`);
    }
  }
}
