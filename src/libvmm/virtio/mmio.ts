// virtIO devices for a guest over virtio-mmio, as libvmm places them: the device model (src/machine/
// devices/virtio) on the VMM's emulated MMIO at a guest-physical address, DMA into the guest's RAM as
// the VMM maps it, and its interrupt a level-triggered SPI injected through the vGIC.

import type { IrqLine, MmioDevice } from "../../machine/devices/mmio.ts";
import type { VirtioDeviceOptions } from "../../machine/devices/virtio/transport.ts";
import { VIRTIO_MMIO_WINDOW } from "../../machine/devices/virtio/constants.ts";
import type { GuestRam } from "../guest-ram.ts";
import type { VmmLog } from "../log.ts";
import type { Vmm } from "../vmm.ts";
import { hex } from "../../util/hex.ts";

/** SPIs are INTIDs 32 and up: the device tree's `interrupts = <0 n 4>` is INTID 32 + n. */
export const SPI_BASE = 32;

/** Where a virtio-mmio device sits in the guest: its register window and its SPI. */
export interface VirtioMmioPlacement {
  /** Guest-physical address of the register window. */
  base: number;
  /** Bytes of the window (default 0x200, as QEMU and libvmm). */
  size?: number;
  /** The SPI number as the device tree gives it (INTID = 32 + spi). */
  spi: number;
  /** The vCPU the interrupt is registered on (SPIs are shared; default 0). */
  vcpu?: number;
}

/**
 * libvmm's placement in its virtio examples on QEMU virt: console, block and net at these addresses,
 * each 0x200 bytes, level-triggered. Sound is virtkit's choice (upstream's sound example is not built).
 */
export const LIBVMM_VIRTIO_PLACEMENT = {
  console: { base: 0x13_0000, size: VIRTIO_MMIO_WINDOW, spi: 42 },
  blk: { base: 0x15_0000, size: VIRTIO_MMIO_WINDOW, spi: 43 },
  net: { base: 0x16_0000, size: VIRTIO_MMIO_WINDOW, spi: 44 },
  sound: { base: 0x17_0000, size: VIRTIO_MMIO_WINDOW, spi: 45 },
} as const satisfies Record<string, VirtioMmioPlacement>;

/** What a VMM gives its virtio devices: the Vmm (emulated MMIO, vGIC, the VM's name), the guest's RAM and the log. */
export interface VirtioVmm {
  vmm: Vmm;
  ram: GuestRam;
  log: VmmLog;
}

/** The VirtioVmm of a Vmm that was given the guest's RAM (startMicrokitLinuxVm's is). */
export function virtioHost(vmm: Vmm): VirtioVmm {
  const ram = vmm.ram;
  if (!ram) throw new Error(`${vmm.guest.name}: virtio devices need the VMM to know the guest's RAM`);
  return { vmm, ram, log: vmm.log };
}

/**
 * The vGIC as a level-triggered interrupt line: a rising level injects the SPI; a level dropped before
 * the guest took the interrupt withdraws it; and at the guest's EOI an interrupt whose level is still
 * high is injected again, so an interrupt raised while the guest was handling the previous one is not lost.
 */
export function vgicLevelLine(vmm: Vmm, vcpu: number, intid: number): IrqLine {
  let level = false;
  vmm.vgic.registerIrq(vcpu, intid, () => {
    if (level) vmm.vgic.inject(vcpu, intid);
  });
  return {
    set(high: boolean) {
      if (high === level) return;
      level = high;
      if (high) vmm.vgic.inject(vcpu, intid);
      else if (vmm.vgic.pendingSources(vcpu, intid) !== 0) vmm.vgic.setPending(vcpu, intid, false);
    },
  };
}

/** The options every device model needs (memory, interrupt, name, error sink), wired to this VM. */
export type VirtioWiring = Required<Pick<VirtioDeviceOptions, "memory" | "irq" | "name" | "onError">>;

/**
 * Puts a virtio device on the VMM's emulated MMIO at `placement`: `create` gets the guest's RAM for
 * DMA, the SPI as its interrupt line, a name that says which VM and where ("linux: virtio-blk at
 * 0x150000"), and an error sink that writes to the VMM's log. Returns what `create` made.
 */
export function addVirtioMmioDevice<D extends MmioDevice>(
  host: VirtioVmm,
  kind: string,
  placement: VirtioMmioPlacement,
  create: (wiring: VirtioWiring) => D,
): D {
  const { vmm, ram, log } = host;
  const size = placement.size ?? VIRTIO_MMIO_WINDOW;
  if (!Number.isInteger(placement.spi) || placement.spi < 0) {
    throw new Error(
      `${kind} at ${hex(placement.base)}: SPI ${placement.spi} does not exist (SPIs count from 0)`,
    );
  }
  const name = `${vmm.guest.name}: ${kind} at ${hex(placement.base)}`;
  const irq = vgicLevelLine(vmm, placement.vcpu ?? 0, SPI_BASE + placement.spi);
  const device = create({ memory: ram, irq, name, onError: (message) => log.error(message) });
  vmm.mmio.register(name, placement.base, size, device);
  return device;
}
