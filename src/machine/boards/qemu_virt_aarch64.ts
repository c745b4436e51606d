// QEMU's `virt` machine for AArch64 (the Microkit board qemu_virt_aarch64): the same memory
// map and interrupt numbers, so system descriptions written for it run unchanged.

import { PhysicalMemory } from "../physical-memory.ts";
import type { Console } from "../devices/console.ts";
import { Pl011 } from "../devices/pl011.ts";
import { SerialConnection, type HostEventSink } from "../devices/serial-connection.ts";
import { EmptyVirtioMmioSlot } from "../devices/virtio-mmio-slot.ts";
import { InterruptLines, findWindow, type Board, type DeviceWindow } from "./board.ts";

export const QEMU_VIRT_AARCH64 = {
  name: "qemu_virt_aarch64",
  ramBase: 0x4000_0000,
  /** Microkit's QEMU board runs with 2 GiB of RAM. */
  ramSize: 0x8000_0000,
  gicDistributor: 0x0800_0000,
  gicCpuInterface: 0x0801_0000,
  gicHypervisor: 0x0803_0000,
  gicVcpuInterface: 0x0804_0000,
  uart: { base: 0x0900_0000, size: 0x1000, irq: 33 },
  virtioMmio: { base: 0x0a00_0000, stride: 0x200, slots: 32, firstIrq: 48 },
} as const;

/** The physical address and SPI of virtio-mmio slot `n` (0..31). */
export function virtioMmioSlot(n: number): { base: number; irq: number } {
  const { base, stride, firstIrq } = QEMU_VIRT_AARCH64.virtioMmio;
  return { base: base + stride * n, irq: firstIrq + n };
}

export interface QemuVirtOptions {
  console: Console;
  host: HostEventSink;
  /** RAM size in bytes (default 2 GiB). */
  ramSize?: number;
  /** The firmware was asked to power the board off (PSCI SYSTEM_OFF over SMC). */
  onPowerOff?: () => void;
}

export function createQemuVirtBoard(options: QemuVirtOptions): Board {
  const map = QEMU_VIRT_AARCH64;
  const memory = new PhysicalMemory({ ramBase: map.ramBase, ramSize: options.ramSize ?? map.ramSize });
  const interrupts = new InterruptLines();
  // The connection and the UART refer to each other: output and FIFO space go one way, bytes the other.
  const uart = new Pl011({
    irq: interrupts.line(map.uart.irq),
    transmit: (byte) => serial.transmit(byte),
    onReceiveSpace: () => serial.receiveSpace(),
  });
  const serial = new SerialConnection(uart, options.console, options.host);
  const devices: DeviceWindow[] = [{ base: map.uart.base, size: map.uart.size, device: uart }];
  for (let n = 0; n < map.virtioMmio.slots; n++) {
    devices.push({
      base: virtioMmioSlot(n).base,
      size: map.virtioMmio.stride,
      device: new EmptyVirtioMmioSlot(n),
    });
  }
  return {
    name: map.name,
    memory,
    devices,
    gicVcpuInterface: map.gicVcpuInterface,
    deviceAt: (paddr) => findWindow(devices, paddr),
    connectInterrupts: (sink) => interrupts.connect(sink),
    debugPutc: (byte) => serial.transmit(byte),
    secureMonitorCall: (args) => qemuFirmwareCall(args, options.onPowerOff ?? (() => {})),
    start: () => serial.start(),
    close: () => options.console.close(),
  };
}

const PSCI_VERSION = 0x8400_0000n;
const PSCI_SYSTEM_OFF = 0x8400_0008n;
const PSCI_1_1 = 0x0001_0001n;
const SMCCC_NOT_SUPPORTED = BigInt.asUintN(64, -1n);

/**
 * QEMU's built-in EL3 firmware for the virt machine answers PSCI over SMC; the VMM's
 * PSCI handling is libvmm's, so only the version query, SYSTEM_OFF (QEMU exits: a VMM whose
 * guest powered off ends the run this way) and "not supported" remain here.
 */
function qemuFirmwareCall(args: readonly bigint[], powerOff: () => void): bigint[] {
  const result = [...args];
  if (args[0] === PSCI_SYSTEM_OFF) {
    powerOff();
    result[0] = 0n;
  } else {
    result[0] = args[0] === PSCI_VERSION ? PSCI_1_1 : SMCCC_NOT_SUPPORTED;
  }
  return result;
}
