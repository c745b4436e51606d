// virtio-console (virtio 1.2 §5.3), one port, no features (as libvmm): what the driver puts in transmitq0
// goes to a ConsolePort; input from the port fills the buffers the driver posts in receiveq0.

import type { AccessSize, MmioDevice } from "../mmio.ts";
import {
  VIRTIO_CONSOLE_CONFIG_SIZE,
  VIRTIO_CONSOLE_RX_QUEUE,
  VIRTIO_CONSOLE_TX_QUEUE,
  VirtioDeviceId,
  VirtioFeature,
  featureBits,
} from "./constants.ts";
import { gather, scatter } from "./buffers.ts";
import { VirtioMmioTransport } from "./mmio-transport.ts";
import { errorText, type VirtioDevice, type VirtioDeviceOptions, type VirtioTransport } from "./transport.ts";
import { VirtqueueFault, describeSegment, type DescriptorChain, type SplitVirtqueue } from "./virtqueue.ts";

/**
 * Where the console's bytes go: a terminal, sDDF serial queues. Flow control both ways: `transmit` takes
 * what it can (the device offers the rest again after `VirtioConsole.transmitSpace()`), and input is
 * offered with `VirtioConsole.receive`, which takes what the driver has buffers for.
 */
export interface ConsolePort {
  /** Output from the guest; returns how many of the bytes the port took (the port copies what it keeps). */
  transmit(bytes: Uint8Array): number;
  /** The driver posted receive buffers: input the device refused before may be offered again. */
  receiveSpace?(): void;
}

export interface VirtioConsoleOptions extends VirtioDeviceOptions {
  port: ConsolePort;
  /** QueueNumMax of both queues (default 128, as libvmm). */
  queueSize?: number;
}

export interface VirtioConsoleStats {
  txBytes: number;
  rxBytes: number;
}

/** The most bytes handed to the port at once: a driver's huge buffer is sent in pieces. */
const TRANSMIT_CHUNK = 4096;

export class VirtioConsole implements MmioDevice, VirtioDevice {
  readonly name: string;
  readonly deviceId = VirtioDeviceId.CONSOLE;
  readonly queueCount = 2;
  readonly queueSizeMax: number;
  readonly configSize = VIRTIO_CONSOLE_CONFIG_SIZE;
  readonly stats: VirtioConsoleStats = { txBytes: 0, rxBytes: 0 };
  readonly transport: VirtioTransport;
  private readonly port: ConsolePort;
  /** A transmit chain the port has not taken all of: its queue, and how far it got. */
  private partial: { queue: SplitVirtqueue; chain: DescriptorChain; sent: number } | undefined;
  private transmitting = false;

  constructor(options: VirtioConsoleOptions) {
    this.name = options.name ?? "virtio-console";
    this.port = options.port;
    this.queueSizeMax = options.queueSize ?? 128;
    const transport = options.transport ?? ((o) => new VirtioMmioTransport(o));
    this.transport = transport({
      name: this.name,
      memory: options.memory,
      irq: options.irq,
      legacy: options.legacy,
      device: this,
      onError: options.onError,
    });
  }

  read(offset: number, size: AccessSize, cpu = 0): bigint {
    return this.transport.read(offset, size, cpu);
  }

  write(offset: number, size: AccessSize, value: bigint, cpu = 0): void {
    this.transport.write(offset, size, value, cpu);
  }

  /**
   * Input for the guest: fills the receive buffers the driver has posted and returns how many bytes it
   * took (0 while the driver is not running or has posted none). Offer the rest after `receiveSpace`.
   */
  receive(bytes: Uint8Array): number {
    const queue = this.transport.queue(VIRTIO_CONSOLE_RX_QUEUE);
    if (!queue || bytes.length === 0) return 0;
    let taken = 0;
    let used = 0;
    this.transport.runQueue(VIRTIO_CONSOLE_RX_QUEUE, () => {
      while (taken < bytes.length) {
        const chain = queue.peek();
        if (!chain) return;
        if (chain.readable.length > 0) {
          throw new VirtqueueFault(
            describeSegment(chain.readable[0]!),
            "is device-readable, but receive buffers are written by the device",
            "Post receive buffers with VIRTQ_DESC_F_WRITE set.",
          );
        }
        queue.take();
        const n = scatter(this.transport.dma, chain.writable, bytes.subarray(taken));
        queue.pushUsed(chain.head, n);
        used++;
        taken += n;
      }
    });
    this.stats.rxBytes += taken;
    if (used > 0) this.transport.usedBuffers(VIRTIO_CONSOLE_RX_QUEUE);
    return taken;
  }

