// The running ODROID-C4: RAM and UART_AO on the console. Nothing else of the S905X3 is modelled: a
// guest that touches another device faults to its VMM.

import { PhysicalMemory } from "../../physical-memory.ts";
import { MesonUart } from "../../devices/meson-uart.ts";
import { SerialConnection } from "../../backends/serial-connection.ts";
import {
  InterruptLines,
  findWindow,
  type Board,
  type BoardDescription,
  type BoardOptions,
  type DeviceWindow,
} from "../board.ts";
import { odroidC4FirmwareCall } from "./firmware.ts";

export function createOdroidC4(description: BoardDescription, options: BoardOptions): Board {
  const { uart: uartFacts, gic } = description;
  if (gic.version !== 2) throw new Error(`${description.name} is not an ODROID-C4`);
  if (options.nic) throw new Error(`board ${description.name} has no virtio-mmio slot for a NIC`);
  const memory = new PhysicalMemory({
    ramBase: description.ram.base,
    ramSize: options.ramSize ?? description.ram.size,
  });
  const interrupts = new InterruptLines();
  // The connection and the UART refer to each other: output and FIFO space go one way, bytes the other.
  const uart = new MesonUart({
    irq: interrupts.line(uartFacts.irq),
    transmit: (byte) => serial.transmit(byte),
    onReceiveSpace: () => serial.receiveSpace(),
  });
  const serial = new SerialConnection(uart, options.console, options.host);
  const devices: DeviceWindow[] = [{ base: uartFacts.base, size: uartFacts.size, device: uart }];
  return {
    name: description.name,
    description,
    memory,
    devices,
    gicVcpuInterface: gic.vcpuInterface.base,
    deviceAt: (paddr) => findWindow(devices, paddr),
    connectInterrupts: (sink) => interrupts.connect(sink),
    debugPutc: (byte) => serial.transmit(byte),
    secureMonitorCall: (args) => odroidC4FirmwareCall(args, options.onPowerOff ?? (() => {})),
    start: () => serial.start(),
    close: () => options.console.close(),
  };
}
