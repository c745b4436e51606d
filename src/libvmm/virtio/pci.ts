// A virtual PCI host bridge for a guest, as libvmm 0.2 has one: an ECAM configuration window for bus 0,
// one function per virtio device (device n, function 0), each with a 32-bit memory BAR in a window the
// device tree gives the guest, and each device's INTA a level-triggered SPI of its own through the vGIC.

import type { AccessSize, MmioDevice } from "../../machine/devices/mmio.ts";
import { VIRTIO_PCI_BAR_SIZE, VirtioPciFunction } from "../../machine/devices/virtio/pci-transport.ts";
import type { VirtioTransportFactory } from "../../machine/devices/virtio/transport.ts";
import { hex } from "../../util/hex.ts";
import { SPI_BASE, vgicLevelLine, type VirtioVmm, type VirtioWiring } from "./mmio.ts";

/** ECAM: 4 KiB of configuration space per function, 8 functions per device, 32 devices on bus 0. */
export const ECAM_FUNCTION_SIZE = 0x1000;
export const ECAM_BUS_SIZE = 32 * 8 * ECAM_FUNCTION_SIZE;

export interface VirtioPciBusOptions {
  /** Guest-physical address of the ECAM window (bus 0 only: 1 MiB). */
  ecam: number;
  /** The 32-bit memory window the devices' BARs are in (each device's BAR is 16 KiB). */
  window: { base: number; size: number };
  /** Device n's INTA is SPI firstSpi + n (INTID 32 + firstSpi + n), level-triggered. */
  firstSpi: number;
  /** The vCPU the interrupts are registered on (default 0). */
  vcpu?: number;
}

/** One device on the bus. */
export interface VirtioPciSlot {
  /** The PCI device number (bus 0, function 0). */
  device: number;
  fn: VirtioPciFunction;
  spi: number;
}

/** virtkit's placement of the PCI host bridge on QEMU virt guests (clear of the virtio-mmio devices and RAM). */
export const LIBVMM_VIRTIO_PCI_PLACEMENT = {
  ecam: 0x3000_0000,
  window: { base: 0x2000_0000, size: 0x100_0000 },
  firstSpi: 48,
} as const satisfies VirtioPciBusOptions;

function allOnes(size: AccessSize): bigint {
  return (1n << BigInt(8 * size)) - 1n;
}

/** The host bridge: the ECAM window and the BAR window on the VMM's emulated MMIO. */
export class VirtioPciBus {
  readonly slots: VirtioPciSlot[] = [];
  private readonly host: VirtioVmm;
  private readonly options: VirtioPciBusOptions;

  constructor(host: VirtioVmm, options: VirtioPciBusOptions) {
    this.host = host;
    this.options = options;
    const { window } = options;
    if (
      window.base % VIRTIO_PCI_BAR_SIZE !== 0 ||
      window.size < VIRTIO_PCI_BAR_SIZE ||
      window.base + window.size > 2 ** 32
    ) {
      throw new Error(
        `virtual PCI: the BAR window ${hex(window.base)}+${hex(window.size)} must be 32-bit, ${hex(VIRTIO_PCI_BAR_SIZE)}-aligned and hold at least one BAR`,
      );
    }
    const vm = host.vmm.guest.name;
    host.vmm.mmio.register(`${vm}: virtual PCI ECAM`, options.ecam, ECAM_BUS_SIZE, this.ecamWindow());
    host.vmm.mmio.register(`${vm}: virtual PCI memory window`, window.base, window.size, this.barWindow());
  }

  /** The device number the next device gets. */
  get nextDevice(): number {
    return this.slots.length;
  }

  /** The name the next device gets in messages. */
  nameFor(kind: string): string {
    return `${this.host.vmm.guest.name}: ${kind} at PCI 00:${this.nextDevice.toString(16).padStart(2, "0")}.0`;
  }

  /**
   * Adds a device at the next device number: `create` gets the guest's RAM, the device's INTA line, its
   * name and error sink, and the transport factory that makes it a PCI function.
   */
  add<D>(kind: string, create: (wiring: VirtioWiring & { transport: VirtioTransportFactory }) => D): D {
    const device = this.nextDevice;
    const barBase = this.options.window.base + device * VIRTIO_PCI_BAR_SIZE;
    if (device >= 32 || barBase + VIRTIO_PCI_BAR_SIZE > this.options.window.base + this.options.window.size) {
      throw new Error(
        `virtual PCI: no room for ${kind}: the bus has 32 devices and the BAR window holds ${Math.floor(this.options.window.size / VIRTIO_PCI_BAR_SIZE)}`,
      );
    }
    const spi = this.options.firstSpi + device;
    const name = this.nameFor(kind);
    const irq = vgicLevelLine(this.host.vmm, this.options.vcpu ?? 0, SPI_BASE + spi);
    let fn: VirtioPciFunction | undefined;
    const made = create({
      memory: this.host.ram,
      irq,
      name,
      onError: (message) => this.host.log.error(message),
      transport: (options) => (fn = new VirtioPciFunction(options)),
    });
    if (!fn) throw new Error(`virtual PCI: ${kind} did not use the PCI transport it was given`);
    // As firmware would: the BAR placed and decoding on; the guest may move it.
    fn.assignBar(barBase);
    this.slots.push({ device, fn, spi });
    return made;
  }

  private ecamWindow(): MmioDevice {
    const target = (offset: number) => {
      const device = Math.floor(offset / (8 * ECAM_FUNCTION_SIZE));
      const fn = Math.floor(offset / ECAM_FUNCTION_SIZE) % 8;
      return fn === 0 ? this.slots[device]?.fn : undefined;
    };
    const split = (size: AccessSize, each: (at: number, part: 1 | 2 | 4) => void, offset: number) => {
      if (size === 8) {
        each(offset, 4);
        each(offset + 4, 4);
      } else each(offset, size);
    };
    return {
      read: (offset, size) => {
        const fn = target(offset);
        // No function there: the bus answers all ones (a master abort), which is how the guest sees no device.
        if (!fn || offset % size !== 0) return allOnes(size);
        const reg = offset % ECAM_FUNCTION_SIZE;
        if (size === 8) return BigInt(fn.configRead(reg, 4)) | (BigInt(fn.configRead(reg + 4, 4)) << 32n);
        return BigInt(fn.configRead(reg, size));
      },
      write: (offset, size, value) => {
        const fn = target(offset);
        if (!fn || offset % size !== 0) return;
        split(
          size,
          (at, part) =>
            fn.configWrite(
              at % ECAM_FUNCTION_SIZE,
              part,
              Number(BigInt.asUintN(8 * part, value >> BigInt(8 * (at - offset)))),
            ),
          offset,
        );
      },
    };
  }

  private barWindow(): MmioDevice {
    const base = this.options.window.base;
    const target = (offset: number) => {
      const address = base + offset;
      for (const { fn } of this.slots) {
        const bar = fn.barBase;
        if (bar !== undefined && address >= bar && address < bar + VIRTIO_PCI_BAR_SIZE)
          return { fn, at: address - bar };
      }
      return undefined;
    };
    return {
      read: (offset, size, cpu) => {
        const hit = target(offset);
        return hit ? hit.fn.read(hit.at, size, cpu) : allOnes(size);
      },
      write: (offset, size, value, cpu) => {
        const hit = target(offset);
        if (hit) hit.fn.write(hit.at, size, value, cpu);
      },
    };
  }
}
