// The running ODROID-C4: RAM and UART_AO on the console. Nothing else of the S905X3 is modelled: a
// guest that touches another device faults to its VMM.

import { MesonUart } from "../../devices/meson-uart.ts";
import type { Board, BoardDescription, BoardOptions } from "../board.ts";
import { assembleBoard } from "../assemble.ts";
import { odroidC4FirmwareCall } from "./firmware.ts";

export function createOdroidC4(description: BoardDescription, options: BoardOptions): Board {
  const { gic } = description;
  if (gic.version !== 2) throw new Error(`${description.name} is not an ODROID-C4`);
  if (options.nic) throw new Error(`board ${description.name} has no virtio-mmio slot for a NIC`);
  return assembleBoard(description, options, {
    uart: (wiring) => new MesonUart(wiring),
    gicVcpuInterface: gic.vcpuInterface.base,
    firmware: odroidC4FirmwareCall,
  });
}
