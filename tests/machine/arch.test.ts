// src/machine/arch: the architecture facts agree with the AssemblyScript core's own copies, and hold.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  ExceptionClass,
  FaultStatus,
  callSyndrome,
  decodeSysregAccess,
  exceptionClass,
  faultStatusName,
  stepBackToInstruction,
  stepPastInstruction,
  systemRegisterKey,
  systemRegisterName,
  translateStage1,
  wfxSyndrome,
  type Stage1Register,
} from "../../src/machine/arch/index.ts";
import { CORE_SYSTEM_REGISTER_KEYS } from "../../src/machine/arch/system-registers.ts";
import { exitSyndrome } from "../../src/machine/cpu.ts";
import { machineWith, runToExit } from "./assemble.ts";

const IL = 1 << 25;

function coreConstants(file: string, prefix: string): Record<string, number> {
  const source = readFileSync(new URL(`../../src/machine/cpu/${file}`, import.meta.url), "utf8");
  const pattern = new RegExp(`(?:export )?const ${prefix}(\\w+): u32 = (0x[0-9a-f]+);`, "g");
  return Object.fromEntries([...source.matchAll(pattern)].map((m) => [m[1], Number(m[2])]));
}

describe("the core's copies of the architecture facts", () => {
  it("uses the exception classes of src/machine/arch", () => {
    const core = coreConstants("exceptions.ts", "EC_");
    expect(Object.keys(core).length).toBeGreaterThan(10);
    for (const [name, value] of Object.entries(core)) {
      const archName = name.replace("IABT", "INSTRUCTION_ABORT").replace("DABT", "DATA_ABORT");
      expect(ExceptionClass[archName as keyof typeof ExceptionClass], name).toBe(value);
    }
  });

  it("uses the fault status codes of src/machine/arch", () => {
    expect(coreConstants("mmu.ts", "FSC_")).toEqual({
      ADDRESS_SIZE: FaultStatus.addressSize(0),
      TRANSLATION: FaultStatus.translation(0),
      ACCESS_FLAG: FaultStatus.accessFlag(0),
      PERMISSION: FaultStatus.permission(0),
      ALIGNMENT: FaultStatus.ALIGNMENT,
    });
  });
});

describe("the system register table", () => {
  it("names each encoding once, in the ARM ARM's spelling, and spells unnamed ones generically", () => {
    // op1 1 and 2 with CRn 12 are the AArch32 MCRR forms of ICC_ASGI1R and ICC_SGI0R, not these.
    const sgi = (op2: number) => systemRegisterName({ op0: 3, op1: 0, crn: 12, crm: 11, op2 });
    expect([sgi(5), sgi(6), sgi(7)]).toEqual(["ICC_SGI1R_EL1", "ICC_ASGI1R_EL1", "ICC_SGI0R_EL1"]);
    expect(systemRegisterName({ op0: 3, op1: 0, crn: 4, crm: 2, op2: 0 })).toBe("SPSel");
    expect(systemRegisterName({ op0: 3, op1: 0, crn: 15, crm: 2, op2: 1 })).toBe("S3_0_C15_C2_1");
    const keys = Object.values(CORE_SYSTEM_REGISTER_KEYS);
    expect(new Set(keys).size).toBe(keys.length);
    expect(CORE_SYSTEM_REGISTER_KEYS.SCTLR_EL1).toBe(
      systemRegisterKey({ op0: 3, op1: 0, crn: 1, crm: 0, op2: 0 }),
    );
  });

  it("names the SGI registers the core traps as GNU as encodes them, on a GICv3 vCPU", async () => {
    const m = await machineWith(
      `
      msr icc_sgi0r_el1, x2
      msr icc_asgi1r_el1, x3
      hvc #0
    `,
      { gicVersion: 3 },
    );
    for (const [name, rt] of [
      ["ICC_SGI0R_EL1", 2],
      ["ICC_ASGI1R_EL1", 3],
    ] as const) {
      const exit = runToExit(m.vcpu);
      if (exit.kind !== "sysreg") throw new Error(`expected a sysreg exit, got ${exit.kind}`);
      const access = decodeSysregAccess(exit.esr);
      expect(systemRegisterName(access)).toBe(name);
      expect(access).toMatchObject({ rt, read: false });
      m.vcpu.pc += 4n;
    }
    expect(runToExit(m.vcpu)).toEqual({ kind: "hvc", imm: 0 });
  });

  it("leaves them UNDEFINED on a GICv2 vCPU, like the other ICC registers", async () => {
    const m = await machineWith("msr icc_sgi0r_el1, x2\nhvc #0", { gicVersion: 2 });
    m.vcpu.run(1);
    expect(m.core.undefinedInstructions).toBe(1);
  });
});

