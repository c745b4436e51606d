// The virtual PCI host bridge and virtio over PCI, driven as Linux's pci-host-ecam-generic and
// virtio_pci_modern drive them: enumeration through ECAM, the vendor capabilities, BAR sizing, feature
// negotiation and queue set-up through the common configuration, notifications, the ISR, INTx through the
// vGIC, the configuration access window, and libvmm's devices (block, console) behind the bridge.
import { describe, expect, it } from "vitest";
import { VirtioBlk, memoryBlockBackend } from "../../../src/machine/devices/virtio/blk.ts";
import { VirtioFeature, VirtioStatus as S } from "../../../src/machine/devices/virtio/constants.ts";
import { PciConfig, VirtioPciCommon as C } from "../../../src/machine/devices/virtio/pci-transport.ts";
import { addVirtioDevice } from "../../../src/libvmm/virtio/device.ts";
import { LIBVMM_VIRTIO_PCI_PLACEMENT, VirtioPciBus } from "../../../src/libvmm/virtio/pci.ts";
import { virtioConsole } from "../../../src/libvmm/virtio/console.ts";
import { SERIAL_QUEUE, SerialQueueHandle } from "../../../src/sddf/serial/queue.ts";
import { VirtioTestDriver, type DriverQueue } from "../../machine/virtio-test-driver.ts";
import { fuzzDevice, rng } from "../../machine/virtio-fuzzer.ts";
import { VirtioMmio as R } from "../../../src/machine/devices/virtio/constants.ts";
import type { AccessSize, MmioDevice } from "../../../src/machine/devices/mmio.ts";
import { VirtioConsole } from "../../../src/machine/devices/virtio/console.ts";
import { VirtioNet } from "../../../src/machine/devices/virtio/net.ts";
import { RAM_SIZE } from "./harness.ts";
import { RAM_BASE, testVmm } from "./harness.ts";

const ECAM = LIBVMM_VIRTIO_PCI_PLACEMENT.ecam;
const WINDOW = LIBVMM_VIRTIO_PCI_PLACEMENT.window.base;
const SPI = LIBVMM_VIRTIO_PCI_PLACEMENT.firstSpi;

/** The guest's view: ECAM and memory accesses through the VMM's MMIO map. */
function guest(t: ReturnType<typeof testVmm>) {
  const at = (addr: number) => {
    const region = t.vmm.mmio.find(addr);
    if (!region) throw new Error(`nothing at ${addr.toString(16)}`);
    return { region, offset: addr - region.base };
  };
  const read = (addr: number, size: 1 | 2 | 4 | 8) => {
    const { region, offset } = at(addr);
    return Number(region.handler.read(offset, size, 0));
  };
  const write = (addr: number, size: 1 | 2 | 4 | 8, value: number) => {
    const { region, offset } = at(addr);
    region.handler.write(offset, size, BigInt(value), 0);
  };
  const cfg = (dev: number, reg: number, fn = 0) => ECAM + (dev << 15) + (fn << 12) + reg;
  return { read, write, cfg };
}

/** Walks device `dev`'s capability list: cfg_type → { bar, offset, length, multiplier? }. */
function capabilities(g: ReturnType<typeof guest>, dev: number) {
  const caps = new Map<
    number,
    { at: number; bar: number; offset: number; length: number; multiplier?: number }
  >();
  let at = g.read(g.cfg(dev, PciConfig.CAPABILITIES), 1);
  while (at !== 0) {
    expect(g.read(g.cfg(dev, at), 1)).toBe(0x09); // vendor-specific
    const type = g.read(g.cfg(dev, at + 3), 1);
    caps.set(type, {
      at,
      bar: g.read(g.cfg(dev, at + 4), 1),
      offset: g.read(g.cfg(dev, at + 8), 4),
      length: g.read(g.cfg(dev, at + 12), 4),
      multiplier: type === 2 ? g.read(g.cfg(dev, at + 16), 4) : undefined,
    });
    at = g.read(g.cfg(dev, at + 1), 1);
  }
  return caps;
}

function setupBlk() {
  const t = testVmm();
  const bus = new VirtioPciBus(t.host, LIBVMM_VIRTIO_PCI_PLACEMENT);
  const disk = new Uint8Array(64 * 512);
  addVirtioDevice(
    t.host,
    "virtio-blk",
    { pci: bus },
    (w) => new VirtioBlk({ ...w, backend: memoryBlockBackend(disk) }),
  );
  t.enable(32 + SPI);
  return { t, bus, disk, g: guest(t) };
}

