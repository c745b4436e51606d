// What a board is: its facts (memory map, GIC, the RAM the Microkit tool allows, where libvmm's
// examples put a Linux guest) and, made from them, a running board: physical memory, device models
// at their physical addresses, and interrupt lines the kernel model routes to their handlers.

import type { PhysicalMemory } from "../physical-memory.ts";
import type { Console } from "../devices/console.ts";
import type { IrqLine, MmioDevice } from "../devices/mmio.ts";
import type { EthernetWire } from "../devices/ethernet.ts";
import type { BlockBackend } from "../devices/virtio/blk.ts";
import type { HostEventSink } from "../backends/serial-connection.ts";
import type { MachineClock } from "../clock.ts";

export interface AddressRange {
  base: number;
  size: number;
}

/** The board's GIC as the hypervisor sees it: the frames a VM's virtual GIC is built from. */
export type GicFacts =
  | {
      version: 2;
      distributor: AddressRange;
      cpuInterface: AddressRange;
      /** GICH: the hypervisor's control interface. */
      virtualInterfaceControl: AddressRange;
      /** GICV: the virtual CPU interface a VM gets mapped where it expects its CPU interface. */
      vcpuInterface: AddressRange;
    }
  | {
      version: 3;
      distributor: AddressRange;
      redistributors: AddressRange;
      /** GICv2-compatible GICV frame, if the GIC has one (the i.MX8MQ's GIC-500): libvmm's examples map it. */
      vcpuInterface?: AddressRange;
    };

/** A device only the seL4 kernel maps: no memory region may cover it. */
export interface KernelDevice extends AddressRange {
  name: string;
}

/** What the Microkit tool reads from the SDK's kernel configuration for this board. */
export interface MicrokitPlatformFacts {
  /** Physical RAM where the tool places memory regions that have no phys_addr. */
  ram: AddressRange;
  /** Highest user virtual address, inclusive (seL4_UserTop). */
  userTop: number;
  /** KernelNumDomains and KernelNumDomainSchedules of the Microkit kernel build. */
  numDomains: number;
  numDomainSchedules: number;
  /**
   * RAM as the seL4 build describes it (platform_gen.json's memory), when it is not just `ram`: the
   * regions between the holes the firmware keeps (the Odroid-C4's secure monitor). The tool places
   * regions in these, and a phys_addr in RAM must lie inside one of them.
   */
  ramRegions?: readonly AddressRange[];
  /** Devices the kernel keeps for itself (platform_gen.json's kernel-only windows). */
  kernelDevices?: readonly KernelDevice[];
  /** PADDR_USER_DEVICE_TOP: device memory outside RAM ends here (2^40 on the Cortex-A53 and A55). */
  physicalAddressTop?: number;
}

/** Where libvmm's examples put a Linux guest on this board, and the device tree it is given. */
export interface GuestLayoutFacts {
  /** Short name, used in artifact names: `simple`. */
  name: string;
  ram: AddressRange;
  dtbAddress: number;
  initrdAddress: number;
  /** The GIC as the guest sees it (on GICv2 the CPU interface is where GICV is mapped). */
  gic:
    | { version: 2; distributor: AddressRange; cpuInterface: AddressRange }
    | { version: 3; distributor: AddressRange; redistributor: AddressRange };
  /** The UART passed through to the guest; `irq` is its INTID. */
  uart: { kind: "pl011" | "imx" | "meson"; base: number; irq: number };
  /** The device tree's root `model` and `compatible` (default: a generic virtkit guest). */
  machine?: { model: string; compatible: readonly string[] };
  /** The guest's CPU `compatible` (default arm,cortex-a53). */
  cpuCompatible?: string;
  /** The i.MX8M on-chip OTP controller (OCOTP), which Linux's i.MX8M SoC driver reads. */
  ocotp?: AddressRange;
  /** /chosen/bootargs unless the user gives --append. */
  bootargs: string;
  psciMethod: "smc" | "hvc";
}

/** QEMU-style virtio-mmio transports: `slots` windows of `stride` bytes from `base`, slot n on INTID firstIrq + n. */
export interface VirtioMmioFacts {
  base: number;
  stride: number;
  slots: number;
  firstIrq: number;
  /** The slot a NIC given without a place lands in (QEMU: the last free one). */
  nicSlot: number;
  /** The slot a disk given without a place lands in (libvmm's CI puts its virtio-blk disk in slot 1). */
  diskSlot: number;
}

export interface BoardOptions {
  console: Console;
  host: HostEventSink;
  /** The system's clock: typed input reaches the UART paced in its time. */
  clock: MachineClock;
  /** RAM size in bytes (default: the board's). */
  ramSize?: number;
  /** The firmware was asked to power the board off (PSCI SYSTEM_OFF over SMC). */
  onPowerOff?: () => void;
  /** A virtio-net NIC in one of the board's virtio-mmio slots instead of an empty transport. */
  nic?: VirtioNetNicOptions;
  /** A virtio-blk disk in one of the board's virtio-mmio slots (a slot other than the NIC's). */
  disk?: VirtioBlkDiskOptions;
}

/** A virtio-net device plugged into virtio-mmio slot `slot` (its IRQ is the slot's), its wire the network. */
export interface VirtioNetNicOptions {
  slot: number;
  mac: Uint8Array | string;
  wire: EthernetWire;
  /** QEMU's legacy transport (Version 1), as QEMU gives a virtio-net-device without force-legacy=false. */
  legacy?: boolean;
  /** Where the NIC reports a driver breaking the rules (default: the board's console). */
  onError?: (message: string) => void;
}

/** A virtio-blk device plugged into virtio-mmio slot `slot` (its IRQ is the slot's), its medium the back-end. */
export interface VirtioBlkDiskOptions {
  slot: number;
  /** The medium: a disk-image file (src/machine/backends/disk-image.ts), memory, … */
  backend: BlockBackend;
  /** QEMU's legacy transport (Version 1) instead of the modern one. */
  legacy?: boolean;
  /** Where the disk reports a driver breaking the rules (default: the board's console). */
  onError?: (message: string) => void;
}

export interface BoardDescription {
  /** The Microkit board name (`--board`). */
  readonly name: string;
  /** One line for `--board` listings. */
  readonly summary: string;
  readonly ram: AddressRange;
  readonly gic: GicFacts;
  readonly uart: AddressRange & { irq: number };
  readonly virtioMmio?: VirtioMmioFacts;
  readonly microkit: MicrokitPlatformFacts;
  readonly guest: GuestLayoutFacts;
  create(options: BoardOptions): Board;
}

export interface DeviceWindow {
  base: number;
  size: number;
  device: MmioDevice;
}

export interface Board {
  readonly name: string;
  readonly description: BoardDescription;
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

/** The physical address and INTID of virtio-mmio transport `n`. */
export function virtioMmioSlot(facts: VirtioMmioFacts, n: number): { base: number; irq: number } {
  if (!Number.isInteger(n) || n < 0 || n >= facts.slots) {
    throw new RangeError(`virtio-mmio slot ${n} does not exist: the board has slots 0 to ${facts.slots - 1}`);
  }
  return { base: facts.base + facts.stride * n, irq: facts.firstIrq + n };
}
