import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileDts, loadUserDeviceTree } from "../../src/guest/dtb/user-dtb.ts";
import {
  cellsOf,
  findNode,
  getProperty,
  node,
  numberOf,
  readFdt,
  str,
  stringsOf,
  u32,
  u64,
  writeFdt,
  EMPTY,
} from "../../src/libvmm/fdt.ts";
import { guestDeviceTree, guestDtb, type GuestDeviceTreeDescription } from "../../src/guest/dtb/guest-dtb.ts";
import { guestLayout } from "../../src/guest/layout.ts";
import { boardNamed } from "../../src/machine/boards/index.ts";
import { haveDebianPackages } from "./debian-tools.ts";

const SIMPLE_LAYOUT = guestLayout(boardNamed());

const haveDtc = haveDebianPackages(["device-tree-compiler"]);

const GICV3_GUEST: GuestDeviceTreeDescription = {
  memory: [
    { base: 0x4000_0000, size: 0x800_0000 },
    { base: 0x1_0000_0000, size: 0x1000_0000 },
  ],
  cpus: 4,
  psciMethod: "hvc",
  gic: {
    version: 3,
    distributor: { base: 0x800_0000, size: 0x1_0000 },
    redistributor: { base: 0x80a_0000, size: 0xf6_0000 },
  },
  virtio: [
    { base: 0xa00_3000, irq: 79 },
    { base: 0xa00_3200, size: 0x200, irq: 80 },
  ],
  chosen: {
    bootargs: "console=hvc0",
    stdoutPath: "/virtio_mmio@a003000",
    initrd: { base: 0x4700_0000, size: 12345 },
  },
};

function dtcDecompile(dtb: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), "virtkit-dtb-"));
  const file = join(dir, "guest.dtb");
  writeFileSync(file, dtb);
  const result = spawnSync("dtc", ["-I", "dtb", "-O", "dts", file], { encoding: "utf8" });
  expect(result.stderr).not.toMatch(/ERROR/);
  expect(result.status).toBe(0);
  return result.stdout;
}

