// Where a libvmm virtio device goes: a virtio-mmio window with its own SPI, or a function on the VMM's
// virtual PCI bus. The device files (console, block, net, sound) take either.

import type { MmioDevice } from "../../machine/devices/mmio.ts";
import type { VirtioTransportFactory } from "../../machine/devices/virtio/transport.ts";
import { hex } from "../../util/hex.ts";
import { addVirtioMmioDevice, type VirtioMmioPlacement, type VirtioVmm, type VirtioWiring } from "./mmio.ts";
import type { VirtioPciBus } from "./pci.ts";

/** A function on the VMM's virtual PCI bus (the next device number). */
export interface VirtioPciPlacement {
  pci: VirtioPciBus;
}

export type VirtioPlacement = VirtioMmioPlacement | VirtioPciPlacement;

/** What a device model is made with: the wiring, and (on PCI) the transport factory. */
export type VirtioDeviceWiring = VirtioWiring & { transport?: VirtioTransportFactory };

/** The name a device placed here gets in messages ("linux: virtio-blk at 0x150000"). */
export function virtioDeviceName(host: VirtioVmm, kind: string, placement: VirtioPlacement): string {
  return "pci" in placement
    ? placement.pci.nameFor(kind)
    : `${host.vmm.guest.name}: ${kind} at ${hex(placement.base)}`;
}

/** Places the device `create` makes: on virtio-mmio (addVirtioMmioDevice) or on the virtual PCI bus. */
export function addVirtioDevice<D extends MmioDevice>(
  host: VirtioVmm,
  kind: string,
  placement: VirtioPlacement,
  create: (wiring: VirtioDeviceWiring) => D,
): D {
  return "pci" in placement
    ? placement.pci.add(kind, create)
    : addVirtioMmioDevice(host, kind, placement, create);
}
