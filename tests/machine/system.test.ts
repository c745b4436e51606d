// Exceptions, EL0, the MMU with both TTBRs, stage-2 aborts and the host exits.
import { describe, expect, it } from "vitest";
import { machineWith, runToExit, RAM_BASE, TABLES, type Machine } from "./assemble.ts";

const DATA = RAM_BASE + 0x10_0000;
const MMIO = 0x0900_0000;

/** Vector table at `vectors` whose entries save ESR/ELR/FAR/SPSR in x20..x23 and exit with HVC #(0x10 + entry). */
const VECTORS = `
  .balign 0x800
vectors:
  .irp i, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
  .balign 0x80
  mrs x20, esr_el1
  mrs x21, elr_el1
  mrs x22, far_el1
  mrs x23, spsr_el1
  hvc #(0x10 + \\i)
  .endr
`;

describe("exceptions and EL0", () => {
  it("takes SVC from EL0 to the lower-EL vector and returns with ERET", async () => {
    const m = await machineWith(`
      adr x0, vectors
      msr vbar_el1, x0
      adr x0, el0
      msr elr_el1, x0
      msr spsr_el1, xzr          // EL0t, interrupts unmasked
      ldr x0, =${DATA + 0x1000}
      msr sp_el0, x0
      eret
    el0:
      mov x5, sp
      svc #0x42
      mrs x6, sctlr_el1          // UNDEFINED at EL0
      ${VECTORS}
    `);
    expect(runToExit(m.vcpu)).toEqual({ kind: "hvc", imm: 0x18 }); // lower EL, synchronous
    const v = m.vcpu;
    expect(v.getX(5)).toBe(BigInt(DATA + 0x1000));
    expect(v.getX(20)).toBe((0x15n << 26n) | (1n << 25n) | 0x42n);
    const svcAddress = v.getX(21) - 4n;
    expect(v.getX(23)).toBe(0n);
    expect(v.pstate & 0xf).toBe(0b0101); // EL1h
    // Back at EL0 after the SVC, the MRS of an EL1 register is UNDEFINED.
    v.pstate = 0x3c0; // EL0t
    v.pc = svcAddress + 4n;
    expect(runToExit(v)).toEqual({ kind: "hvc", imm: 0x18 });
    expect(v.getX(20) >> 26n).toBe(0n);
    expect(v.getX(21)).toBe(svcAddress + 4n);
  });

  it("makes an illegal exception return set PSTATE.IL and raise EC 0x0E", async () => {
    const m = await machineWith(`
      adr x0, vectors
      msr vbar_el1, x0
      adr x0, target
      msr elr_el1, x0
      mov x0, #0x10              // M[4] = 1: AArch32, not implemented
      msr spsr_el1, x0
      eret
    target:
      nop
      ${VECTORS}
    `);
    expect(runToExit(m.vcpu)).toEqual({ kind: "hvc", imm: 0x14 }); // current EL with SPx
    expect(m.vcpu.getX(20) >> 26n).toBe(0x0en);
    expect(m.vcpu.getX(23) & (1n << 20n)).toBe(1n << 20n); // SPSR.IL
  });
});

