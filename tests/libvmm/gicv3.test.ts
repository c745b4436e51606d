import { describe, expect, it } from "vitest";
import { GuestAccessError } from "../../src/libvmm/fault/mmio.ts";
import type { AccessSize } from "../../src/machine/devices/mmio.ts";
import { Gicv3Distributor } from "../../src/libvmm/vgic/gicv3-distributor.ts";
import { Gicv3Redistributors, redistributorRegionSize } from "../../src/libvmm/vgic/gicv3-redistributor.ts";
import { handleGicSysreg, sgiTargets } from "../../src/libvmm/vgic/gicv3-sysregs.ts";
import { decodeSysregAccess } from "../../src/machine/arch/index.ts";
import { FakeRegisters } from "./fake-vcpu.ts";
import { makeVgic } from "./vgic-helpers.ts";

function setup(vcpuCount = 4) {
  const ctx = makeVgic(3, vcpuCount);
  const gicd = new Gicv3Distributor(ctx.vgic);
  const gicr = new Gicv3Redistributors(ctx.vgic);
  const d = (offset: number, size: AccessSize = 4) => gicd.read(offset, size, 0);
  const dw = (offset: number, value: number | bigint, size: AccessSize = 4) =>
    gicd.write(offset, size, BigInt(value), 0);
  const r = (offset: number, size: AccessSize = 4, vcpu = 0) => gicr.read(offset, size, vcpu);
  const rw = (offset: number, value: number | bigint, size: AccessSize = 4, vcpu = 0) =>
    gicr.write(offset, size, BigInt(value), vcpu);
  return { ...ctx, gicd, gicr, d, dw, r, rw };
}

/** ESR_EL2 for a trapped MSR/MRS (EC 0x18). */
function sysregEsr(
  op0: number,
  op1: number,
  crn: number,
  crm: number,
  op2: number,
  rt: number,
  read: boolean,
) {
  return (
    ((0x18 << 26) |
      (1 << 25) |
      (op0 << 20) |
      (op2 << 17) |
      (op1 << 14) |
      (crn << 10) |
      (rt << 5) |
      (crm << 1) |
      (read ? 1 : 0)) >>>
    0
  );
}

describe("GICv3 distributor", () => {
  it("reports ARE and DS always set, and the group enables as written", () => {
    const { d, dw } = setup();
    expect(d(0x0)).toBe(0x50n);
    dw(0x0, 0xffff_ffff);
    expect(d(0x0)).toBe(0x53n);
  });

  it("identifies as architecture version 3 with 10 INTID bits", () => {
    const { d } = setup();
    expect(d(0x4)).toBe(BigInt(7 | (3 << 5) | (9 << 19)));
    expect(d(0xffe8)).toBe(0x3bn);
  });

  it("keeps SGI/PPI fields RAZ/WI (they live in the redistributors) and ITARGETSR unused", () => {
    const { d, dw } = setup();
    dw(0x100, 0xffff_ffff);
    expect(d(0x100)).toBe(0n);
    dw(0x400, 0xffff_ffff);
    expect(d(0x400)).toBe(0n);
    dw(0x820, 0xffff_ffff);
    expect(d(0x820)).toBe(0n);
    dw(0x104, 0xffff_ffff);
    expect(d(0x104)).toBe(0xffff_ffffn);
  });

  it("routes SPIs by IROUTER, with 64-bit and 32-bit accesses", () => {
    const { d, dw, vgic, injected } = setup();
    dw(0x6000 + 8 * 40, 2n, 8);
    expect(d(0x6000 + 8 * 40, 8)).toBe(2n);
    dw(0x6000 + 8 * 41, 0x8000_0000n); // IRM
    dw(0x6000 + 8 * 41 + 4, 0x00n);
    expect(d(0x6000 + 8 * 41, 4)).toBe(0x8000_0000n);
    dw(0x6000 + 8 * 42, 0x1_0000_0003n, 8); // Aff3 = 1: nobody
    expect(d(0x6000 + 8 * 42 + 4)).toBe(1n);
    dw(0x0, 2);
    dw(0x84, 0xffff_ffff); // group 1
    dw(0x104, 0x7 << 8);
    for (const intid of [40, 41, 42]) {
      vgic.registerIrq(0, intid);
      vgic.inject(0, intid);
    }
    expect(injected).toEqual(["2:40:0:1@0", "0:41:0:1@0"]);
    // Re-routing a pending SPI delivers it.
    dw(0x6000 + 8 * 42, 3n, 8);
    expect(injected.at(-1)).toBe("3:42:0:1@0");
    // IROUTER for SGIs and PPIs is reserved.
    dw(0x6000, 5n, 8);
    expect(d(0x6000, 8)).toBe(0n);
  });

  it("rejects bad access sizes with the register's name", () => {
    const { d, dw } = setup();
    expect(() => d(0x6102, 2)).toThrow(
      "GICD: a 2-byte read of GICD_IROUTER32 at offset 0x6102 is not allowed; the GIC takes aligned 8-byte or 4-byte accesses to this register",
    );
    expect(() => dw(0x0, 1, 8)).toThrow("GICD: a 8-byte write of GICD_CTLR at offset 0x0 is not allowed");
  });
});

