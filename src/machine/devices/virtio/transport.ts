// What a virtio device model and its transport ask of each other. The device-type half (net, block,
// console, sound) is written once against VirtioTransport; the transport (virtio-mmio, or virtio over
// PCI) owns the register file, feature negotiation, the queues' placement and the interrupt.

import type { IrqLine, MmioDevice } from "../mmio.ts";
import type { DeviceDma, DmaMemory } from "./dma.ts";
import type { SplitVirtqueue, VirtqueueFault } from "./virtqueue.ts";

/** The device-type half of a virtio device (net, block, …): what the transport asks of it. */
export interface VirtioDevice {
  readonly deviceId: number;
  /** How many queues the device has; QueueNumMax reads 0 for the others. */
  readonly queueCount: number;
  /** QueueNumMax of every queue. */
  readonly queueSizeMax: number;
  /** Bytes of device-specific configuration space. */
  readonly configSize: number;
  /** The queue's name in messages, as the spec calls it ("receiveq1"). */
  queueName(index: number): string;
  /** Feature bits offered: legacy transports get no VERSION_1. */
  offeredFeatures(legacy: boolean): bigint;
  readConfig(offset: number, size: 1 | 2 | 4): number;
  writeConfig(offset: number, size: 1 | 2 | 4, value: number): void;
  /** Queue `index` may have new buffers: the driver notified it, or DRIVER_OK was just set. */
  queueNotify(index: number): void;
  /** The driver reset the device. */
  reset(): void;
}

/** The transport as the device model uses it. Its register window is an MmioDevice. */
export interface VirtioTransport extends MmioDevice {
  /** Names the device in messages. */
  readonly name: string;
  /** The legacy interface (virtio 0.9.5 layouts and feature rules) is in use. */
  readonly legacy: boolean;
  /** The device's DMA into guest memory, every range checked. */
  readonly dma: DeviceDma;
  /** DRIVER_OK is set: the device may use its queues. */
  readonly driverOk: boolean;
  /** Whether feature `bitNumber` is in force. */
  negotiated(bitNumber: number): boolean;
  /** Queue `index` if the device may work on it now: DRIVER_OK, enabled by the driver and not broken. */
  queue(index: number): SplitVirtqueue | undefined;
  /** Runs `work` on queue `index`; a VirtqueueFault it throws is reported and stops the queue. False when it faulted. */
  runQueue(index: number, work: () => void): boolean;
  /** The device put buffers in queue `index`'s used ring: interrupt unless the driver suppressed it. */
  usedBuffers(index: number): void;
  /** The configuration space changed: a new generation, and a notification once the driver is up. */
  configChanged(): void;
  /** The driver broke queue `index`'s rules: stop it, set DEVICE_NEEDS_RESET, report. */
  queueFault(index: number, fault: VirtqueueFault): void;
  /** Reports a problem through the transport's onError. */
  report(message: string): void;
}

/** Everything a transport is made from. */
export interface VirtioTransportOptions {
  /** Names the device in messages ("virtio-net on virtio-mmio slot 31 (0xa003e00)"). */
  name: string;
  /** What the device reaches by DMA: the board's RAM (passthrough) or a VM's RAM as its VMM maps it. */
  memory: DmaMemory;
  /** The transport's interrupt output, high while the device has an interrupt to deliver. */
  irq: IrqLine;
  /** Legacy interface instead of the modern one. */
  legacy?: boolean;
  device: VirtioDevice;
  /** Where the device's reports go: drivers that break the rules, back-end failures. */
  onError?: (message: string) => void;
}

/** Makes the transport a device model sits behind (default: virtio-mmio). */
export type VirtioTransportFactory = (options: VirtioTransportOptions) => VirtioTransport;

/** The options every device model takes, besides its own. */
export interface VirtioDeviceOptions {
  /** What the device reaches by DMA: the board's RAM (passthrough) or a VM's RAM as its VMM maps it. */
  memory: DmaMemory;
  /** The transport's interrupt line. */
  irq: IrqLine;
  /** The legacy transport interface instead of the modern one (where the transport has one). */
  legacy?: boolean;
  /** Names the device in messages. */
  name?: string;
  /** Reports of drivers breaking the rules (the device then needs a reset) and of back-end failures. */
  onError?: (message: string) => void;
  /** The transport to sit behind (default: a virtio-mmio register window). */
  transport?: VirtioTransportFactory;
}

/** An error's message, for reports. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