  /** The port has room again: transmit what the driver queued. */
  transmitSpace(): void {
    this.transmit();
  }

  // ---- VirtioDevice ----------------------------------------------------------------------------

  queueName(index: number): string {
    return index === VIRTIO_CONSOLE_RX_QUEUE
      ? "receiveq0"
      : index === VIRTIO_CONSOLE_TX_QUEUE
        ? "transmitq0"
        : "none";
  }

  /** No console features (no SIZE, MULTIPORT or EMERG_WRITE), as libvmm; indirect descriptors. */
  offeredFeatures(legacy: boolean): bigint {
    return featureBits(VirtioFeature.INDIRECT_DESC, ...(legacy ? [] : [VirtioFeature.VERSION_1]));
  }

  /** cols, rows, max_nr_ports and emerg_wr are only meaningful with features not offered: they read 0. */
  readConfig(): number {
    return 0;
  }

  writeConfig(): void {}

  queueNotify(index: number): void {
    if (index === VIRTIO_CONSOLE_TX_QUEUE) this.transmit();
    else if (index === VIRTIO_CONSOLE_RX_QUEUE) this.tellPort();
  }

  reset(): void {
    this.partial = undefined;
  }

  // ---- data path -------------------------------------------------------------------------------

  private tellPort(): void {
    try {
      this.port.receiveSpace?.();
    } catch (e) {
      this.transport.report(`${this.name}: the console back-end failed: ${errorText(e)}`);
    }
  }

  /** Sends the driver's transmit buffers to the port, in order, until it is full or they run out. */
  private transmit(): void {
    const queue = this.transport.queue(VIRTIO_CONSOLE_TX_QUEUE);
    if (!queue || this.transmitting) return;
    this.transmitting = true;
    let used = 0;
    try {
      this.transport.runQueue(VIRTIO_CONSOLE_TX_QUEUE, () => {
        for (;;) {
          let current = this.partial;
          if (current && current.queue !== queue) current = this.partial = undefined;
          if (!current) {
            const chain = queue.peek();
            if (!chain) return;
            if (chain.writable.length > 0) {
              throw new VirtqueueFault(
                describeSegment(chain.writable[0]!),
                "is device-writable, but transmit buffers are only read by the device",
                "Post transmit buffers without VIRTQ_DESC_F_WRITE.",
              );
            }
            queue.take();
            current = this.partial = { queue, chain, sent: 0 };
          }
          while (current.sent < current.chain.readableBytes) {
            const n = Math.min(TRANSMIT_CHUNK, current.chain.readableBytes - current.sent);
            const bytes = gather(this.transport.dma, current.chain.readable, current.sent, n);
            const took = this.offer(bytes);
            current.sent += took;
            this.stats.txBytes += took;
            if (took < n) return; // the port is full: transmitSpace() resumes
          }
          this.partial = undefined;
          queue.pushUsed(current.chain.head, 0);
          used++;
        }
      });
    } finally {
      this.transmitting = false;
    }
    if (used > 0) this.transport.usedBuffers(VIRTIO_CONSOLE_TX_QUEUE);
  }

  private offer(bytes: Uint8Array): number {
    try {
      const took = this.port.transmit(bytes);
      return Number.isInteger(took) ? Math.max(0, Math.min(took, bytes.length)) : bytes.length;
    } catch (e) {
      this.transport.report(
        `${this.name}: the console back-end failed to take output: ${errorText(e)}; the bytes were dropped`,
      );
      return bytes.length;
    }
  }
}