describe("GICv3 redistributors", () => {
  it("describe each vCPU's frame in GICR_TYPER, with Last on the final one", () => {
    const { r } = setup(4);
    expect(redistributorRegionSize(4)).toBe(0x8_0000);
    expect(r(0x8, 8)).toBe(0x0000_0000_0000_0000n);
    expect(r(0x2_0008, 8)).toBe(0x0000_0001_0000_0100n);
    expect(r(0x6_0008, 8)).toBe(0x0000_0003_0000_0310n);
    expect(r(0x6_000c, 4)).toBe(3n);
    expect(r(0x6_ffe8)).toBe(0x3bn);
  });

  it("wakes up through GICR_WAKER", () => {
    const { r, rw } = setup(2);
    expect(r(0x2_0014)).toBe(6n);
    rw(0x2_0014, 0);
    expect(r(0x2_0014)).toBe(0n);
    expect(r(0x14)).toBe(6n);
  });

  it("holds the SGIs and PPIs of its own vCPU, whichever vCPU accesses it", () => {
    const { r, rw, d, dw, injected } = setup(2);
    dw(0x0, 2);
    rw(0x3_0080, 0xffff_ffff, 4, 0); // vCPU 1's IGROUPR0, written by vCPU 0
    rw(0x3_0400 + 27, 0xa0, 1, 0);
    rw(0x3_0100, 1 << 27, 4, 0);
    expect(r(0x3_0100, 4, 0)).toBe(BigInt(1 << 27));
    expect(r(0x1_0100, 4, 1)).toBe(0n);
    expect(r(0x3_041b, 1)).toBe(0xa0n);
    rw(0x3_0200, 1 << 27);
    expect(injected).toEqual(["1:27:20:1@0"]);
    expect(r(0x3_0200)).toBe(BigInt(1 << 27));
    // Only the first register of each bank exists in the SGI frame.
    rw(0x3_0104, 0xffff_ffff);
    expect(r(0x3_0104)).toBe(0n);
    expect(d(0x100)).toBe(0n);
    expect(r(0x3_0c00)).toBe(0xaaaa_aaaan);
  });

  it("never throws anything but GuestAccessError, whatever the guest does", () => {
    const { gicd, gicr } = setup(2);
    let seed = 99;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
    for (let i = 0; i < 20000; i++) {
      const size = ([1, 2, 4, 8] as const)[next() % 4]!;
      const device = next() & 1 ? gicd : gicr;
      const offset = next() % (device === gicd ? 0x1_0000 : 0x4_0000);
      try {
        if (next() & 1) device.write(offset, size, BigInt(next()) << BigInt(next() % 40), next() % 2);
        else device.read(offset, size, next() % 2);
      } catch (error) {
        expect(error).toBeInstanceOf(GuestAccessError);
      }
    }
  });
});

describe("GICv3 system registers", () => {
  it("decodes ICC_SGI1R_EL1 target lists, IRM and range selectors", () => {
    expect(sgiTargets(0b1010n, 0, 4)).toEqual([1, 3]);
    expect(sgiTargets(1n << 40n, 2, 4)).toEqual([0, 1, 3]);
    expect(sgiTargets((1n << 16n) | 1n, 0, 4)).toEqual([]); // Aff1 = 1
    expect(sgiTargets((1n << 44n) | 1n, 0, 4)).toEqual([]); // RS = 1: vCPUs 16..31
    expect(sgiTargets((2n << 48n) | 1n, 0, 4)).toEqual([]); // Aff3 = 2
  });

  it("raises SGIs from a trapped ICC_SGI1R_EL1 write and advances the PC", () => {
    const { vgic, rw, injected } = setup(2);
    vgic.setControl(3);
    rw(0x3_0100, 0xffff); // vCPU 1's SGIs enabled
    const regs = new FakeRegisters();
    regs.pc = 0x1000n;
    regs.setX(4, (5n << 24n) | 0b10n);
    expect(handleGicSysreg(vgic, 0, regs, sysregEsr(3, 0, 12, 11, 5, 4, false))).toBe(true);
    expect(injected).toEqual(["1:5:0:0@0"]);
    expect(regs.pc).toBe(0x1004n);
  });

  it("reads ICC_SRE_EL1 as 0x7 and refuses other registers", () => {
    const { vgic } = setup(1);
    const regs = new FakeRegisters();
    expect(handleGicSysreg(vgic, 0, regs, sysregEsr(3, 0, 12, 12, 5, 9, true))).toBe(true);
    expect(regs.getX(9)).toBe(7n);
    expect(handleGicSysreg(vgic, 0, regs, sysregEsr(3, 0, 12, 11, 5, 9, true))).toBe(false);
    expect(handleGicSysreg(vgic, 0, regs, sysregEsr(3, 0, 1, 0, 0, 9, true))).toBe(false);
    expect(regs.pc).toBe(4n);
    expect(decodeSysregAccess(sysregEsr(3, 3, 14, 0, 2, 1, true))).toEqual({
      op0: 3,
      op1: 3,
      crn: 14,
      crm: 0,
      op2: 2,
      rt: 1,
      read: true,
    });
  });
});