/**
 * The virtio-mmio register file spoken over a PCI function's BAR (for the fuzzer's driver): each
 * virtio-mmio register becomes the common-configuration field, ISR, notification or device
 * configuration access a PCI driver would make.
 */
function mmioOverPci(g: ReturnType<typeof guest>, bar: number, pciDeviceId: number): MmioDevice {
  const common = (reg: number) => bar + reg;
  return {
    read(offset: number, size: AccessSize): bigint {
      if (offset >= R.Config) return BigInt(g.read(bar + 0x2000 + offset - R.Config, size));
      if (size !== 4) return 0n;
      const map: Record<number, () => number> = {
        [R.MagicValue]: () => 0x74726976,
        [R.Version]: () => 2,
        [R.DeviceID]: () => pciDeviceId - 0x1040,
        [R.DeviceFeatures]: () => g.read(common(C.device_feature), 4),
        [R.QueueNumMax]: () => g.read(common(C.queue_size), 2),
        [R.QueueReady]: () => g.read(common(C.queue_enable), 2),
        [R.InterruptStatus]: () => g.read(bar + 0x1000, 1),
        [R.Status]: () => g.read(common(C.device_status), 1),
        [R.ConfigGeneration]: () => g.read(common(C.config_generation), 1),
      };
      return BigInt(map[offset]?.() ?? 0);
    },
    write(offset: number, size: AccessSize, value: bigint): void {
      const v = Number(value & 0xffff_ffffn);
      if (offset >= R.Config) return g.write(bar + 0x2000 + offset - R.Config, size, v);
      const map: Record<number, () => void> = {
        [R.DeviceFeaturesSel]: () => g.write(common(C.device_feature_select), 4, v),
        [R.DriverFeaturesSel]: () => g.write(common(C.driver_feature_select), 4, v),
        [R.DriverFeatures]: () => g.write(common(C.driver_feature), 4, v),
        [R.QueueSel]: () => g.write(common(C.queue_select), 2, v & 0xffff),
        [R.QueueNum]: () => g.write(common(C.queue_size), 2, v & 0xffff),
        [R.QueueReady]: () => g.write(common(C.queue_enable), 2, v & 0xffff),
        [R.QueueDescLow]: () => g.write(common(C.queue_desc), 4, v),
        [R.QueueDescHigh]: () => g.write(common(C.queue_desc + 4), 4, v),
        [R.QueueDriverLow]: () => g.write(common(C.queue_driver), 4, v),
        [R.QueueDriverHigh]: () => g.write(common(C.queue_driver + 4), 4, v),
        [R.QueueDeviceLow]: () => g.write(common(C.queue_device), 4, v),
        [R.QueueDeviceHigh]: () => g.write(common(C.queue_device + 4), 4, v),
        [R.QueueNotify]: () => g.write(bar + 0x3000 + 4 * (v & 0xffff), 2, v & 0xffff),
        [R.Status]: () => g.write(common(C.device_status), 1, v & 0xff),
      };
      if (size === 4) map[offset]?.();
    },
  };
}

