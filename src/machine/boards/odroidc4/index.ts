// The Hardkernel ODROID-C4 (Amlogic S905X3), the Microkit board odroidc4: the memory map, GIC-400 and
// UART that Microkit's and libvmm's odroidc4 support use (shared/reference/boards.md, part B), so
// system descriptions written for the board run unchanged.

import type { BoardDescription } from "../board.ts";
import { createOdroidC4 } from "./board.ts";

/** DRAM as Linux and seL4 see it: 0 to 0xf5800000, below the peripherals. */
const RAM = { base: 0, size: 0xf580_0000 };
/** The secure monitor's no-map reservation: not RAM for the seL4 build. */
const SECURE_MONITOR = { base: 0x500_0000, size: 0x30_0000 };
/** The GIC-400: distributor, CPU interface, virtual interface control (GICH) and virtual CPU interface (GICV). */
const GIC_DISTRIBUTOR = { base: 0xffc0_1000, size: 0x1000 };
const GIC_CPU_INTERFACE = { base: 0xffc0_2000, size: 0x2000 };
const GIC_HYP_CONTROL = { base: 0xffc0_4000, size: 0x2000 };
/** UART_AO (UART A of the always-on domain), the console: SPI 193 (INTID 225), edge-triggered. */
const UART = { base: 0xff80_3000, size: 0x1000, irq: 225 };

export const odroidC4: BoardDescription = {
  name: "odroidc4",
  summary:
    "Hardkernel ODROID-C4, Amlogic S905X3, Cortex-A55, GICv2 (GIC-400), Meson UART_AO (Microkit's odroidc4)",
  ram: RAM,
  gic: {
    version: 2,
    distributor: GIC_DISTRIBUTOR,
    cpuInterface: GIC_CPU_INTERFACE,
    virtualInterfaceControl: GIC_HYP_CONTROL,
    vcpuInterface: { base: 0xffc0_6000, size: 0x2000 },
  },
  uart: UART,
  microkit: {
    ram: RAM,
    ramRegions: [
      { base: 0, size: SECURE_MONITOR.base },
      {
        base: SECURE_MONITOR.base + SECURE_MONITOR.size,
        size: RAM.size - SECURE_MONITOR.base - SECURE_MONITOR.size,
      },
    ],
    // 40-bit physical addresses (Cortex-A55) and a 40-bit stage-2 space with the hypervisor on.
    userTop: 0xff_ffff_ffff,
    numDomains: 16,
    numDomainSchedules: 100,
    // seL4 maps the first 4 KiB of each of the GIC's distributor, CPU interface and GICH.
    kernelDevices: [
      { name: "GIC distributor", ...GIC_DISTRIBUTOR },
      { name: "GIC CPU interface", base: GIC_CPU_INTERFACE.base, size: 0x1000 },
      { name: "GIC virtual interface control", base: GIC_HYP_CONTROL.base, size: 0x1000 },
    ],
    physicalAddressTop: 2 ** 40,
  },
  /**
   * libvmm's `simple` example on the board: 256 MiB of guest RAM at 0x20000000, DTB at 0x2f000000,
   * initrd at 0x2d000000; UART_AO passed through, the distributor emulated, the host's GICV mapped
   * where the guest expects its CPU interface (0xffc02000).
   */
  guest: {
    name: "simple",
    ram: { base: 0x2000_0000, size: 0x1000_0000 },
    dtbAddress: 0x2f00_0000,
    initrdAddress: 0x2d00_0000,
    gic: { version: 2, distributor: GIC_DISTRIBUTOR, cpuInterface: GIC_CPU_INTERFACE },
    uart: { kind: "meson", base: UART.base, irq: UART.irq },
    bootargs: "console=ttyAML0,115200n8",
    psciMethod: "smc",
    machine: { model: "Hardkernel ODROID-C4", compatible: ["hardkernel,odroid-c4", "amlogic,sm1"] },
    cpuCompatible: "arm,cortex-a55",
  },
  create: (options) => createOdroidC4(odroidC4, options),
};
