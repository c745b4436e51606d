// The TypeScript API's own rules: system register names, argument checks and their messages.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createCpuCore, SYSREG_KEYS } from "../../src/machine/cpu.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";
import { RAM_BASE, RAM_SIZE } from "./assemble.ts";

async function newVcpu() {
  const memory = new PhysicalMemory({ ramBase: RAM_BASE, ramSize: RAM_SIZE });
  const core = await createCpuCore(memory);
  return core.createVcpu();
}

describe("CPU core TypeScript API", () => {
  it("names exactly the system-register encodings the wasm core implements", () => {
    const source = readFileSync(new URL("../../src/machine/cpu/sysreg-keys.ts", import.meta.url), "utf8");
    const wasmKeys = Object.fromEntries(
      [...source.matchAll(/export const K_(\w+): u32 = (0x[0-9a-f]+);/g)].map((m) => [m[1], Number(m[2])]),
    );
    expect(SYSREG_KEYS).toEqual(wasmKeys);
  });

  it("reads reset and ID state through system register names", async () => {
    const v = await newVcpu();
    expect(v.readSysreg("MIDR_EL1")).toBe(0x410f_d034n);
    expect(v.readSysreg("ID_AA64PFR0_EL1")).toBe(0x11n);
    expect(v.readSysreg("sctlr_el1") & 1n).toBe(0n);
    expect(v.pstate).toBe(0x3c5);
    v.writeSysreg("VBAR_EL1", 0x4000_0800n);
    expect(v.readSysreg("VBAR_EL1")).toBe(0x4000_0800n);
  });

  it("rejects unknown registers and bad ranges with messages that say what to change", async () => {
    const v = await newVcpu();
    expect(() => v.readSysreg("SCTLR_EL2")).toThrow(
      /unknown system register "SCTLR_EL2"; use an ARM ARM name/,
    );
    expect(() => v.readSysreg("ICC_EOIR1_EL1")).toThrow(/ICC_EOIR1_EL1 cannot be read by the host/);
    expect(() =>
      v.mapStage2(0x4000_0800, RAM_BASE, 0x1000, { read: true, write: false, execute: false }, false),
    ).toThrow(/IPA range 0x40000800\+0x1000 must be 4 KiB aligned/);
    expect(() =>
      v.mapStage2(RAM_BASE, RAM_BASE, 0x1000, { read: false, write: false, execute: false }, true),
    ).toThrow(/grant at least one of read, write or execute/);
    expect(() => v.getX(31)).toThrow(/X31 does not exist/);
    expect(() => v.setListRegister(4, 0n)).toThrow(/list register 4 does not exist/);
    expect(() => v.run(0)).toThrow(/maxInstructions 0 must be an integer/);
    expect(() => (v.pstate = 0x3c9)).toThrow(/selects EL2; guests run at EL0 or EL1/);
  });
});
