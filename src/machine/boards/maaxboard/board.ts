// The running MaaXBoard: RAM, UART1 on the console, and the OCOTP fuses Linux's SoC driver reads.
// Nothing else of the i.MX8MQ is modelled: a guest that touches another device faults to its VMM.

import { ImxUart } from "../../devices/imx-uart.ts";
import { ImxOcotp } from "../../devices/imx-ocotp.ts";
import type { AddressRange, Board, BoardDescription, BoardOptions } from "../board.ts";
import { assembleBoard } from "../assemble.ts";
import { maaxboardFirmwareCall } from "./firmware.ts";

/** The board's i.MX8MQ is B1 silicon (revision 2.1); its unique ID is made up. */
const UNIQUE_ID = 0x2c8a_1b0d_7e45_93f1n;

export function createMaaxboard(
  description: BoardDescription,
  ocotp: AddressRange,
  options: BoardOptions,
): Board {
  const { gic } = description;
  if (gic.version !== 3 || !gic.vcpuInterface) throw new Error(`${description.name} is not a MaaXBoard`);
  if (options.nic) throw new Error(`board ${description.name} has no virtio-mmio slot for a NIC`);
  return assembleBoard(description, options, {
    uart: (wiring) => new ImxUart(wiring),
    devices: () => [
      { base: ocotp.base, size: ocotp.size, device: new ImxOcotp({ uniqueId: UNIQUE_ID, revisionB1: true }) },
    ],
    gicVcpuInterface: gic.vcpuInterface.base,
    firmware: maaxboardFirmwareCall,
  });
}