describe("synchronous exception syndromes", () => {
  async function firstException(body: string, setup?: (v: Machine["vcpu"]) => void) {
    const m = await machineWith(`
      adr x0, vectors
      msr vbar_el1, x0
      ${body}
      hvc #0
      ${VECTORS}
    `);
    setup?.(m.vcpu);
    const exit = runToExit(m.vcpu);
    return { exit, esr: m.vcpu.getX(20), far: m.vcpu.getX(22), elr: m.vcpu.getX(21) };
  }

  it("raises SP alignment (SCTLR_EL1.SA), PC alignment, FP access and alignment faults on Device memory", async () => {
    const sp = await firstException(
      `
      mrs x1, sctlr_el1
      orr x1, x1, #8
      msr sctlr_el1, x1
      ldr x2, =${DATA + 8}
      mov sp, x2
      ldr x3, [sp]`,
    );
    expect(sp.esr >> 26n).toBe(0x26n);
    const pcAlign = await firstException(`
      adr x1, 1f
      add x1, x1, #2
      br x1
    1: nop`);
    expect(pcAlign.esr >> 26n).toBe(0x22n);
    expect(pcAlign.far & 3n).toBe(2n);
    const fp = await firstException("fmov d0, x1");
    expect(fp.esr).toBe((0x07n << 26n) | (1n << 25n));
    const device = await firstException(`
      ldr x1, =${MMIO + 1}
      ldr w2, [x1]`);
    expect(device.esr).toBe((0x25n << 26n) | (1n << 25n) | 0x21n);
    expect(device.far).toBe(BigInt(MMIO + 1));
  });

  it("traps EL0 counter reads unless CNTKCTL_EL1 allows them", async () => {
    const m = await machineWith(`
      adr x0, vectors
      msr vbar_el1, x0
      adr x0, el0
      msr elr_el1, x0
      msr spsr_el1, xzr
      eret
    el0:
      mrs x5, cntvct_el0
      hvc #0
      ${VECTORS}
    `);
    expect(runToExit(m.vcpu)).toEqual({ kind: "hvc", imm: 0x18 });
    // EC 0x18 with Op0 3, Op2 2, Op1 3, CRn 14, Rt 5, CRm 0, read.
    const iss = (3n << 20n) | (2n << 17n) | (3n << 14n) | (14n << 10n) | (5n << 5n) | 1n;
    expect(m.vcpu.getX(20)).toBe((0x18n << 26n) | (1n << 25n) | iss);
  });
});

describe("stage-1 MMU", () => {
  it("translates through TTBR1 tables, faults with the right level and access flag, and answers AT", async () => {
    const m = await machineWith(`
      adr x0, vectors
      msr vbar_el1, x0
      ldr x1, =0xffffff8000000000
      ldr x2, =0x1122334455667788
      str x2, [x1, #8]
      at s1e1r, x1
      mrs x3, par_el1
      ldr x4, =0xffffff8000001000
      ldr x5, [x4]               // no L3 entry: translation fault, level 3
      ${VECTORS}
    `);
    const tables = new DataView(
      m.memory.memory.buffer,
      m.memory.ramOffset + TABLES - RAM_BASE + 0x1000,
      0x3000,
    );
    const l1 = TABLES + 0x1000;
    const l2 = TABLES + 0x2000;
    const l3 = TABLES + 0x3000;
    tables.setBigUint64(0, BigInt(l2) | 3n, true);
    tables.setBigUint64(0x1000, BigInt(l3) | 3n, true);
    tables.setBigUint64(0x2000, BigInt(DATA) | 3n | (1n << 10n), true); // page, AF, Normal
    tables.setBigUint64(0x2010, BigInt(DATA + 0x2000) | 3n, true); // page without AF
    const tcr = m.vcpu.readSysreg("TCR_EL1") & ~(1n << 23n);
    m.vcpu.writeSysreg("TCR_EL1", tcr);
    m.vcpu.writeSysreg("TTBR1_EL1", BigInt(l1));
    expect(runToExit(m.vcpu)).toEqual({ kind: "hvc", imm: 0x14 });
    const v = m.vcpu;
    expect(
      new DataView(m.memory.view(DATA + 8, 8).buffer).getBigUint64(
        m.memory.ramOffset + DATA + 8 - RAM_BASE,
        true,
      ),
    ).toBe(0x1122_3344_5566_7788n);
    expect(v.getX(3) & 1n).toBe(0n);
    expect(v.getX(3) & 0x0000_ffff_ffff_f000n).toBe(BigInt(DATA));
    expect(v.getX(20)).toBe((0x25n << 26n) | (1n << 25n) | 0x07n);
    expect(v.getX(22)).toBe(0xffff_ff80_0000_1000n);
    // Access flag fault on the page without AF.
    v.setX(4, 0xffff_ff80_0000_2000n);
    v.pc = v.getX(21);
    expect(runToExit(v)).toEqual({ kind: "hvc", imm: 0x14 });
    expect(v.getX(20) & 0x3fn).toBe(0x0bn);
  });
});

