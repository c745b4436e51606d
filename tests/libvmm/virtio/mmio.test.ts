// libvmm's virtio-mmio placement: the device on the VMM's emulated MMIO, DMA into guest RAM, its SPI a
// level-triggered interrupt through the vGIC, and accesses from the guest through the data-abort path.
import { describe, expect, it } from "vitest";
import { VirtioBlk, memoryBlockBackend } from "../../../src/machine/devices/virtio/blk.ts";
import { VirtioMmio as R } from "../../../src/machine/devices/virtio/constants.ts";
import {
  LIBVMM_VIRTIO_PLACEMENT,
  addVirtioMmioDevice,
  vgicLevelLine,
} from "../../../src/libvmm/virtio/mmio.ts";
import { dataAbortEsr } from "../fake-vcpu.ts";
import { RAM_BASE, testVmm } from "./harness.ts";

describe("libvmm virtio-mmio placement", () => {
  it("has libvmm's addresses and SPIs: console 0x130000/42, blk 0x150000/43, net 0x160000/44, 0x200 each", () => {
    expect(LIBVMM_VIRTIO_PLACEMENT.console).toEqual({ base: 0x130000, size: 0x200, spi: 42 });
    expect(LIBVMM_VIRTIO_PLACEMENT.blk).toEqual({ base: 0x150000, size: 0x200, spi: 43 });
    expect(LIBVMM_VIRTIO_PLACEMENT.net).toEqual({ base: 0x160000, size: 0x200, spi: 44 });
  });

  it("registers the device on the VMM's MMIO, named after the VM and address, with DMA into guest RAM", () => {
    const t = testVmm();
    const disk = new Uint8Array(16 * 512);
    const blk = addVirtioMmioDevice(t.host, "virtio-blk", LIBVMM_VIRTIO_PLACEMENT.blk, (w) => {
      expect(w.name).toBe("linux: virtio-blk at 0x150000");
      return new VirtioBlk({ ...w, backend: memoryBlockBackend(disk) });
    });
    const region = t.vmm.mmio.find(0x1501fc)!;
    expect(region).toMatchObject({ name: "linux: virtio-blk at 0x150000", base: 0x150000, size: 0x200 });
    expect(region.handler).toBe(blk);
    expect(t.vmm.mmio.find(0x150200)).toBeUndefined();
    // The guest writes a sector through the device: the data comes out of guest RAM.
    t.enable(75);
    const d = t.driver(0x150000);
    const [q] = d.bringUp(1);
    const header = new Uint8Array(16);
    header[0] = 1; // OUT
    const data = new Uint8Array(512).fill(0x77);
    d.addChain(q!, [
      { addr: d.buffer(16, header), len: 16 },
      { addr: d.buffer(512, data), len: 512 },
      { addr: d.buffer(1), len: 1, write: true },
    ]);
    d.notify(q!);
    expect(disk.subarray(0, 512)).toEqual(data);
    expect(t.injected.map((i) => i.intid)).toEqual([75]);
  });

  it("is reached by the guest's loads and stores through the VMM's data-abort emulation", () => {
    const t = testVmm();
    addVirtioMmioDevice(
      t.host,
      "virtio-blk",
      LIBVMM_VIRTIO_PLACEMENT.blk,
      (w) => new VirtioBlk({ ...w, backend: memoryBlockBackend(new Uint8Array(4096)) }),
    );
    const regs = t.control.registers(0);
    const fault = (addr: number, write: boolean, srt: number) =>
      t.vmm.handleFault(0, {
        kind: "VMFault",
        ip: 0x4008_0000n,
        addr: BigInt(addr),
        prefetch: false,
        fsr: dataAbortEsr({ size: 4, srt, write, sf: false }),
      });
    expect(fault(0x150000 + R.MagicValue, false, 3)).toBe(true);
    expect(regs.getX(3)).toBe(0x74726976n);
    expect(fault(0x150000 + R.DeviceID, false, 4)).toBe(true);
    expect(regs.getX(4)).toBe(2n);
    regs.setX(5, 1n);
    expect(fault(0x150000 + R.Status, true, 5)).toBe(true);
    expect(fault(0x150000 + R.Status, false, 6)).toBe(true);
    expect(regs.getX(6)).toBe(1n);
  });

  it("drives its SPI as a level: injected on the rising edge, withdrawn if dropped first, injected again at EOI while high", () => {
    const t = testVmm();
    const line = vgicLevelLine(t.vmm, 0, 74);
    line.set(true);
    expect(t.injected).toEqual([]); // the guest has not enabled it yet: latched
    line.set(false);
    t.enable(74);
    expect(t.injected).toEqual([]); // withdrawn before the guest could take it
    line.set(true);
    expect(t.injected.map((i) => i.intid)).toEqual([74]);
    line.set(false); // the guest acknowledged the device's interrupt status …
    line.set(true); // … and the device raised it again before the EOI
    t.eoi(74);
    expect(t.injected.map((i) => i.intid)).toEqual([74, 74]);
    line.set(false);
    t.eoi(74);
    expect(t.injected.map((i) => i.intid)).toEqual([74, 74]);
  });

  it("refuses an overlapping window or an SPI already in use", () => {
    const t = testVmm();
    const make = (w: Parameters<Parameters<typeof addVirtioMmioDevice>[3]>[0]) =>
      new VirtioBlk({ ...w, backend: memoryBlockBackend(new Uint8Array(4096)) });
    addVirtioMmioDevice(t.host, "virtio-blk", LIBVMM_VIRTIO_PLACEMENT.blk, make);
    expect(() => addVirtioMmioDevice(t.host, "virtio-blk", { base: 0x150100, spi: 50 }, make)).toThrow(
      /overlaps 'linux: virtio-blk at 0x150000'/,
    );
    expect(() => addVirtioMmioDevice(t.host, "virtio-blk", { base: 0x190000, spi: 43 }, make)).toThrow(
      /interrupt 75 on vCPU 0 is already registered/,
    );
    expect(() => addVirtioMmioDevice(t.host, "virtio-blk", { base: 0x1a0000, spi: -1 }, make)).toThrow(
      /SPI -1 does not exist/,
    );
    void RAM_BASE;
  });
});
