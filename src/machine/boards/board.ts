// A board: physical memory, device models at their physical addresses, and interrupt
// lines that the kernel model routes to the IRQ handlers that own them.

import type { PhysicalMemory } from "../physical-memory.ts";
import type { IrqLine, MmioDevice } from "../devices/mmio.ts";

export interface DeviceWindow {
  base: number;
  size: number;
  device: MmioDevice;
}

export interface Board {
  readonly name: string;
  readonly memory: PhysicalMemory;
  readonly devices: readonly DeviceWindow[];
  /** Physical address of the GIC virtual CPU interface (GICV) that VMs get mapped. */
  readonly gicVcpuInterface: number;
  /** The device whose window holds `paddr`, if any. */
  deviceAt(paddr: number): DeviceWindow | undefined;
  /** Routes every interrupt line of the board to `sink` (the kernel). */
  connectInterrupts(sink: (irq: number, high: boolean) => void): void;
  /** The kernel's debug output (seL4_DebugPutChar): the console UART's transmitter. */
  debugPutc(byte: number): void;
  /** What the board's EL3 firmware answers to an SMC with x0–x7 = `args` (returns x0–x7). */
  secureMonitorCall(args: readonly bigint[]): bigint[];
  /** Starts host I/O (console input). */
  start(): void;
  /** Releases host resources (the terminal). */
  close(): void;
}

/** Interrupt lines that remember their level until the kernel is connected. */
export class InterruptLines {
  private sink: ((irq: number, high: boolean) => void) | undefined;
  private readonly levels = new Map<number, boolean>();

  line(irq: number): IrqLine {
    return {
      set: (high) => {
        this.levels.set(irq, high);
        this.sink?.(irq, high);
      },
    };
  }

  connect(sink: (irq: number, high: boolean) => void): void {
    this.sink = sink;
    for (const [irq, high] of this.levels) if (high) sink(irq, high);
  }
}

export function findWindow(devices: readonly DeviceWindow[], paddr: number): DeviceWindow | undefined {
  return devices.find((w) => paddr >= w.base && paddr < w.base + w.size);
}
