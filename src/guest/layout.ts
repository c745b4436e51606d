// Where guest images go in guest-physical memory: libvmm's QEMU "simple" example (the default VM), and
// the device tree for QEMU's own virt board, which the end-to-end test boots.
import type { AddressRange, GuestDeviceTreeDescription } from "./dtb/guest-dtb.ts";

export interface GuestLayout {
  /** Short name, used in artifact names: `simple`. */
  name: string;
  ram: AddressRange;
  dtbAddress: number;
  initrdAddress: number;
  /** The device tree for this layout, given the size of the initrd it must describe. */
  deviceTree(initrdSize: number): GuestDeviceTreeDescription;
}

const QEMU_VIRT_RAM: AddressRange = { base: 0x4000_0000, size: 0x1000_0000 };
const QEMU_VIRT_PL011 = { base: 0x0900_0000, irq: 33 };
const QEMU_VIRT_GIC_DISTRIBUTOR: AddressRange = { base: 0x0800_0000, size: 0x1_0000 };
const QEMU_VIRT_BOOTARGS = "earlycon=pl011,mmio32,0x9000000 console=ttyAMA0";

/**
 * libvmm's `simple` example on qemu_virt_aarch64: 256 MiB of RAM at 0x40000000, the PL011 passed
 * through, the distributor trapped at its usual address and the host's virtual CPU interface mapped where
 * the guest expects the CPU interface; DTB at 0x4f000000, initrd at 0x4d000000; PSCI over SMC.
 */
export const SIMPLE_LAYOUT: GuestLayout = {
  name: "simple",
  ram: QEMU_VIRT_RAM,
  dtbAddress: 0x4f00_0000,
  initrdAddress: 0x4d00_0000,
  deviceTree: (initrdSize) => ({
    memory: [QEMU_VIRT_RAM],
    cpus: 1,
    psciMethod: "smc",
    gic: {
      version: 2,
      distributor: QEMU_VIRT_GIC_DISTRIBUTOR,
      cpuInterface: { base: 0x0801_0000, size: 0x1_0000 },
    },
    pl011: QEMU_VIRT_PL011,
    chosen: { bootargs: QEMU_VIRT_BOOTARGS, initrd: { base: 0x4d00_0000, size: initrdSize } },
  }),
};

/** QEMU's virt board has 32 virtio-mmio transports from 0xa000000, 0x200 apart, on SPIs 16 up. */
const QEMU_VIRT_VIRTIO_TRANSPORTS = Array.from({ length: 32 }, (_, i) => ({
  base: 0x0a00_0000 + i * 0x200,
  irq: 48 + i,
}));

/**
 * The device tree for QEMU's `-M virt,gic-version=2 -m 256M` running the guest at EL1: the simple
 * layout's devices plus QEMU's virtio-mmio transports, and PSCI over HVC. QEMU loads the initrd itself
 * (at RAM base + 128 MiB) and rewrites /chosen's initrd properties, so none are given here.
 */
export function qemuVirtDeviceTree(): GuestDeviceTreeDescription {
  const simple = SIMPLE_LAYOUT.deviceTree(0);
  return {
    ...simple,
    psciMethod: "hvc",
    virtio: QEMU_VIRT_VIRTIO_TRANSPORTS,
    chosen: { bootargs: QEMU_VIRT_BOOTARGS },
  };
}
