// The running QEMU virt board: RAM, the PL011 on the console, and the 32 virtio-mmio transports
// (empty unless a device model is plugged into one).

import { Pl011 } from "../../devices/pl011.ts";
import { EmptyVirtioMmioSlot } from "../../devices/virtio-mmio-slot.ts";
import { VirtioNet } from "../../devices/virtio/net.ts";
import { VirtioBlk } from "../../devices/virtio/blk.ts";
import {
  virtioMmioSlot,
  type Board,
  type BoardDescription,
  type BoardOptions,
  type DeviceWindow,
} from "../board.ts";
import { assembleBoard } from "../assemble.ts";
import { hex } from "../../../util/hex.ts";
import { qemuFirmwareCall } from "./firmware.ts";

export function createQemuVirtBoard(description: BoardDescription, options: BoardOptions): Board {
  const { virtioMmio, gic } = description;
  if (gic.version !== 2 || !virtioMmio) throw new Error(`${description.name} is not a QEMU virt board`);
  const nic = options.nic;
  if (nic) virtioMmioSlot(virtioMmio, nic.slot); // a slot the board does not have is an error now
  const disk = options.disk;
  if (disk) {
    virtioMmioSlot(virtioMmio, disk.slot);
    if (disk.slot === nic?.slot)
      throw new Error(`virtio-mmio slot ${disk.slot} cannot hold both the NIC and the disk`);
  }
  return assembleBoard(description, options, {
    uart: (wiring) => new Pl011(wiring),
    devices: (memory, interrupts) => {
      const devices: DeviceWindow[] = [];
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
      return devices;
    },
    gicVcpuInterface: gic.vcpuInterface.base,
    firmware: qemuFirmwareCall,
  });
}
