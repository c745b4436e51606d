import { describe, expect, it } from "vitest";
import { GuestAccessError } from "../../src/libvmm/fault/mmio.ts";
import type { AccessSize } from "../../src/machine/devices/mmio.ts";
import { Gicv2Distributor } from "../../src/libvmm/vgic/gicv2-distributor.ts";
import { makeVgic } from "./vgic-helpers.ts";

function setup(vcpuCount = 2) {
  const ctx = makeVgic(2, vcpuCount);
  const gicd = new Gicv2Distributor(ctx.vgic);
  const r = (offset: number, size: AccessSize = 4, vcpu = 0) => gicd.read(offset, size, vcpu);
  const w = (offset: number, value: number | bigint, size: AccessSize = 4, vcpu = 0) =>
    gicd.write(offset, size, BigInt(value), vcpu);
  return { ...ctx, gicd, r, w };
}

describe("GICv2 distributor: identification", () => {
  it("reports lines, CPUs, implementer and architecture version", () => {
    const { r, w } = setup(2);
    expect(r(0x004)).toBe(0x27n); // 256 lines → ITLinesNumber 7; CPUNumber 1
    expect(r(0x008)).toBe(0x0200_043bn);
    expect(r(0xfe8)).toBe(0x2bn);
    expect([0xff0, 0xff4, 0xff8, 0xffc].map((o) => r(o))).toEqual([0x0dn, 0xf0n, 0x05n, 0xb1n]);
    w(0x004, 0xffff_ffff);
    expect(r(0x004)).toBe(0x27n);
  });

  it("keeps the two group-enable bits of GICD_CTLR", () => {
    const { r, w } = setup();
    w(0x000, 0xffff_ffff);
    expect(r(0x000)).toBe(3n);
    w(0x000, 0);
    expect(r(0x000)).toBe(0n);
  });
});

describe("GICv2 distributor: per-interrupt registers", () => {
  it("sets and clears enables through ISENABLER/ICENABLER; SGIs stay enabled", () => {
    const { r, w } = setup();
    w(0x104, 0x0000_0006); // IRQs 33, 34
    expect(r(0x104)).toBe(6n);
    expect(r(0x184)).toBe(6n);
    w(0x184, 0x2);
    expect(r(0x104)).toBe(4n);
    expect(r(0x100)).toBe(0xffffn);
    w(0x180, 0xffff_ffff);
    expect(r(0x100)).toBe(0xffffn);
  });

  it("sets pending, delivers when enabled, and clears pending", () => {
    const { r, w, injected } = setup();
    w(0x000, 1);
    w(0x828, 0x01, 1); // IRQ 40 targets CPU 0; with no target an SPI stays pending
    w(0x204, 1 << 8); // IRQ 40 pending
    expect(r(0x204)).toBe(0x100n);
    expect(injected).toEqual([]);
    w(0x104, 1 << 8);
    expect(injected).toEqual(["0:40:0:0@0"]);
    w(0x284, 1 << 8);
    expect(r(0x204)).toBe(0n);
    // SGI pending bits are read-only here.
    w(0x200, 0xffff);
    expect(r(0x200)).toBe(0n);
  });

  it("sets and clears active state", () => {
    const { r, w } = setup();
    w(0x304, 0x8000_0001);
    expect(r(0x384)).toBe(0x8000_0001n);
    w(0x384, 1);
    expect(r(0x304)).toBe(0x8000_0000n);
  });

  it("keeps five priority bits, per byte and per word, banked per CPU below 32", () => {
    const { r, w } = setup();
    w(0x420, 0xffee_ddcc); // IRQs 32..35
    expect(r(0x420)).toBe(0xf8e8_d8c8n);
    w(0x422, 0x17, 1);
    expect(r(0x420)).toBe(0xf810_d8c8n);
    expect(r(0x423, 1)).toBe(0xf8n);
    w(0x41c, 0xa0, 1, 0); // PPI 28 on CPU 0
    expect(r(0x41c, 1, 0)).toBe(0xa0n);
    expect(r(0x41c, 1, 1)).toBe(0n);
  });

  it("routes SPIs by ITARGETSR and reads each CPU's own mask for private interrupts", () => {
    const { r, w, vgic, injected } = setup(2);
    expect(r(0x800, 4, 0)).toBe(0x0101_0101n);
    expect(r(0x81c, 1, 1)).toBe(2n);
    w(0x800, 0x0303_0303); // read-only for SGIs/PPIs
    expect(r(0x800, 4, 1)).toBe(0x0202_0202n);
    w(0x828, 0xff, 1); // IRQ 40: CPUs that do not exist are dropped
    expect(r(0x828, 1)).toBe(3n);
    w(0x828, 0x02, 1);
    w(0x000, 1);
    w(0x104, 1 << 8);
    vgic.registerIrq(0, 40);
    vgic.inject(0, 40);
    expect(injected).toEqual(["1:40:0:0@0"]);
  });

  it("makes ITARGETSR RAZ/WI on a uniprocessor and still delivers to CPU 0", () => {
    const { r, w, vgic, injected } = setup(1);
    expect(r(0x828)).toBe(0n);
    w(0x828, 0xff);
    expect(r(0x828)).toBe(0n);
    w(0x000, 1);
    w(0x104, 1 << 8);
    vgic.registerIrq(0, 40);
    vgic.inject(0, 40);
    expect(injected).toEqual(["0:40:0:0@0"]);
  });

  it("stores the edge bit of ICFGR for SPIs; SGIs read as edge and PPIs as level", () => {
    const { r, w } = setup();
    expect(r(0xc00)).toBe(0xaaaa_aaaan);
    expect(r(0xc04)).toBe(0n);
    w(0xc04, 0xffff_ffff);
    expect(r(0xc04)).toBe(0n);
    w(0xc08, 0xffff_ffff);
    expect(r(0xc08)).toBe(0xaaaa_aaaan);
  });

  it("stores groups", () => {
    const { r, w } = setup();
    w(0x084, 0x1234_5678);
    expect(r(0x084)).toBe(0x1234_5678n);
  });

  it("reads and ignores writes to interrupts beyond the implemented lines", () => {
    const { r, w } = setup();
    w(0x13c, 0xffff_ffff); // ISENABLER15: IRQs 480..511
    expect(r(0x13c)).toBe(0n);
    w(0x7f8, 0xffff_ffff);
    expect(r(0x7f8)).toBe(0n);
  });
});

