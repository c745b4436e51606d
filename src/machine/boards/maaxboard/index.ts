// The Avnet MaaXBoard (NXP i.MX8MQ), the Microkit board maaxboard: the memory map, GIC and UART that
// Microkit's and libvmm's maaxboard support use (shared/reference/boards.md, part A), so system
// descriptions written for the board run unchanged.

import type { BoardDescription } from "../board.ts";
import { createMaaxboard } from "./board.ts";

/** DRAM: 2 GiB from 0x40000000 (seL4's maaxboard.dts; its CMA reservation is not no-map, so all of it). */
const RAM = { base: 0x4000_0000, size: 0x8000_0000 };
/** The GIC-500: distributor and redistributors (four cores, 0x20000 each, in seL4's 1 MiB window). */
const GIC_DISTRIBUTOR = { base: 0x3880_0000, size: 0x1_0000 };
const GIC_REDISTRIBUTORS = { base: 0x3888_0000, size: 0x10_0000 };
/** UART1, the console: SPI 26 (INTID 58), level-sensitive. */
const UART = { base: 0x3086_0000, size: 0x1_0000, irq: 58 };
/** The on-chip OTP controller (fuses: silicon revision, unique ID). */
const OCOTP = { base: 0x3035_0000, size: 0x1_0000 };

export const maaxboard: BoardDescription = {
  name: "maaxboard",
  summary: "Avnet MaaXBoard, NXP i.MX8MQ, Cortex-A53, GICv3, i.MX UART1 (Microkit's maaxboard)",
  ram: RAM,
  gic: {
    version: 3,
    distributor: GIC_DISTRIBUTOR,
    redistributors: GIC_REDISTRIBUTORS,
    // The GIC-500's GICv2-compatible virtual CPU interface; libvmm's maaxboard system maps it.
    vcpuInterface: { base: 0x3102_0000, size: 0x2000 },
  },
  uart: UART,
  microkit: {
    ram: RAM,
    // 40-bit physical addresses (Cortex-A53) and a 40-bit stage-2 space with the hypervisor on.
    userTop: 0xff_ffff_ffff,
    numDomains: 16,
    numDomainSchedules: 100,
    kernelDevices: [
      { name: "GIC distributor", ...GIC_DISTRIBUTOR },
      { name: "GIC redistributors", ...GIC_REDISTRIBUTORS },
    ],
    physicalAddressTop: 2 ** 40,
  },
  /**
   * The `simple` example as seed 004 ran it on the board: 240 MiB of guest RAM at 0x40000000 (the
   * seed found 0x9000000 too small for its initramfs), DTB at 0x44000000, initrd at 0x44500000;
   * UART1 passed through, the GICv3 distributor and redistributor emulated at their own addresses.
   */
  guest: {
    name: "simple",
    ram: { base: 0x4000_0000, size: 0xf00_0000 },
    dtbAddress: 0x4400_0000,
    initrdAddress: 0x4450_0000,
    gic: {
      version: 3,
      distributor: GIC_DISTRIBUTOR,
      redistributor: { base: GIC_REDISTRIBUTORS.base, size: 0x2_0000 },
    },
    uart: { kind: "imx", base: UART.base, irq: UART.irq },
    bootargs: "console=ttymxc0,115200 earlycon=ec_imx6q,0x30860000,115200",
    psciMethod: "smc",
    // The root compatible "fsl,imx8mq" is what starts Linux's i.MX8M SoC driver (and its SiP call).
    machine: { model: "Avnet MaaXBoard", compatible: ["avnet,maaxboard", "fsl,imx8mq"] },
    cpuCompatible: "arm,cortex-a53",
    ocotp: OCOTP,
  },
  create: (options) => createMaaxboard(maaxboard, OCOTP, options),
};