describe("host exits", () => {
  it("reports a stage-2 data abort with ISV, SAS, SSE, SRT, SF and WnR, and none for pairs", async () => {
    const m = await machineWith(`
      ldr x6, =${MMIO + 0x10}
      mov w5, #0x41
      str w5, [x6]
      ldrsh x7, [x6, #2]
      ldp x8, x9, [x6]
      hvc #0
    `);
    const v = m.vcpu;
    let exit = runToExit(v);
    expect(exit).toMatchObject({ kind: "stage2-abort", far: BigInt(MMIO + 0x10), ipa: MMIO + 0x10 });
    if (exit.kind !== "stage2-abort") throw new Error("expected a stage-2 abort");
    // EC 0x24, IL, ISV, SAS = 2 (word), SRT = 5, WnR, DFSC translation level 3.
    expect(exit.esr).toBe(
      ((0x24 << 26) | (1 << 25) | (1 << 24) | (2 << 22) | (5 << 16) | (1 << 6) | 0x07) >>> 0,
    );
    const storePc = v.pc;
    expect(exit.instruction).toBe(0xb90000c5);
    v.pc += 4n;
    exit = runToExit(v);
    if (exit.kind !== "stage2-abort") throw new Error("expected a stage-2 abort");
    expect(v.pc).toBe(storePc + 4n);
    // LDRSH x7: SAS = 1, SSE, SRT = 7, SF, read.
    expect(exit.esr).toBe(
      ((0x24 << 26) | (1 << 25) | (1 << 24) | (1 << 22) | (1 << 21) | (7 << 16) | (1 << 15) | 0x07) >>> 0,
    );
    v.setX(7, 0xffff_ffff_ffff_fff0n); // the host emulates the load
    v.pc += 4n;
    exit = runToExit(v);
    if (exit.kind !== "stage2-abort") throw new Error("expected a stage-2 abort");
    expect(exit.esr & (1 << 24)).toBe(0); // pairs carry no instruction syndrome
    v.pc += 4n;
    expect(runToExit(v)).toEqual({ kind: "hvc", imm: 0 });
  });

  it("exits for HVC and SMC with the immediate and the PC past them", async () => {
    const m = await machineWith(`
      hvc #0x1234
      smc #0x55
      hvc #0
    `);
    expect(runToExit(m.vcpu)).toEqual({ kind: "hvc", imm: 0x1234 });
    expect(m.vcpu.pc).toBe(BigInt(RAM_BASE + 4));
    expect(runToExit(m.vcpu)).toEqual({ kind: "smc", imm: 0x55 });
    expect(m.vcpu.pc).toBe(BigInt(RAM_BASE + 8));
  });

  it("traps the physical timer and ICC_SGI1R_EL1 as sysreg exits with the EC 0x18 syndrome", async () => {
    const m = await machineWith(`
      mov x3, #1
      msr cntp_ctl_el0, x3
      hvc #0
    `);
    const exit = runToExit(m.vcpu);
    // Op0 3, Op2 1, Op1 3, CRn 14, Rt 3, CRm 2, write.
    const iss = (3 << 20) | (1 << 17) | (3 << 14) | (14 << 10) | (3 << 5) | (2 << 1);
    expect(exit).toEqual({
      kind: "sysreg",
      esr: ((0x18 << 26) | (1 << 25) | iss) >>> 0,
      instruction: 0xd51be223,
    });
    expect(m.vcpu.pc).toBe(BigInt(RAM_BASE + 4));
  });
});
