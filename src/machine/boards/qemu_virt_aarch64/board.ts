// The running QEMU virt board: RAM, the PL011 on the console, and the 32 virtio-mmio transports
// (empty unless a device model is plugged into one).

import { PhysicalMemory } from "../../physical-memory.ts";
import { Pl011 } from "../../devices/pl011.ts";
import { SerialConnection } from "../../backends/serial-connection.ts";
import { EmptyVirtioMmioSlot } from "../../devices/virtio-mmio-slot.ts";
import { VirtioNet } from "../../devices/virtio/net.ts";
import { VirtioBlk } from "../../devices/virtio/blk.ts";
import {
  InterruptLines,
  findWindow,
  virtioMmioSlot,
  type Board,
  type BoardDescription,
  type BoardOptions,
  type DeviceWindow,
} from "../board.ts";
import { hex } from "../../../util/hex.ts";
import { qemuFirmwareCall } from "./firmware.ts";

export function createQemuVirtBoard(description: BoardDescription, options: BoardOptions): Board {
  const { uart: uartFacts, virtioMmio, gic } = description;
  if (gic.version !== 2 || !virtioMmio) throw new Error(`${description.name} is not a QEMU virt board`);
  const memory = new PhysicalMemory({
    ramBase: description.ram.base,
    ramSize: options.ramSize ?? description.ram.size,
  });
  const interrupts = new InterruptLines();
  // The connection and the UART refer to each other: output and FIFO space go one way, bytes the other.
  const uart = new Pl011({
    irq: interrupts.line(uartFacts.irq),
    transmit: (byte) => serial.transmit(byte),
    onReceiveSpace: () => serial.receiveSpace(),
  });
  const serial = new SerialConnection(uart, options.console, options.host);
  const devices: DeviceWindow[] = [{ base: uartFacts.base, size: uartFacts.size, device: uart }];
  const nic = options.nic;
  if (nic) virtioMmioSlot(virtioMmio, nic.slot); // a slot the board does not have is an error now
  const disk = options.disk;
  if (disk) {
    virtioMmioSlot(virtioMmio, disk.slot);
    if (disk.slot === nic?.slot)
      throw new Error(`virtio-mmio slot ${disk.slot} cannot hold both the NIC and the disk`);
  }
  const reportOnConsole = (m: string) => options.console.write(new TextEncoder().encode(`\r\n${m}\r\n`));
  for (let n = 0; n < virtioMmio.slots; n++) {
    const { base, irq } = virtioMmioSlot(virtioMmio, n);
    const device =
      nic?.slot === n
        ? new VirtioNet({
            memory,
            irq: interrupts.line(irq),
            wire: nic.wire,
            mac: nic.mac,
            legacy: nic.legacy,
            name: `virtio-net on virtio-mmio slot ${n} (${hex(base)})`,
            onError: nic.onError ?? reportOnConsole,
          })
        : disk?.slot === n
          ? new VirtioBlk({
              memory,
              irq: interrupts.line(irq),
              backend: disk.backend,
              legacy: disk.legacy,
              name: `virtio-blk on virtio-mmio slot ${n} (${hex(base)})`,
              onError: disk.onError ?? reportOnConsole,
            })
          : new EmptyVirtioMmioSlot(n);
    devices.push({ base, size: virtioMmio.stride, device });
  }
  return {
    name: description.name,
    description,
    memory,
    devices,
    gicVcpuInterface: gic.vcpuInterface.base,
    deviceAt: (paddr) => findWindow(devices, paddr),
    connectInterrupts: (sink) => interrupts.connect(sink),
    debugPutc: (byte) => serial.transmit(byte),
    secureMonitorCall: (args) => qemuFirmwareCall(args, options.onPowerOff ?? (() => {})),
    start: () => serial.start(),
    close: () => options.console.close(),
  };
}