describe("virtual PCI host bridge", () => {
  it("enumerates a virtio-blk function at 00:00.0 and nothing else", () => {
    const { g } = setupBlk();
    expect(g.read(g.cfg(0, PciConfig.VENDOR_ID), 2)).toBe(0x1af4);
    expect(g.read(g.cfg(0, PciConfig.DEVICE_ID), 2)).toBe(0x1042);
    expect(g.read(g.cfg(0, 0), 4)).toBe(0x1042_1af4);
    expect(g.read(g.cfg(0, PciConfig.REVISION_ID), 1)).toBe(1);
    expect(g.read(g.cfg(0, PciConfig.REVISION_ID), 4) >>> 8).toBe(0x010000);
    expect(g.read(g.cfg(0, PciConfig.HEADER_TYPE), 1)).toBe(0);
    expect(g.read(g.cfg(0, PciConfig.STATUS), 2) & PciConfig.STATUS_CAPABILITIES).not.toBe(0);
    expect(g.read(g.cfg(0, PciConfig.SUBSYSTEM_VENDOR_ID), 2)).toBe(0x1af4);
    expect(g.read(g.cfg(0, PciConfig.INTERRUPT_PIN), 1)).toBe(1);
    expect(g.read(g.cfg(1, 0), 4)).toBe(0xffff_ffff); // no device 1
    expect(g.read(g.cfg(0, 0, 1), 2)).toBe(0xffff); // no function 1
    expect(g.read(g.cfg(31, 0), 4)).toBe(0xffff_ffff);
  });

  it("describes its structures with vendor capabilities and sizes its 16 KiB BAR", () => {
    const { g } = setupBlk();
    const caps = capabilities(g, 0);
    expect([...caps.keys()]).toEqual([1, 2, 3, 4, 5]);
    expect(caps.get(1)).toMatchObject({ bar: 0, offset: 0, length: C.size });
    expect(caps.get(2)).toMatchObject({ bar: 0, offset: 0x3000, multiplier: 4 });
    expect(caps.get(3)).toMatchObject({ bar: 0, offset: 0x1000, length: 1 });
    expect(caps.get(4)).toMatchObject({ bar: 0, offset: 0x2000 });
    expect(g.read(g.cfg(0, PciConfig.BAR0), 4)).toBe(WINDOW); // placed as firmware would
    g.write(g.cfg(0, PciConfig.BAR0), 4, 0xffff_ffff);
    expect(g.read(g.cfg(0, PciConfig.BAR0), 4)).toBe(0xffff_c000); // 16 KiB, 32-bit memory
    g.write(g.cfg(0, PciConfig.BAR0), 4, WINDOW + 0x8000); // the guest moves it
    expect(g.read(WINDOW + 0x8000 + C.num_queues, 2)).toBe(1);
    expect(g.read(WINDOW + C.num_queues, 4)).toBe(0xffff_ffff); // nothing at the old place
    g.write(g.cfg(0, PciConfig.COMMAND), 2, 0); // memory decoding off
    expect(g.read(WINDOW + 0x8000 + C.num_queues, 2)).toBe(0xffff);
  });

  it("runs a block request set up through the common configuration, with INTx through the vGIC", () => {
    const { t, g, disk } = setupBlk();
    const common = (reg: number) => WINDOW + reg;
    g.write(common(C.device_status), 1, 0);
    g.write(common(C.device_status), 1, S.ACKNOWLEDGE | S.DRIVER);
    g.write(common(C.device_feature_select), 4, 1);
    const high = g.read(common(C.device_feature), 4);
    expect(high & 1).toBe(1); // VERSION_1 (bit 32)
    g.write(common(C.driver_feature_select), 4, 1);
    g.write(common(C.driver_feature), 4, 1);
    expect(g.read(common(C.driver_feature), 4)).toBe(1);
    g.write(common(C.driver_feature_select), 4, 0);
    g.write(common(C.driver_feature), 4, 0);
    g.write(common(C.device_status), 1, S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK);
    expect(g.read(common(C.device_status), 1) & S.FEATURES_OK).toBe(S.FEATURES_OK);
    expect(g.read(common(C.num_queues), 2)).toBe(1);
    expect(g.read(common(C.config_msix_vector), 2)).toBe(0xffff);
    g.write(common(C.queue_select), 2, 0);
    expect(g.read(common(C.queue_size), 2)).toBe(128);
    g.write(common(C.queue_size), 2, 8);
    expect(g.read(common(C.queue_size), 2)).toBe(8);
    const ring = RAM_BASE + 0x8_0000; // below the test driver's buffers
    g.write(common(C.queue_desc), 4, ring);
    g.write(common(C.queue_desc + 4), 4, 0);
    g.write(common(C.queue_driver), 4, ring + 0x1000);
    g.write(common(C.queue_driver + 4), 4, 0);
    g.write(common(C.queue_device), 8, ring + 0x2000);
    expect(g.read(common(C.queue_device), 8)).toBe(ring + 0x2000);
    expect(g.read(common(C.queue_notify_off), 2)).toBe(0);
    g.write(common(C.queue_enable), 2, 1);
    expect(g.read(common(C.queue_enable), 2)).toBe(1);
    g.write(common(C.device_status), 1, S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK | S.DRIVER_OK);
    expect(g.read(WINDOW + 0x2000, 4)).toBe(64); // capacity, in the device configuration

    // The rings in guest RAM, written with the test driver's helpers.
    const d = new VirtioTestDriver({ read: () => 0n, write: () => {} }, t.ram, RAM_BASE);
    const q: DriverQueue = { index: 0, size: 8, desc: ring, avail: ring + 0x1000, used: ring + 0x2000, nextDesc: 0, availIdx: 0, lastUsed: 0 }; // prettier-ignore
    const header = new Uint8Array(16);
    header[0] = 1; // OUT
    header[8] = 2; // sector 2
    const status = d.buffer(1, Uint8Array.of(0xff));
    d.addChain(q, [
      { addr: d.buffer(16, header), len: 16 },
      { addr: d.buffer(512, new Uint8Array(512).fill(0x42)), len: 512 },
      { addr: status, len: 1, write: true },
    ]);
    g.write(WINDOW + 0x3000, 2, 0); // notify queue 0
    expect(d.bytes(status, 1)[0]).toBe(0);
    expect(disk.subarray(1024, 1536).every((b) => b === 0x42)).toBe(true);
    expect(t.injected.map((i) => i.intid)).toEqual([32 + SPI]);
    expect(g.read(g.cfg(0, PciConfig.STATUS), 2) & PciConfig.STATUS_INTERRUPT).not.toBe(0);
    expect(g.read(WINDOW + 0x1000, 1)).toBe(1); // ISR: used buffer; reading clears it
    expect(g.read(WINDOW + 0x1000, 1)).toBe(0);
    expect(g.read(g.cfg(0, PciConfig.STATUS), 2) & PciConfig.STATUS_INTERRUPT).toBe(0);
    t.eoi(32 + SPI);
    // INTx disabled in the command register: the device's interrupt does not reach the vGIC.
    g.write(g.cfg(0, PciConfig.COMMAND), 2, PciConfig.COMMAND_MEMORY | PciConfig.COMMAND_INTX_DISABLE);
    d.addChain(q, [
      { addr: d.buffer(16, Uint8Array.of(4)), len: 16 },
      { addr: d.buffer(1), len: 1, write: true },
    ]);
    g.write(WINDOW + 0x3000, 2, 0);
    expect(d.takeUsed(q)).toHaveLength(2);
    expect(t.injected).toHaveLength(1);
  });

  it("refuses FEATURES_OK without VERSION_1 and reads/writes BAR 0 through the configuration access capability", () => {
    const { g } = setupBlk();
    g.write(WINDOW + C.device_status, 1, S.ACKNOWLEDGE | S.DRIVER);
    g.write(WINDOW + C.device_status, 1, S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK);
    expect(g.read(WINDOW + C.device_status, 1) & S.FEATURES_OK).toBe(0);
    const cap = capabilities(g, 0).get(5)!;
    g.write(g.cfg(0, cap.at + 4), 1, 0); // bar 0
    g.write(g.cfg(0, cap.at + 8), 4, C.num_queues);
    g.write(g.cfg(0, cap.at + 12), 4, 2);
    expect(g.read(g.cfg(0, cap.at + 16), 4)).toBe(1);
    g.write(g.cfg(0, cap.at + 8), 4, C.queue_select);
    g.write(g.cfg(0, cap.at + 16), 4, 0);
    g.write(g.cfg(0, cap.at + 8), 4, C.queue_size);
    expect(g.read(g.cfg(0, cap.at + 16), 4)).toBe(128);
    void VirtioFeature;
  });

  it("puts libvmm's devices behind the bridge, each on its own device number and SPI, named by slot", () => {
    const t = testVmm();
    const bus = new VirtioPciBus(t.host, LIBVMM_VIRTIO_PCI_PLACEMENT);
    const disk = new Uint8Array(8 * 512);
    addVirtioDevice(
      t.host,
      "virtio-blk",
      { pci: bus },
      (w) => new VirtioBlk({ ...w, backend: memoryBlockBackend(disk) }),
    );
    const pair = () => [new Uint8Array(SERIAL_QUEUE.size), new Uint8Array(64)] as const;
    const [rq, rd] = pair();
    const [tq, td] = pair();
    const hvc = virtioConsole(t.host, {
      pci: bus,
      rx: new SerialQueueHandle(rq, rd, 64),
      tx: new SerialQueueHandle(tq, td, 64),
      rxChannel: 1,
      txChannel: 2,
      notify: () => {},
    });
    const g = guest(t);
    expect(g.read(g.cfg(1, 0), 4)).toBe(0x1043_1af4);
    expect(g.read(g.cfg(1, PciConfig.BAR0), 4)).toBe(WINDOW + 0x4000);
    expect(bus.slots.map((s) => [s.device, s.spi])).toEqual([
      [0, SPI],
      [1, SPI + 1],
    ]);
    expect(hvc.device.name).toBe("linux: virtio-console at PCI 00:01.0");
    // A bad descriptor is reported with the PCI name.
    t.enable(32 + SPI + 1);
    const common = (reg: number) => WINDOW + 0x4000 + reg;
    g.write(common(C.device_status), 1, 0);
    g.write(common(C.driver_feature_select), 4, 1);
    g.write(common(C.driver_feature), 4, 1);
    g.write(common(C.device_status), 1, S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK);
    g.write(common(C.queue_select), 2, 1);
    g.write(common(C.queue_size), 2, 4);
    g.write(common(C.queue_desc), 8, RAM_BASE);
    g.write(common(C.queue_driver), 8, RAM_BASE + 0x1000);
    g.write(common(C.queue_device), 8, RAM_BASE + 0x2000);
    g.write(common(C.queue_enable), 2, 1);
    g.write(common(C.device_status), 1, S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK | S.DRIVER_OK);
    const d = new VirtioTestDriver({ read: () => 0n, write: () => {} }, t.ram, RAM_BASE);
    const q: DriverQueue = { index: 1, size: 4, desc: RAM_BASE, avail: RAM_BASE + 0x1000, used: RAM_BASE + 0x2000, nextDesc: 0, availIdx: 0, lastUsed: 0 }; // prettier-ignore
    d.addChain(q, [{ addr: 0x10, len: 4 }]);
    g.write(WINDOW + 0x4000 + 0x3000 + 4, 2, 1);
    expect(t.log.lines[0]).toMatch(
      /^vmm\|ERROR: linux: virtio-console at PCI 00:01\.0: queue 1 \(transmitq0\): descriptor 0 points at \[0x10, \+4\), outside guest RAM/,
    );
    expect(t.injected.map((i) => i.intid)).toEqual([32 + SPI + 1]); // the configuration-change interrupt
  });

  it("refuses a BAR window that is not 32-bit or not aligned", () => {
    const t = testVmm();
    expect(
      () =>
        new VirtioPciBus(t.host, {
          ecam: 0x3000_0000,
          window: { base: 0xffff_c000, size: 0x8000 },
          firstSpi: 48,
        }),
    ).toThrow(/must be 32-bit/);
  });

  it("survives a hostile driver through the PCI transport: reports name the PCI slot, queue and descriptor", () => {
    const lines: string[] = [];
    for (let seed = 1; seed <= 12; seed++) {
      const t = testVmm();
      const bus = new VirtioPciBus(t.host, LIBVMM_VIRTIO_PCI_PLACEMENT);
      const disk = new Uint8Array(64 * 512);
      addVirtioDevice(
        t.host,
        "virtio-blk",
        { pci: bus },
        (w) => new VirtioBlk({ ...w, backend: memoryBlockBackend(disk) }),
      );
      const hvc = addVirtioDevice(
        t.host,
        "virtio-console",
        { pci: bus },
        (w) => new VirtioConsole({ ...w, port: { transmit: (b) => b.length } }),
      );
      let wire: ((frame: Uint8Array) => void) | undefined;
      addVirtioDevice(t.host, "virtio-net", { pci: bus }, (w) => new VirtioNet({ ...w, mac: "52:54:00:00:00:01", wire: { transmit: () => {}, connect: (rx) => (wire = rx) } })); // prettier-ignore
      const g = guest(t);
      const targets = [
        { queues: 1, inject: undefined },
        { queues: 2, inject: (b: Uint8Array) => void hvc.receive(b) },
        { queues: 2, inject: (b: Uint8Array) => wire?.(b) },
      ];
      targets.forEach((target, dev) => {
        const r = rng(seed * 31 + dev);
        const device = mmioOverPci(g, WINDOW + dev * 0x4000, g.read(g.cfg(dev, PciConfig.DEVICE_ID), 2));
        const d = new VirtioTestDriver(device, t.ram, RAM_BASE);
        fuzzDevice({ d, ram: { base: RAM_BASE, size: RAM_SIZE }, queueCount: target.queues, inject: target.inject, late: [] }, r, 200); // prettier-ignore
      });
      lines.push(...t.log.lines);
    }
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line, line).toMatch(/^vmm\|ERROR: linux: virtio-(blk|console|net) at PCI 00:0[0-2]\.0: /);
      expect(line, line).not.toMatch(/internal error/);
      if (
        line.includes("DEVICE_NEEDS_RESET") &&
        !/ has (size|its|QueueAlign|available-ring idx)/.test(line)
      ) {
        expect(line, line).toMatch(
          /queue \d+ \([a-z0-9]+\): (descriptor \d+|entry \d+ of the indirect table in descriptor \d+|available-ring entry \d+)/,
        );
      }
    }
    for (const kind of ["blk", "console", "net"]) {
      expect(lines.some((l) => l.includes(`virtio-${kind} at PCI`) && l.includes("DEVICE_NEEDS_RESET"))).toBe(
        true,
      );
    }
    expect(lines.some((l) => l.includes("DEVICE_NEEDS_RESET"))).toBe(true);
  });
});
