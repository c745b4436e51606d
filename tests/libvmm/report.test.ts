import { describe, expect, it } from "vitest";
import { node, str, u32, writeFdt } from "../../src/libvmm/fdt.ts";
import { guestDtb } from "../../src/guest/dtb/guest-dtb.ts";
import { guestLayout } from "../../src/guest/layout.ts";
import { boardNamed } from "../../src/machine/boards/index.ts";
import { emulateDataAbort } from "../../src/libvmm/fault/data-abort.ts";
import { deviceTreeRegions, nodesClaiming } from "../../src/libvmm/fault/device-tree-regions.ts";
import { GuestAccessError, MmioRegions } from "../../src/libvmm/fault/mmio.ts";
import {
  formatFaultReport,
  reportUnhandledFault,
  type UnhandledFault,
} from "../../src/libvmm/fault/report.ts";
import { createVmmLog } from "../../src/libvmm/log.ts";
import { FakeRegisters, dataAbortEsr } from "./fake-vcpu.ts";

const SIMPLE_LAYOUT = guestLayout(boardNamed());

const simpleTree = deviceTreeRegions(guestDtb(SIMPLE_LAYOUT.deviceTree(0x1000)));

describe("deviceTreeRegions", () => {
  it("lists the memory-mapped nodes of the simple layout's DTB", () => {
    expect(simpleTree.map((r) => `${r.path} 0x${r.base.toString(16)}+0x${r.size.toString(16)}`)).toEqual([
      "/memory@40000000 0x40000000+0x10000000",
      "/intc@8000000 0x8000000+0x10000",
      "/intc@8000000 0x8010000+0x10000",
      "/pl011@9000000 0x9000000+0x1000",
    ]);
    expect(simpleTree.find((r) => r.path === "/pl011@9000000")?.compatible).toEqual([
      "arm,pl011",
      "arm,primecell",
    ]);
  });

  it("translates through bus ranges, skips unmapped buses and notes disabled nodes", () => {
    const tree = node(
      "",
      [
        ["#address-cells", u32(1)],
        ["#size-cells", u32(1)],
      ],
      [
        node(
          "soc",
          [
            ["#address-cells", u32(1)],
            ["#size-cells", u32(1)],
            ["ranges", u32(0x0, 0x3000_0000, 0x100_0000)],
          ],
          [
            node("uart@860000", [
              ["reg", u32(0x86_0000, 0x1_0000)],
              ["compatible", str("fsl,imx8mp-uart")],
              ["status", str("disabled")],
            ]),
          ],
        ),
        node(
          "i2c-bus",
          [
            ["#address-cells", u32(1)],
            ["#size-cells", u32(0)],
          ],
          [node("eeprom@50", [["reg", u32(0x50)]])],
        ),
      ],
    );
    const regions = deviceTreeRegions(writeFdt({ root: tree, reservations: [], bootCpuId: 0 }));
    expect(regions).toEqual([
      {
        path: "/soc/uart@860000",
        base: 0x3086_0000,
        size: 0x1_0000,
        compatible: ["fsl,imx8mp-uart"],
        disabled: true,
      },
    ]);
    expect(nodesClaiming(regions, 0x3086_ffff)).toHaveLength(1);
    expect(nodesClaiming(regions, 0x3087_0000)).toHaveLength(0);
  });
});

