// QEMU's `virt` machine for AArch64, the Microkit board qemu_virt_aarch64: the same memory map and
// interrupt numbers, so system descriptions written for it run unchanged.

import type { BoardDescription } from "../board.ts";
import { createQemuVirtBoard } from "./board.ts";

const RAM = { base: 0x4000_0000, size: 0x8000_0000 };
const GIC_DISTRIBUTOR = { base: 0x0800_0000, size: 0x1_0000 };
const GIC_CPU_INTERFACE = { base: 0x0801_0000, size: 0x1_0000 };
const GIC_HYP_CONTROL = { base: 0x0803_0000, size: 0x1_0000 };
const UART = { base: 0x0900_0000, size: 0x1000, irq: 33 };

export const qemuVirtAarch64: BoardDescription = {
  name: "qemu_virt_aarch64",
  summary: "QEMU virt, Cortex-A53, GICv2, PL011, 32 virtio-mmio transports (Microkit's QEMU board)",
  /** Microkit's QEMU board runs with 2 GiB of RAM. */
  ram: RAM,
  gic: {
    version: 2,
    distributor: GIC_DISTRIBUTOR,
    cpuInterface: GIC_CPU_INTERFACE,
    virtualInterfaceControl: GIC_HYP_CONTROL,
    vcpuInterface: { base: 0x0804_0000, size: 0x1_0000 },
  },
  uart: UART,
  // QEMU fills virtio-mmio transports from the top: a lone `-device virtio-net-device` gets slot 31
  // (0xa003e00, INTID 79), the device the Wordle tutorial passes through.
  virtioMmio: { base: 0x0a00_0000, stride: 0x200, slots: 32, firstIrq: 48, nicSlot: 31, diskSlot: 1 },
  // seL4 on this board has a 40-bit stage-2 (IPA) space, so user addresses reach 2^40 - 1.
  microkit: {
    ram: RAM,
    userTop: 0xff_ffff_ffff,
    numDomains: 16,
    numDomainSchedules: 100,
    // seL4 keeps the GIC's distributor, CPU interface and GICH; GICV is left to user space.
    kernelDevices: [
      { name: "GIC distributor", ...GIC_DISTRIBUTOR },
      { name: "GIC CPU interface", ...GIC_CPU_INTERFACE },
      { name: "GIC virtual interface control", ...GIC_HYP_CONTROL },
    ],
    physicalAddressTop: 2 ** 40,
  },
  /**
   * libvmm's `simple` example: 256 MiB of RAM at 0x40000000, the PL011 passed through, the
   * distributor trapped at its usual address and the host's virtual CPU interface mapped where the
   * guest expects the CPU interface; DTB at 0x4f000000, initrd at 0x4d000000; PSCI over SMC.
   */
  guest: {
    name: "simple",
    ram: { base: 0x4000_0000, size: 0x1000_0000 },
    dtbAddress: 0x4f00_0000,
    initrdAddress: 0x4d00_0000,
    gic: { version: 2, distributor: GIC_DISTRIBUTOR, cpuInterface: GIC_CPU_INTERFACE },
    uart: { kind: "pl011", base: UART.base, irq: UART.irq },
    bootargs: "earlycon=pl011,mmio32,0x9000000 console=ttyAMA0",
    psciMethod: "smc",
  },
  create: (options) => createQemuVirtBoard(qemuVirtAarch64, options),
};
