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

  it("shows PSTATE.SS at bit 21, as an SPSR holds it, and a step the host sets going is taken", async () => {
    for (const [ss, elr] of [
      [1, RAM_BASE + 4], // active-not-pending: one instruction runs, then the step exception
      [0, RAM_BASE], // active-pending: the exception comes before any instruction
    ] as const) {
      const memory = new PhysicalMemory({ ramBase: RAM_BASE, ramSize: RAM_SIZE });
      const nops = new DataView(
        memory.view(RAM_BASE, 0x1000).buffer,
        memory.view(RAM_BASE, 0x1000).byteOffset,
      );
      for (let at = 0; at < 0x1000; at += 4) nops.setUint32(at, 0xd503201f, true);
      const v = (await createCpuCore(memory)).createVcpu();
      v.mapStage2(RAM_BASE, RAM_BASE, 0x1000, { read: true, write: true, execute: true }, false);
      v.writeSysreg("OSLAR_EL1", 0n);
      v.writeSysreg("MDSCR_EL1", (1n << 13n) | 1n); // KDE, SS
      v.writeSysreg("VBAR_EL1", BigInt(RAM_BASE + 0x800));
      v.pc = BigInt(RAM_BASE);
      v.pstate = 0x1c5 | (ss << 21); // EL1h, D clear so debug exceptions reach EL1
      expect(v.pstate).toBe(0x1c5 | (ss << 21));
      v.run(3);
      expect(v.readSysreg("ESR_EL1") >> 26n).toBe(0x33n); // software step taken at the same EL
      expect(v.readSysreg("ELR_EL1")).toBe(BigInt(elr));
      expect(Number(v.readSysreg("SPSR_EL1") >> 21n) & 1).toBe(0);
      expect((v.pstate >> 21) & 1).toBe(0);
    }
  });
});