describe("flattened device tree writer and reader", () => {
  it("round-trips a tree exactly, including reservations, NUL-free empty properties and nesting", () => {
    const tree = {
      root: node(
        "",
        [
          ["compatible", str("a,b", "c,d")],
          ["#address-cells", u32(2)],
        ],
        [
          node("soc", [["ranges", EMPTY]], [node("uart@1000", [["reg", u64(0x1000, 0x100)]])]),
          node("chosen", [["bootargs", str("console=ttyAMA0")]]),
        ],
      ),
      reservations: [{ address: 0x4800_0000n, size: 0x10_0000n }],
      bootCpuId: 0,
    };
    const blob = writeFdt(tree);
    const read = readFdt(blob, "test");
    expect(read).toEqual(tree);
    expect(writeFdt(read)).toEqual(blob);
    expect(stringsOf(getProperty(read.root, "compatible")!)).toEqual(["a,b", "c,d"]);
    expect(cellsOf(getProperty(findNode(read.root, "/soc/uart")!, "reg")!)).toEqual([0, 0x1000, 0, 0x100]);
  });

  it("round-trips the generated guest device trees", () => {
    for (const description of [SIMPLE_LAYOUT.deviceTree(1_000_000), GICV3_GUEST]) {
      const blob = guestDtb(description);
      const tree = readFdt(blob, "guest");
      expect(tree.root).toEqual(guestDeviceTree(description));
      expect(writeFdt(tree)).toEqual(blob);
    }
  });

  it("puts the initrd range, memory, PSCI and timer PPIs where Linux looks for them", () => {
    const root = readFdt(guestDtb(GICV3_GUEST), "guest").root;
    const chosen = findNode(root, "/chosen")!;
    expect(numberOf(getProperty(chosen, "linux,initrd-start")!)).toBe(0x4700_0000);
    expect(numberOf(getProperty(chosen, "linux,initrd-end")!)).toBe(0x4700_0000 + 12345);
    expect(stringsOf(getProperty(chosen, "stdout-path")!)).toEqual(["/virtio_mmio@a003000"]);
    expect(findNode(root, "/memory@100000000")).toBeDefined();
    expect(stringsOf(getProperty(findNode(root, "/psci")!, "method")!)).toEqual(["hvc"]);
    expect(findNode(root, "/cpus")!.children.map((c) => c.name)).toEqual([
      "cpu@0",
      "cpu@1",
      "cpu@2",
      "cpu@3",
    ]);
    // GICv3 PPIs carry no CPU mask; secure, non-secure, virtual, hypervisor as on QEMU's virt board.
    expect(cellsOf(getProperty(findNode(root, "/timer")!, "interrupts")!)).toEqual([
      1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4,
    ]);
    expect(cellsOf(getProperty(findNode(root, "/virtio_mmio@a003000")!, "interrupts")!)).toEqual([0, 47, 1]);
  });

  it("gives GICv2 timer PPIs the mask of the CPUs they reach", () => {
    const root = readFdt(guestDtb(SIMPLE_LAYOUT.deviceTree(0)), "guest").root;
    expect(cellsOf(getProperty(findNode(root, "/timer")!, "interrupts")!).slice(0, 3)).toEqual([
      1, 13, 0x104,
    ]);
    expect(stringsOf(getProperty(findNode(root, "/chosen")!, "stdout-path")!)).toEqual(["/pl011@9000000"]);
  });

  it("rejects blobs that are not device trees, or are cut short, saying why", () => {
    const blob = guestDtb(SIMPLE_LAYOUT.deviceTree(0));
    expect(() => readFdt(new Uint8Array(100), "zeros.dtb")).toThrow(
      /zeros.dtb: not a device tree blob: magic 0x00000000/,
    );
    expect(() => readFdt(blob.slice(0, 200), "cut.dtb")).toThrow(
      /cut.dtb: the header says \d+ bytes but the blob has only 200/,
    );
    expect(() => readFdt(blob.slice(0, 20), "tiny.dtb")).toThrow(/too short/);
  });

  it("rejects interrupts that are not SPIs for devices", () => {
    expect(() =>
      guestDtb({ ...SIMPLE_LAYOUT.deviceTree(0), virtio: [{ base: 0xa000000, irq: 27 }] }),
    ).toThrow(/virtio_mmio@a000000: interrupt 27 is not an SPI/);
  });

  describe.skipIf(!haveDtc)("against dtc", () => {
    it("our DTBs decode with dtc -I dtb -O dts", () => {
      const dts = dtcDecompile(guestDtb(SIMPLE_LAYOUT.deviceTree(0x10_0000)));
      expect(dts).toContain('compatible = "arm,pl011\\0arm,primecell";');
      expect(dts).toContain("linux,initrd-start = <0x00 0x4d000000>;");
      expect(dts).toContain("linux,initrd-end = <0x00 0x4d100000>;");
      expect(dts).toContain('method = "smc";');
      expect(dts).toContain('enable-method = "psci";');
      const v3 = dtcDecompile(guestDtb(GICV3_GUEST));
      expect(v3).toContain('compatible = "arm,gic-v3";');
      expect(v3).toContain("reg = <0x01 0x00 0x00 0x10000000>;");
    });

    it("reads what dtc compiles, and accepts a user .dts", () => {
      const dir = mkdtempSync(join(tmpdir(), "virtkit-dts-"));
      const file = join(dir, "board.dts");
      writeFileSync(
        file,
        "/dts-v1/;\n/memreserve/ 0x48000000 0x1000;\n/ { #address-cells = <2>; #size-cells = <2>;\n" +
          '  memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x10000000>; };\n' +
          '  chosen { bootargs = "console=ttyAMA0"; linux,initrd-start = <0x4d000000>; };\n};\n',
      );
      const tree = readFdt(compileDts(file), file);
      expect(tree.reservations).toEqual([{ address: 0x4800_0000n, size: 0x1000n }]);
      expect(numberOf(getProperty(findNode(tree.root, "/chosen")!, "linux,initrd-start")!)).toBe(0x4d00_0000);
      expect(cellsOf(getProperty(findNode(tree.root, "/memory")!, "reg")!)).toEqual([
        0, 0x4000_0000, 0, 0x1000_0000,
      ]);
      expect(loadUserDeviceTree(file)).toEqual(compileDts(file));
      writeFileSync(join(dir, "broken.dts"), "/dts-v1/;\n/ { oops };\n");
      expect(() => compileDts(join(dir, "broken.dts"))).toThrow(/broken.dts: dtc could not compile it/);
    });
  });
});
