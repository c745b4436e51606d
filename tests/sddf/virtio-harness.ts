// Boots a test system with a device model plugged into one of the board's virtio-mmio slots (what
// `virtkit run --disk` and the NIC option do for real systems), for the sDDF virtio driver tests.

import { parseSystemText } from "../../src/sdf/index.ts";
import { bootSystem, type PdProgramDefinition, type RunningSystem } from "../../src/microkit/index.ts";
import { HarnessConsole } from "../../src/machine/backends/harness-console.ts";
import { virtioMmioSlot, type DeviceWindow } from "../../src/machine/boards/board.ts";
import type { IrqLine, MmioDevice } from "../../src/machine/devices/mmio.ts";
import type { PhysicalMemory } from "../../src/machine/physical-memory.ts";
import { parseOptions } from "../sdf/helpers.ts";

export interface SlotDevice {
  memory: PhysicalMemory;
  irq: IrqLine;
  name: string;
}

/** Boots `xml` with `makeDevice`'s device in virtio-mmio slot `slot`; resolves when the system is idle. */
export async function bootWithSlotDevice<D extends MmioDevice>(
  xml: string,
  programs: Record<string, PdProgramDefinition>,
  slot: number,
  makeDevice: (env: SlotDevice) => D,
): Promise<{ system: RunningSystem; console: HarnessConsole; device: D; done: Promise<void> }> {
  const description = parseSystemText(`<system>${xml}</system>`, "/virtkit-test/test.system", parseOptions());
  const console = new HarnessConsole();
  const system = await bootSystem(description, { console, programs, ramSize: 64 * 1024 * 1024 });
  const facts = system.board.description.virtioMmio!;
  const { base, irq } = virtioMmioSlot(facts, slot);
  const device = makeDevice({
    memory: system.board.memory,
    irq: { set: (high) => system.kernel.setIrqLine(irq, high) },
    name: `test device in slot ${slot}`,
  });
  const windows = system.board.devices as DeviceWindow[];
  windows[windows.findIndex((w) => w.base === base)] = { base, size: facts.stride, device };
  const done = system.run();
  console.endInput();
  return { system, console, device, done };
}