describe("GICv2 distributor: SGIs", () => {
  it("sends to a target list, to all others and to self", () => {
    const { w, r, injected } = setup(2);
    w(0x000, 1);
    w(0xf00, (0 << 24) | (0b10 << 16) | 5, 4, 0);
    expect(injected).toEqual(["1:5:0:0@0"]);
    w(0xf00, (1 << 24) | 6, 4, 1);
    expect(injected.at(-1)).toBe("0:6:0:0@0");
    w(0xf00, (2 << 24) | 7, 4, 1);
    expect(injected.at(-1)).toBe("1:7:0:0@1");
    w(0xf00, (3 << 24) | 8, 4, 1); // reserved filter
    expect(injected).toHaveLength(3);
    expect(r(0xf00)).toBe(0n);
    // CPU 1 sees SGI 5 pending from source CPU 0, and SGI 7 from itself.
    expect(r(0xf14, 4, 1)).toBe(0x0200_0100n);
    expect(r(0xf24, 4, 1)).toBe(0x0200_0100n);
  });

  it("tracks one pending instance per source and re-delivers after each EOI", () => {
    const { w, r, vgic, injected } = setup(2);
    w(0x000, 1);
    w(0xf20, 0x03, 1, 0); // SGI 0 on CPU 0 pending from CPUs 0 and 1
    expect(r(0xf10, 1, 0)).toBe(3n);
    expect(injected).toEqual(["0:0:0:0@0"]);
    vgic.handleMaintenance(0, 0);
    expect(injected).toEqual(["0:0:0:0@0", "0:0:0:0@0"]);
    expect(r(0xf10, 1, 0)).toBe(2n);
    vgic.handleMaintenance(0, 0);
    expect(r(0xf10, 1, 0)).toBe(0n);
    w(0xf23, 0xff, 1, 0); // SGI 3: only existing source CPUs latch
    expect(r(0xf13, 1, 0)).toBe(3n);
    w(0xf13, 0x01, 1, 0);
    expect(r(0xf13, 1, 0)).toBe(2n);
  });
});

describe("GICv2 distributor: robustness", () => {
  it("never throws anything but GuestAccessError, whatever the guest writes", () => {
    const { gicd } = setup(2);
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
    let rejected = 0;
    for (let i = 0; i < 20000; i++) {
      const size = ([1, 2, 4, 8] as const)[next() % 4]!;
      const offset = next() % 0x1000;
      try {
        if (next() & 1) gicd.write(offset, size, BigInt(next()) * BigInt(next()), next() % 2);
        else gicd.read(offset, size, next() % 2);
      } catch (error) {
        expect(error).toBeInstanceOf(GuestAccessError);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(0);
  });

  it("treats reserved offsets as RAZ/WI at any size", () => {
    const { r, w } = setup();
    for (const size of [1, 2, 4, 8] as const) {
      w(0x010, 0xffff_ffff, size);
      expect(r(0x010, size)).toBe(0n);
      expect(r(0xf40, size)).toBe(0n);
    }
  });

  it("reports accesses of the wrong size with the register's name", () => {
    const { r, w } = setup();
    expect(() => r(0x000, 2)).toThrow(
      "GICD: a 2-byte read of GICD_CTLR at offset 0x0 is not allowed; the GIC takes aligned 4-byte accesses to this register",
    );
    expect(() => w(0x104, 1, 1)).toThrow(
      "GICD: a 1-byte write of GICD_ISENABLER1 at offset 0x104 is not allowed; the GIC takes aligned 4-byte accesses to this register",
    );
    expect(() => w(0x422, 1, 2)).toThrow(
      "GICD: a 2-byte write of GICD_IPRIORITYR8 at offset 0x422 is not allowed; the GIC takes aligned 4-byte or 1-byte accesses to this register",
    );
    expect(() => w(0xf00, 1, 8)).toThrow("GICD: a 8-byte write of GICD_SGIR at offset 0xf00 is not allowed");
    expect(() => r(0xf12, 2)).toThrow(
      "GICD: a 2-byte read of GICD_CPENDSGIR0 at offset 0xf12 is not allowed",
    );
    expect(() => r(0xfe9, 1)).toThrow("GICD: a 1-byte read of an ID register at offset 0xfe9 is not allowed");
    expect(() => r(0x401, 4)).toThrow("GICD_IPRIORITYR0 at offset 0x401");
  });
});
