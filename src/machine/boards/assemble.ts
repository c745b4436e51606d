// What every board has in common once its facts are known: RAM, the console UART connected to the
// host console, the interrupt lines, the device windows and the firmware's SMC answers. A board's
// folder supplies only what differs: its UART model, its other devices and its firmware.

import { PhysicalMemory } from "../physical-memory.ts";
import type { IrqLine, MmioDevice } from "../devices/mmio.ts";
import { SerialConnection, type SerialPort } from "../backends/serial-connection.ts";
import {
  InterruptLines,
  findWindow,
  type Board,
  type BoardDescription,
  type BoardOptions,
  type DeviceWindow,
} from "./board.ts";

/** How a UART model is wired: its interrupt line, and the serial connection's two callbacks. */
export interface UartWiring {
  irq: IrqLine;
  transmit(byte: number): void;
  onReceiveSpace(): void;
}

export interface BoardParts {
  /** The console UART at the description's `uart` address. */
  uart(wiring: UartWiring): MmioDevice & SerialPort;
  /** The board's other devices, on its memory and interrupt lines. */
  devices?(memory: PhysicalMemory, interrupts: InterruptLines): DeviceWindow[];
  /** Physical address of the GIC virtual CPU interface (GICV) VMs get mapped. */
  gicVcpuInterface: number;
  /** What the board's EL3 firmware answers to an SMC (x0–x7 in and out). */
  firmware(args: readonly bigint[], powerOff: () => void): bigint[];
}

export function assembleBoard(
  description: BoardDescription,
  options: BoardOptions,
  parts: BoardParts,
): Board {
  const memory = new PhysicalMemory({
    ramBase: description.ram.base,
    ramSize: options.ramSize ?? description.ram.size,
  });
  const interrupts = new InterruptLines();
  // The connection and the UART refer to each other: output and FIFO space go one way, bytes the other.
  const uart = parts.uart({
    irq: interrupts.line(description.uart.irq),
    transmit: (byte) => serial.transmit(byte),
    onReceiveSpace: () => serial.receiveSpace(),
  });
  const serial = new SerialConnection(uart, options.console, options.host, options.clock);
  const devices: DeviceWindow[] = [
    { base: description.uart.base, size: description.uart.size, device: uart },
    ...(parts.devices?.(memory, interrupts) ?? []),
  ];
  return {
    name: description.name,
    description,
    memory,
    devices,
    gicVcpuInterface: parts.gicVcpuInterface,
    deviceAt: (paddr) => findWindow(devices, paddr),
    connectInterrupts: (sink) => interrupts.connect(sink),
    debugPutc: (byte) => serial.transmit(byte),
    secureMonitorCall: (args) => parts.firmware(args, options.onPowerOff ?? (() => {})),
    start: () => serial.start(),
    close: () => options.console.close(),
  };
}
