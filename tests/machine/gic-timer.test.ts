// The virtual timer and the GIC virtual CPU interface: the vtimer exit, list
// registers, IAR/EOIR over GICV and ICV registers, maintenance exits and WFI.
import { describe, expect, it } from "vitest";
import { machineWith, runToExit } from "./assemble.ts";

const GICV = 0x0803_0000;
const LR_PENDING = 1n << 28n;
const LR_EOI = 1n << 19n;
const VTIMER_PPI = 27n;

function pendingLr(intid: bigint, priority: bigint, eoi: boolean): bigint {
  return LR_PENDING | (priority << 23n) | (eoi ? LR_EOI : 0n) | intid;
}

describe("virtual timer and GIC virtual CPU interface", () => {
  it("runs seL4's VPPI flow: vtimer exit, injected PPI 27, IAR/EOIR through GICV, maintenance exit", async () => {
    const m = await machineWith(`
      adr x0, vectors
      msr vbar_el1, x0
      ldr x1, =${GICV}
      mov w2, #1
      str w2, [x1]               // GICV_CTLR.EnableGrp0
      mov w2, #0xf0
      str w2, [x1, #4]           // GICV_PMR
      mrs x3, cntvct_el0
      add x3, x3, #1000
      msr cntv_cval_el0, x3
      mov x4, #1
      msr cntv_ctl_el0, x4
      msr daifclr, #2
    idle:
      wfi
      b idle
      .balign 0x800
    vectors:
      .skip 0x280
      ldr w5, [x1, #0xc]         // GICV_IAR
      mov x4, #3
      msr cntv_ctl_el0, x4       // mask the timer before EOI, as Linux does
      ldr w6, [x1, #0x14]        // GICV_RPR while active
      str w5, [x1, #0x10]        // GICV_EOIR
      hvc #9
    `);
    const v = m.vcpu;
    v.gicvBase = GICV;
    expect(runToExit(v)).toEqual({ kind: "wfi" });
    const wfiPc = v.pc;
    // Idle: skip virtual time to the deadline and resume after the WFI.
    expect(v.vtimerDeadline).toBe(v.readSysreg("CNTV_CVAL_EL0"));
    m.core.counter = v.vtimerDeadline!;
    v.pc += 4n;
    expect(runToExit(v)).toEqual({ kind: "vtimer" });
    expect(v.readSysreg("CNTV_CTL_EL0") & 4n).toBe(4n); // ISTATUS
    v.vtimerMasked = true;
    v.setListRegister(0, pendingLr(VTIMER_PPI, 0x10n, true));
    expect(runToExit(v)).toEqual({ kind: "maintenance", listRegister: 0 });
    expect(v.getX(5)).toBe(VTIMER_PPI);
    expect(v.getX(6)).toBe(0x80n);
    expect(v.getListRegister(0) & (3n << 28n)).toBe(0n);
    expect(v.readSysreg("ELR_EL1")).toBe(wfiPc + 4n); // taken before the branch that follows the WFI
    v.vtimerMasked = false;
    expect(runToExit(v)).toEqual({ kind: "hvc", imm: 9 });
  });

  it("masks by PMR, completes WFI at once while an interrupt is signalled, and acknowledges through ICV registers", async () => {
    const m = await machineWith(
      `
      mov x0, #1
      msr icc_igrpen1_el1, x0
      mov x0, #0x80
      msr icc_pmr_el1, x0
      mrs x1, icc_hppir1_el1
      mrs x2, icc_iar1_el1       // priority 0x90 is masked by PMR 0x80: spurious
      mov x0, #0xf0
      msr icc_pmr_el1, x0
      wfi                        // signalled (PSTATE.I only masks the exception): completes at once
      mrs x3, icc_iar1_el1
      mrs x4, icc_rpr_el1
      msr icc_eoir1_el1, x3
      mrs x5, icc_rpr_el1
      hvc #0
    `,
      { gicVersion: 3 },
    );
    const v = m.vcpu;
    v.setListRegister(1, pendingLr(40n, 0x12n, false) | (1n << 30n)); // group 1, priority 0x90
    expect(runToExit(v)).toEqual({ kind: "hvc", imm: 0 });
    expect(v.getX(1)).toBe(40n);
    expect(v.getX(2)).toBe(1023n);
    expect(v.getX(3)).toBe(40n);
    expect(v.getX(4)).toBe(0x90n);
    expect(v.getX(5)).toBe(0xffn);
    expect(v.getListRegister(1) & (3n << 28n)).toBe(0n);
  });
});

describe("GICv2 split EOI", () => {
  it("drops priority on EOIR and deactivates only on DIR when EOImode is 1", async () => {
    const m = await machineWith(`
      ldr x1, =${GICV}
      mov w2, #0x201             // EnableGrp0 | EOImode
      str w2, [x1]
      mov w2, #0xf0
      str w2, [x1, #4]
      ldr w5, [x1, #0xc]         // IAR
      str w5, [x1, #0x10]        // EOIR: priority drop only
      ldr w6, [x1, #0x14]        // RPR: idle again
      hvc #1
      add x7, x1, #0x1000
      str w5, [x7]               // GICV_DIR: deactivation
      hvc #2
    `);
    const v = m.vcpu;
    v.gicvBase = GICV;
    v.setListRegister(3, pendingLr(33n, 4n, true));
    expect(runToExit(v)).toEqual({ kind: "hvc", imm: 1 });
    expect(v.getX(5)).toBe(33n);
    expect(v.getX(6)).toBe(0xffn);
    expect((v.getListRegister(3) >> 28n) & 3n).toBe(2n); // still active
    expect(runToExit(v)).toEqual({ kind: "maintenance", listRegister: 3 });
    expect((v.getListRegister(3) >> 28n) & 3n).toBe(0n);
    expect(runToExit(v)).toEqual({ kind: "hvc", imm: 2 });
  });
});

describe("counter modes", () => {
  const program = `
    mrs x0, cntvct_el0
    hvc #0
    mrs x1, cntvct_el0
    hvc #0
  `;

  async function ticksAcrossPause(realtime: boolean): Promise<bigint> {
    const m = await machineWith(program, { realtime });
    expect(runToExit(m.vcpu)).toEqual({ kind: "hvc", imm: 0 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runToExit(m.vcpu)).toEqual({ kind: "hvc", imm: 0 });
    return m.vcpu.getX(1) - m.vcpu.getX(0);
  }

  it("advances with retired instructions by default, ignoring host time", async () => {
    // Two instructions apart at 4 instructions per tick.
    expect(await ticksAcrossPause(false)).toBeLessThanOrEqual(1n);
  });

  it("follows the wall clock in realtime mode", async () => {
    // 50 ms at 62.5 MHz is 3.125 M ticks; allow for a coarse timer.
    expect(await ticksAcrossPause(true)).toBeGreaterThan(2_000_000n);
  });
});
