import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { guestDtb } from "../../src/guest/dtb/guest-dtb.ts";
import { guestLayout } from "../../src/guest/layout.ts";
import { boardNamed } from "../../src/machine/boards/index.ts";
import { Guest } from "../../src/libvmm/guest.ts";
import { GuestRam } from "../../src/libvmm/guest-ram.ts";
import { bootLinux, describeBoot, loadLinux } from "../../src/libvmm/linux.ts";
import { createVmmLog } from "../../src/libvmm/log.ts";
import { FakeVcpuControl } from "./fake-vcpu.ts";

const SIMPLE_LAYOUT = guestLayout(boardNamed());

const RAM_BASE = 0x4000_0000;
const RAM_SIZE = 0x1000_0000;

/** A tiny arm64 Image: a valid 64-byte header and a recognisable body. */
function fakeImage(textOffset = 0x8_0000, imageSize = 0x20_0000): Uint8Array {
  const bytes = new Uint8Array(0x1000);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x1400_0010, true); // b +0x40
  view.setBigUint64(8, BigInt(textOffset), true);
  view.setBigUint64(16, BigInt(imageSize), true);
  view.setBigUint64(24, 0b1010n, true); // little-endian, 4 KiB pages
  view.setUint32(56, 0x644d_5241, true);
  bytes.fill(0xab, 64);
  return bytes;
}

function ram() {
  return new GuestRam([{ gpa: RAM_BASE, bytes: new Uint8Array(RAM_SIZE) }]);
}