describe("syndromes of the core's exits", () => {
  it("gives every trap exit the ESR_EL2 EL2 would read", () => {
    expect(exitSyndrome({ kind: "hvc", imm: 0x1234 })).toBe(((0x16 << 26) | IL | 0x1234) >>> 0);
    expect(exitSyndrome({ kind: "smc", imm: 0 })).toBe(((0x17 << 26) | IL) >>> 0);
    expect(exitSyndrome({ kind: "wfi" })).toBe(((0x01 << 26) | IL) >>> 0);
    expect(exitSyndrome({ kind: "wfe" })).toBe(((0x01 << 26) | IL | 1) >>> 0);
    expect(exitSyndrome({ kind: "sysreg", esr: 0x6200_0000, instruction: 0 })).toBe(0x6200_0000);
    expect(exitSyndrome({ kind: "vtimer" })).toBeUndefined();
    expect(exceptionClass(callSyndrome("smc", 0x55))).toBe(ExceptionClass.SMC64);
    expect(wfxSyndrome(true) & 1).toBe(1);
  });

  it("steps the PC over the trapped instruction by its length (IL), wrapping at 2^64", () => {
    const regs = { pc: 0x4000_0000n };
    stepPastInstruction(regs, wfxSyndrome(false));
    expect(regs.pc).toBe(0x4000_0004n);
    stepPastInstruction(regs, 0x0400_0000); // IL = 0: a 16-bit instruction
    expect(regs.pc).toBe(0x4000_0006n);
    stepBackToInstruction(regs, callSyndrome("smc", 0));
    expect(regs.pc).toBe(0x4000_0002n);
    const top = { pc: (1n << 64n) - 4n };
    stepPastInstruction(top);
    expect(top.pc).toBe(0n);
  });

  it("names the fault status codes", () => {
    expect(faultStatusName(FaultStatus.translation(2))).toBe("translation fault, level 2");
    expect(faultStatusName(FaultStatus.accessFlag(3))).toBe("access flag fault, level 3");
    expect(faultStatusName(FaultStatus.ALIGNMENT)).toBe("alignment fault");
    expect(faultStatusName(0x35)).toBeUndefined();
  });
});

describe("the stage-1 walk", () => {
  /** Descriptors by address; tables a level apart, 4 KiB each. */
  function tables(entries: [bigint, bigint][]) {
    const memory = new Map(entries);
    return (address: bigint) => memory.get(address);
  }

  it("resolves the start level's few index bits when TxSZ is not a whole level (T1SZ 20: 44-bit VAs)", () => {
    // 44 input bits: level 0 resolves bits 43:39 (5 bits), then three full levels.
    const va = 0xffff_f812_3456_7abcn;
    const l0 = 0x4010_0000n;
    const [l1, l2, l3] = [l0 + 0x1000n, l0 + 0x2000n, l0 + 0x3000n];
    const index = (level: bigint, bits = 9n) => (va >> (12n + 9n * (3n - level))) & ((1n << bits) - 1n);
    const read = tables([
      [l0 + index(0n, 5n) * 8n, l1 | 3n],
      [l1 + index(1n) * 8n, l2 | 3n],
      [l2 + index(2n) * 8n, l3 | 3n],
      [l3 + index(3n) * 8n, 0x4030_0000n | 0x703n],
    ]);
    const registers: Record<Stage1Register, bigint> = {
      SCTLR_EL1: 1n,
      TCR_EL1: (2n << 30n) | (20n << 16n),
      TTBR0_EL1: 0n,
      TTBR1_EL1: l0,
    };
    expect(translateStage1((name) => registers[name], va, read)).toBe(0x4030_0abcn);
    // Not canonical for 44 bits: bit 44 clear in an upper-half address.
    expect(translateStage1((name) => registers[name], va & ~(1n << 44n), read)).toBeUndefined();
  });

  it("refuses a disabled walk (EPD0) and passes addresses through with the MMU off", () => {
    const read = tables([]);
    const on = (tcr: bigint) => (name: Stage1Register) =>
      name === "SCTLR_EL1" ? 1n : name === "TCR_EL1" ? tcr : 0n;
    expect(translateStage1(on(25n | (1n << 7n)), 0x1000n, read)).toBeUndefined();
    expect(translateStage1(() => 0n, 0x4008_0000n, read)).toBe(0x4008_0000n);
  });
});