describe("formatFaultReport", () => {
  const regs = new FakeRegisters();
  regs.setX(1, 0x1234_5641n);
  const context = {
    vmName: "linux",
    vcpuId: 0,
    pc: 0xffff_8000_1034_a0c8n,
    instruction: 0xb9000001, // str w1, [x0]
    regs,
    deviceTree: simpleTree,
  };

  function unhandled(ipa: number, esr: number, regions = new MmioRegions()): UnhandledFault {
    const outcome = emulateDataAbort(regions, { vcpuId: 0, regs: new FakeRegisters(), ipa, esr });
    if (outcome.kind === "emulated") throw new Error("expected a fault");
    return { kind: "data-abort", esr, ipa, outcome };
  }

  it("names the VM, vCPU, address, access, PC, instruction, node and the three remedies", () => {
    const esr = dataAbortEsr({ size: 4, srt: 1, sf: false, write: true, dfsc: 0x06 });
    const lines: string[] = [];
    reportUnhandledFault(
      createVmmLog("vmm", (l) => lines.push(l)),
      context,
      unhandled(0x900_0000, esr),
    );
    expect(lines).toEqual([
      "vmm|ERROR: linux: unexpected memory fault on vCPU 0",
      "vmm|ERROR:   address: 0x9000000 (guest-physical), write of 4 bytes (word) from w1 = 0x12345641",
      "vmm|ERROR:   pc: 0xffff80001034a0c8  str w1, [x0]",
      "vmm|ERROR:   syndrome: ESR_EL2 0x93810046 (EC 0x24), translation fault, level 2",
      "vmm|ERROR:   cause: nothing is mapped or emulated at 0x9000000 for this VM",
      'vmm|ERROR:   device tree: /pl011@9000000 (compatible "arm,pl011", "arm,primecell") claims [0x9000000..0x9001000)',
      'vmm|ERROR:   to fix it, do one of these (libvmm manual, "Virtual memory faults"):',
      "vmm|ERROR:     1. give the guest access: map a memory region covering 0x9000000 into virtual machine 'linux' (passthrough)",
      'vmm|ERROR:     2. disable the device in the device tree: add status = "disabled" to /pl011@9000000',
      'vmm|ERROR:     3. configure the guest kernel without the driver for "arm,pl011", so that it does not touch the device',
      "vmm|ERROR:   vCPU 0 of 'linux' is stopped; the rest of the system keeps running",
    ]);
  });

  it("says when no node claims the address, and describes reads", () => {
    const esr = dataAbortEsr({ size: 8, srt: 3, write: false });
    const lines = formatFaultReport({ ...context, instruction: 0xf9400003 }, unhandled(0x5000_0000, esr));
    expect(lines[1]).toBe("  address: 0x50000000 (guest-physical), read of 8 bytes (doubleword) into x3");
    expect(lines[2]).toBe("  pc: 0xffff80001034a0c8  ldr x3, [x0]");
    expect(lines).toContain("  device tree: no node claims 0x50000000");
    expect(lines).toContain(
      '    2. disable the device in the device tree: add status = "disabled" to the device\'s node',
    );
  });

  it("explains an access the syndrome does not describe (ISV = 0), naming the instruction", () => {
    const regions = new MmioRegions();
    regions.register("virtio-console", 0x13_0000, 0x200, { read: () => 0n, write: () => undefined });
    const esr = dataAbortEsr({ isv: false, size: 1, srt: 0, write: false });
    const lines = formatFaultReport(
      { ...context, instruction: 0xa9400801 },
      unhandled(0x13_0000, esr, regions),
    );
    expect(lines[1]).toBe(
      "  address: 0x130000 (guest-physical), read of unknown size (the syndrome does not say)",
    );
    expect(lines[4]).toBe(
      "  cause: 'ldp x1, x2, [x0]' does not describe its access in the syndrome (ISV = 0: a pair, write-back or " +
        "SIMD&FP access), so the VMM cannot emulate it at the emulated device 'virtio-console'",
    );
    expect(lines.some((l) => l.includes("to fix it"))).toBe(false);
  });

  it("passes on an emulated device's refusal", () => {
    const regions = new MmioRegions();
    regions.register("vGIC distributor", 0x800_0000, 0x1000, {
      read: () => {
        throw new GuestAccessError("GICD: a 2-byte read of GICD_CTLR at offset 0x0 is not allowed");
      },
      write: () => undefined,
    });
    const esr = dataAbortEsr({ size: 2, srt: 0, write: false });
    const lines = formatFaultReport(context, unhandled(0x800_0000, esr, regions));
    expect(lines).toContain(
      "  cause: the emulated device 'vGIC distributor' refused the access: GICD: a 2-byte read of GICD_CTLR at offset 0x0 is not allowed",
    );
    expect(lines).toContain(
      '  device tree: /intc@8000000 (compatible "arm,cortex-a15-gic") claims [0x8000000..0x8010000)',
    );
  });

  it("says which right a permission fault lacks, without the remedies for unmapped addresses", () => {
    const esr = dataAbortEsr({ size: 4, srt: 1, sf: false, write: true, dfsc: 0x0f });
    const lines = formatFaultReport(context, unhandled(0x4000_1000, esr));
    expect(lines).toContain(
      "  cause: virtual machine 'linux' maps 0x40001000 without this right (a permission fault): add \"w\" to the perms of its <map>",
    );
    expect(lines.some((l) => l.includes("to fix it"))).toBe(false);
    const fetch = formatFaultReport(
      { vmName: "linux", vcpuId: 0, pc: 0x4000_2000n },
      { kind: "instruction-abort", esr: ((0x20 << 26) | (1 << 25) | 0x0f) >>> 0, ipa: 0x4000_2000 },
    );
    expect(fetch[1]).toBe(
      "  address: 0x40002000 (guest-physical): the guest executed from memory its map does not make executable",
    );
    expect(fetch).toContain(
      "  cause: virtual machine 'linux' maps 0x40002000 without this right (a permission fault): add \"x\" to the perms of its <map>",
    );
  });

  it("reports an instruction fetch from nowhere", () => {
    const esr = ((0x20 << 26) | (1 << 25) | 0x06) >>> 0;
    const lines = formatFaultReport(
      { vmName: "linux", vcpuId: 1, pc: 0x6000_0000n },
      { kind: "instruction-abort", esr, ipa: 0x6000_0000 },
    );
    expect(lines.slice(0, 4)).toEqual([
      "linux: unexpected instruction fetch fault on vCPU 1",
      "  address: 0x60000000 (guest-physical): the guest jumped to an address with no memory behind it",
      "  pc: 0x60000000  (instruction not readable)",
      "  syndrome: ESR_EL2 0x82000006 (EC 0x20), translation fault, level 2",
    ]);
  });
});