describe("loadLinux", () => {
  it("places the kernel at RAM base + text_offset, the DTB and the initrd where /chosen says", () => {
    const guestRam = ram();
    const initrd = new Uint8Array(0x3000).fill(0x5a);
    const dtb = guestDtb(SIMPLE_LAYOUT.deviceTree(initrd.length));
    const boot = loadLinux(guestRam, { kernel: fakeImage(), dtb, initrd }, 0x4f00_0000);
    expect(boot).toEqual({
      kernelAddress: 0x4008_0000,
      rawBinary: false,
      dtbAddress: 0x4f00_0000,
      initrdAddress: 0x4d00_0000,
      start: { pc: 0x4008_0000n, x0: 0x4f00_0000n },
    });
    expect(guestRam.view(0x4008_0038, 4)).toEqual(new Uint8Array([0x41, 0x52, 0x4d, 0x64]));
    expect(guestRam.view(0x4f00_0000, dtb.length)).toEqual(dtb);
    expect(guestRam.view(0x4d00_0000, initrd.length).every((b) => b === 0x5a)).toBe(true);
    expect(describeBoot(boot)).toBe("kernel at 0x40080000, DTB at 0x4f000000, initrd at 0x4d000000");
  });

  it("accepts a gzip-compressed Image", () => {
    const guestRam = ram();
    const image = fakeImage(0);
    const boot = loadLinux(
      guestRam,
      { kernel: gzipSync(image), dtb: guestDtb(SIMPLE_LAYOUT.deviceTree(0)) },
      0x4f00_0000,
    );
    expect(boot.kernelAddress).toBe(RAM_BASE);
    expect(guestRam.view(RAM_BASE, image.length)).toEqual(image);
  });

  it("starts vCPU 0 at the kernel with x0 = DTB, EL1h and DAIF masked", () => {
    const control = new FakeVcpuControl(1);
    const guest = new Guest({
      name: "linux",
      vcpuCount: 1,
      control,
      log: createVmmLog("vmm", () => undefined),
    });
    bootLinux(guest, ram(), { kernel: fakeImage(), dtb: guestDtb(SIMPLE_LAYOUT.deviceTree(0)) }, 0x4f00_0000);
    expect(control.regs[0]!.getX(0)).toBe(0x4f00_0000n);
    expect(control.regs[0]!.pstate).toBe(0x3c5);
    expect(control.calls).toEqual(["SCTLR_EL1 0 0x30d00800", "CNTV_CTL_EL0 0 0x0", "restart 0 0x40080000"]);
  });

  it("refuses an initrd that the DTB's /chosen does not describe, writing nothing", () => {
    const guestRam = ram();
    const dtb = guestDtb({ ...SIMPLE_LAYOUT.deviceTree(0), chosen: { bootargs: "console=ttyAMA0" } });
    expect(() =>
      loadLinux(guestRam, { kernel: fakeImage(), dtb, initrd: new Uint8Array(16) }, 0x4f00_0000),
    ).toThrow(
      "the guest cannot boot with this layout:\n  - the DTB's /chosen has no linux,initrd-start/end, so there is " +
        "nowhere to load the 16-byte initrd; add both properties covering exactly the initrd",
    );
    expect(guestRam.view(0x4008_0000, 64).every((b) => b === 0)).toBe(true);
  });

  it("reports a DTB range too small for the initrd and a misaligned DTB, writing nothing", () => {
    const guestRam = ram();
    const dtb = guestDtb(SIMPLE_LAYOUT.deviceTree(0x1000));
    expect(() =>
      loadLinux(guestRam, { kernel: fakeImage(), dtb, initrd: new Uint8Array(0x2000) }, 0x4f00_0004),
    ).toThrow(
      "the guest cannot boot with this layout:\n" +
        "  - the DTB address 0x4f000004 is not 8-byte aligned (off by 4)\n" +
        "  - the DTB's /chosen initrd range 0x4d000000-0x4d001000 is 4096 bytes (0x1000) too small for the " +
        "8192-byte initrd; Linux would see a truncated archive",
    );
    expect(guestRam.view(0x4f00_0000, 16).every((b) => b === 0)).toBe(true);
  });

  it("rejects a kernel that is not an arm64 Image", () => {
    const vmlinux = new Uint8Array(128);
    vmlinux.set([0x7f, 0x45, 0x4c, 0x46]); // an ELF file
    expect(() =>
      loadLinux(
        ram(),
        { kernel: vmlinux, dtb: guestDtb(SIMPLE_LAYOUT.deviceTree(0)), kernelSource: "vmlinux" },
        0x4f00_0000,
      ),
    ).toThrow("vmlinux: not an arm64 Linux Image: the magic at offset 56 is 0x00000000");
  });

  it("loads a raw binary at RAM base + 0x80000 and says so", () => {
    const guestRam = ram();
    const program = Uint8Array.of(0x1f, 0x20, 0x03, 0xd5, 0x00, 0x00, 0x00, 0x14);
    const boot = loadLinux(
      guestRam,
      { kernel: program, dtb: guestDtb(SIMPLE_LAYOUT.deviceTree(undefined)) },
      0x4f00_0000,
    );
    expect(boot.kernelAddress).toBe(0x4008_0000);
    expect(guestRam.view(0x4008_0000, 8)).toEqual(program);
    expect(describeBoot(boot)).toBe(
      "raw binary (no arm64 Image header) at 0x40080000, RAM base + 0x80000 as QEMU loads one, DTB at 0x4f000000, no initrd",
    );
  });

  it("rejects RAM whose base is not 2 MiB aligned for the kernel", () => {
    const guestRam = new GuestRam([{ gpa: RAM_BASE + 0x1000, bytes: new Uint8Array(0x400_0000) }]);
    expect(() =>
      loadLinux(
        guestRam,
        { kernel: fakeImage(), dtb: guestDtb(SIMPLE_LAYOUT.deviceTree(0)) },
        RAM_BASE + 0x300_0000,
      ),
    ).toThrow("the kernel at 0x40081000 must sit at a 2 MiB-aligned address plus its text_offset 0x80000");
  });
});

describe("GuestRam", () => {
  it("checks its regions and the ranges it is asked for", () => {
    expect(() => new GuestRam([])).toThrow("guest RAM: 0 regions given; libvmm supports 1 to 3");
    expect(
      () =>
        new GuestRam([
          { gpa: 0x4000_0000, bytes: new Uint8Array(0x2000) },
          { gpa: 0x4000_1000, bytes: new Uint8Array(0x1000) },
        ]),
    ).toThrow("guest RAM: regions [0x40000000..0x40002000) and [0x40001000..0x40002000) overlap");
    const two = new GuestRam([
      { gpa: 0x8000_0000, bytes: new Uint8Array(0x1000) },
      { gpa: 0x4000_0000, bytes: new Uint8Array(0x1000) },
    ]);
    expect(two.base).toBe(0x4000_0000);
    expect(two.contains(0x8000_0fff)).toBe(true);
    expect(two.contains(0x4000_0fff, 2)).toBe(false);
    expect(() => two.view(0x4000_0ff0, 0x20)).toThrow(
      "guest RAM: [0x40000ff0..0x40001010) is not inside one RAM region ([0x40000000..0x40001000), [0x80000000..0x80001000))",
    );
  });
});
