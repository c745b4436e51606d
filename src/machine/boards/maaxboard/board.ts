// The running MaaXBoard: RAM, UART1 on the console, and the OCOTP fuses Linux's SoC driver reads.
// Nothing else of the i.MX8MQ is modelled: a guest that touches another device faults to its VMM.

import { PhysicalMemory } from "../../physical-memory.ts";
import { ImxUart } from "../../devices/imx-uart.ts";
import { ImxOcotp } from "../../devices/imx-ocotp.ts";
import { SerialConnection } from "../../backends/serial-connection.ts";
import {
  InterruptLines,
  findWindow,
  type AddressRange,
  type Board,
  type BoardDescription,
  type BoardOptions,
  type DeviceWindow,
} from "../board.ts";
import { maaxboardFirmwareCall } from "./firmware.ts";

/** The board's i.MX8MQ is B1 silicon (revision 2.1); its unique ID is made up. */
const UNIQUE_ID = 0x2c8a_1b0d_7e45_93f1n;

export function createMaaxboard(
  description: BoardDescription,
  ocotp: AddressRange,
  options: BoardOptions,
): Board {
  const { uart: uartFacts, gic } = description;
  if (gic.version !== 3 || !gic.vcpuInterface) throw new Error(`${description.name} is not a MaaXBoard`);
  if (options.nic) throw new Error(`board ${description.name} has no virtio-mmio slot for a NIC`);
  const memory = new PhysicalMemory({
    ramBase: description.ram.base,
    ramSize: options.ramSize ?? description.ram.size,
  });
  const interrupts = new InterruptLines();
  // The connection and the UART refer to each other: output and FIFO space go one way, bytes the other.
  const uart = new ImxUart({
    irq: interrupts.line(uartFacts.irq),
    transmit: (byte) => serial.transmit(byte),
    onReceiveSpace: () => serial.receiveSpace(),
  });
  const serial = new SerialConnection(uart, options.console, options.host);
  const devices: DeviceWindow[] = [
    { base: uartFacts.base, size: uartFacts.size, device: uart },
    { base: ocotp.base, size: ocotp.size, device: new ImxOcotp({ uniqueId: UNIQUE_ID, revisionB1: true }) },
  ];
  return {
    name: description.name,
    description,
    memory,
    devices,
    gicVcpuInterface: gic.vcpuInterface.base,
    deviceAt: (paddr) => findWindow(devices, paddr),
    connectInterrupts: (sink) => interrupts.connect(sink),
    debugPutc: (byte) => serial.transmit(byte),
    secureMonitorCall: (args) => maaxboardFirmwareCall(args, options.onPowerOff ?? (() => {})),
    start: () => serial.start(),
    close: () => options.console.close(),
  };
}
