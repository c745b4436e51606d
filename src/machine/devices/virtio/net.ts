// virtio-net (virtio 1.2 §5.1): frames from transmitq1 go out on an EthernetWire; wire frames fill receiveq1.

import type { EthernetWire } from "../ethernet.ts";
import type { AccessSize, MmioDevice } from "../mmio.ts";
import {
  VIRTIO_NET_CONFIG_SIZE,
  VIRTIO_NET_CONFIG_STATUS,
  VIRTIO_NET_HDR_NUM_BUFFERS,
  VIRTIO_NET_HDR_SIZE,
  VIRTIO_NET_HDR_SIZE_LEGACY,
  VIRTIO_NET_RX_QUEUE,
  VIRTIO_NET_S_LINK_UP,
  VIRTIO_NET_TX_QUEUE,
  VirtioDeviceId,
  VirtioFeature,
  VirtioNetFeature,
  featureBits,
} from "./constants.ts";
import { VirtioMmioTransport } from "./mmio-transport.ts";
import type { VirtioDevice, VirtioDeviceOptions, VirtioTransport } from "./transport.ts";
import { VirtqueueFault, describeSegment, type BufferSegment } from "./virtqueue.ts";

/**
 * `memory` is what the device reaches by DMA (the board's RAM for the passed-through NIC, a VM's RAM for
 * a VMM's emulated one); `irq` the transport's interrupt line (on QEMU virt: slot n's SPI, INTID 48 + n).
 */
export interface VirtioNetOptions extends VirtioDeviceOptions {
  /** The network the device is plugged into. */
  wire: EthernetWire;
  /** The device's MAC address: 6 bytes, or text such as "52:55:00:d1:55:01". */
  mac: Uint8Array | string;
  /** Frames held while the driver has posted no receive buffers; further ones are dropped (default 256). */
  rxQueueLimit?: number;
}

/** What the device has done since it was created. */
export interface VirtioNetStats {
  txFrames: number;
  txBytes: number;
  rxFrames: number;
  rxBytes: number;
  /** Frames from the wire while the driver was not running the receive queue (or the link was down). */
  rxDroppedNotRunning: number;
  /** Frames from the wire beyond rxQueueLimit while no receive buffers were posted. */
  rxDroppedQueueFull: number;
  /** Frames from the wire longer than the next receive buffer. */
  rxDroppedTooLong: number;
  /** Frames the driver sent longer than any Ethernet frame (MTU 65535), or while the link was down. */
  txDropped: number;
}

/** QueueNumMax of both queues, as QEMU's virtio-net (rx_queue_size and tx_queue_size 256). */
export const VIRTIO_NET_QUEUE_SIZE = 256;
/** The largest frame the device sends: Linux's largest MTU (ETH_MAX_MTU 65535) plus a VLAN Ethernet header. */
const MAX_FRAME_LENGTH = 65535 + 18;
const DEFAULT_RX_QUEUE_LIMIT = 256;

/** Parses a MAC address given as 6 bytes or as six hex pairs separated by ':' or '-'. */
export function parseMac(mac: Uint8Array | string): Uint8Array {
  if (typeof mac !== "string") {
    if (mac.length !== 6) throw new Error(`a MAC address has 6 bytes, not ${mac.length}`);
    return Uint8Array.from(mac);
  }
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
    throw new Error(`'${mac}' is not a MAC address: write six hex pairs, such as 52:55:00:d1:55:01`);
  }
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join(":");
}

export class VirtioNet implements MmioDevice, VirtioDevice {
  readonly name: string;
  readonly deviceId = VirtioDeviceId.NET;
  readonly queueCount = 2;
  readonly queueSizeMax = VIRTIO_NET_QUEUE_SIZE;
  readonly configSize = VIRTIO_NET_CONFIG_SIZE;
  readonly stats: VirtioNetStats = {
    txFrames: 0,
    txBytes: 0,
    rxFrames: 0,
    rxBytes: 0,
    rxDroppedNotRunning: 0,
    rxDroppedQueueFull: 0,
    rxDroppedTooLong: 0,
    txDropped: 0,
  };
  /** The register file the guest's driver reaches: the board maps this one. */
  readonly transport: VirtioTransport;
  private readonly wire: EthernetWire;
  private readonly mac: Uint8Array;
  private readonly rxQueueLimit: number;
  private linkUp = true;
  /** Frames from the wire waiting for receive buffers, oldest first. */
  private pendingRx: Uint8Array[] = [];
  /** Set while filling receive buffers, so a frame arriving meanwhile only joins the queue. */
  private delivering = false;

  constructor(options: VirtioNetOptions) {
    this.mac = parseMac(options.mac);
    this.name = options.name ?? "virtio-net";
    this.rxQueueLimit = options.rxQueueLimit ?? DEFAULT_RX_QUEUE_LIMIT;
    this.wire = options.wire;
    const transport = options.transport ?? ((o) => new VirtioMmioTransport(o));
    this.transport = transport({
      name: this.name,
      memory: options.memory,
      irq: options.irq,
      legacy: options.legacy,
      device: this,
      onError: options.onError,
    });
    options.wire.connect((frame) => this.receive(frame));
  }

  /** `cpu` is ignored: the transport has no banked registers. */
  read(offset: number, size: AccessSize, cpu = 0): bigint {
    return this.transport.read(offset, size, cpu);
  }

  write(offset: number, size: AccessSize, value: bigint, cpu = 0): void {
    this.transport.write(offset, size, value, cpu);
  }

  /** The MAC address the driver reads (a legacy driver may change it). */
  get macAddress(): string {
    return formatMac(this.mac);
  }

  /** Frames from the wire still waiting for receive buffers. */
  get pendingFrames(): number {
    return this.pendingRx.length;
  }

  /** Plugs or unplugs the cable: the status field changes and the driver gets a configuration-change notification. */
  setLinkUp(up: boolean): void {
    if (up === this.linkUp) return;
    this.linkUp = up;
    if (!up) this.pendingRx = [];
    this.transport.configChanged();
  }

  // ---- VirtioDevice ----------------------------------------------------------------------------

  queueName(index: number): string {
    return index === VIRTIO_NET_RX_QUEUE
      ? "receiveq1"
      : index === VIRTIO_NET_TX_QUEUE
        ? "transmitq1"
        : "none";
  }

  /**
   * MAC and STATUS (the link is reported up), indirect descriptors, and VERSION_1 on the modern
   * transport; the legacy one also says ANY_LAYOUT, which the device honours either way. No
   * offloads and no mergeable buffers: the driver posts whole-frame receive buffers.
   */
  offeredFeatures(legacy: boolean): bigint {
    return featureBits(
      VirtioNetFeature.MAC,
      VirtioNetFeature.STATUS,
      VirtioFeature.INDIRECT_DESC,
      legacy ? VirtioFeature.ANY_LAYOUT : VirtioFeature.VERSION_1,
    );
  }

  readConfig(offset: number, size: 1 | 2 | 4): number {
    const config = this.config();
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = value * 256 + config[offset + i]!;
    return value;
  }

  writeConfig(offset: number, size: 1 | 2 | 4, value: number): void {
    // Legacy drivers without a control queue set the MAC by writing it (Linux does, for `ip link set address`);
    // for modern devices the field is read-only.
    if (!this.transport.legacy) return;
    for (let i = 0; i < size; i++) {
      if (offset + i < 6) this.mac[offset + i] = (value >>> (8 * i)) & 0xff;
    }
  }

  queueNotify(index: number): void {
    if (index === VIRTIO_NET_TX_QUEUE) this.transmit();
    else if (index === VIRTIO_NET_RX_QUEUE) this.deliver();
  }

  reset(): void {
    // Frames waiting for the old driver instance are stale for the next one.
    this.pendingRx = [];
  }

  // ---- data path -------------------------------------------------------------------------------

  private config(): Uint8Array {
    const config = new Uint8Array(VIRTIO_NET_CONFIG_SIZE);
    config.set(this.mac, 0);
    config[VIRTIO_NET_CONFIG_STATUS] = this.linkUp ? VIRTIO_NET_S_LINK_UP : 0;
    return config;
  }

  /** struct virtio_net_hdr: 12 bytes (with num_buffers) on modern devices, 10 on legacy ones without MRG_RXBUF. */
  private headerLength(): number {
    return this.transport.legacy && !this.transport.negotiated(VirtioNetFeature.MRG_RXBUF)
      ? VIRTIO_NET_HDR_SIZE_LEGACY
      : VIRTIO_NET_HDR_SIZE;
  }

  /** A frame from the wire: delivered now if there is a receive buffer, else queued (bounded). */
  private receive(frame: Uint8Array): void {
    try {
      if (!this.linkUp || !this.transport.queue(VIRTIO_NET_RX_QUEUE)) {
        this.stats.rxDroppedNotRunning++;
        return;
      }
      if (this.pendingRx.length >= this.rxQueueLimit) {
        this.stats.rxDroppedQueueFull++;
        return;
      }
      // The wire may reuse its buffer once we return.
      this.pendingRx.push(Uint8Array.from(frame));
      this.deliver();
    } catch (e) {
      this.transport.report(
        `${this.name}: internal error receiving a frame: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  /** Fills posted receive buffers with waiting frames, then notifies the driver once. */
  private deliver(): void {
    const queue = this.transport.queue(VIRTIO_NET_RX_QUEUE);
    if (this.delivering || !queue) return;
    this.delivering = true;
    const header = this.headerLength();
    let used = 0;
    try {
      this.transport.runQueue(VIRTIO_NET_RX_QUEUE, () => {
        while (this.pendingRx.length > 0) {
          const chain = queue.peek();
          if (!chain) return;
          if (chain.readable.length > 0) {
            throw new VirtqueueFault(
              describeSegment(chain.readable[0]!),
              "is device-readable, but receive buffers are written by the device",
              "Post receive buffers with VIRTQ_DESC_F_WRITE set.",
            );
          }
          const frame = this.pendingRx.shift()!;
          const length = header + frame.length;
          if (length > chain.writableBytes) {
            // Without mergeable buffers a frame must fit one chain; the buffer stays for the next frame.
            this.stats.rxDroppedTooLong++;
            continue;
          }
          const bytes = new Uint8Array(length);
          // flags 0, gso_type NONE, no checksum offsets; num_buffers 1 where the header has it.
          if (header === VIRTIO_NET_HDR_SIZE) bytes[VIRTIO_NET_HDR_NUM_BUFFERS] = 1;
          bytes.set(frame, header);
          this.scatter(chain.writable, bytes);
          queue.take();
          queue.pushUsed(chain.head, length);
          used++;
          this.stats.rxFrames++;
          this.stats.rxBytes += frame.length;
        }
      });
    } finally {
      this.delivering = false;
    }
    if (used > 0) this.transport.usedBuffers(VIRTIO_NET_RX_QUEUE);
  }

  /** Sends every frame the driver made available in transmitq1, then notifies the driver once. */
  private transmit(): void {
    const queue = this.transport.queue(VIRTIO_NET_TX_QUEUE);
    if (!queue) return;
    const header = this.headerLength();
    let used = 0;
    this.transport.runQueue(VIRTIO_NET_TX_QUEUE, () => {
      for (;;) {
        const chain = queue.peek();
        if (!chain) return;
        if (chain.writable.length > 0) {
          throw new VirtqueueFault(
            describeSegment(chain.writable[0]!),
            "is device-writable, but transmit buffers are only read by the device",
            "Post transmit buffers without VIRTQ_DESC_F_WRITE.",
          );
        }
        if (chain.readableBytes < header) {
          throw new VirtqueueFault(
            `descriptor ${chain.head}`,
            `starts a transmit chain of ${chain.readableBytes} bytes, shorter than the ${header}-byte virtio-net header`,
            `Start every transmitted frame with a ${header}-byte struct virtio_net_hdr.`,
          );
        }
        queue.take();
        const length = chain.readableBytes - header;
        if (length > MAX_FRAME_LENGTH || !this.linkUp) this.stats.txDropped++;
        else this.send(this.gather(chain.readable, header, length));
        queue.pushUsed(chain.head, 0);
        used++;
      }
    });
    if (used > 0) this.transport.usedBuffers(VIRTIO_NET_TX_QUEUE);
  }

  private send(frame: Uint8Array): void {
    this.stats.txFrames++;
    this.stats.txBytes += frame.length;
    try {
      this.wire.transmit(frame);
    } catch (e) {
      this.transport.report(
        `${this.name}: the network back-end failed to take a frame: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  /** The chain's bytes after the first `skip`, `length` of them, copied out of RAM. */
  private gather(segments: readonly BufferSegment[], skip: number, length: number): Uint8Array {
    const frame = new Uint8Array(length);
    let filled = 0;
    for (const { addr, len } of segments) {
      const from = Math.min(skip, len);
      skip -= from;
      const n = len - from;
      if (n > 0) {
        this.transport.dma.read(addr + from, frame.subarray(filled, filled + n));
        filled += n;
      }
    }
    return frame;
  }

  /** Writes `bytes` across the chain's device-writable buffers, in order. */
  private scatter(segments: readonly BufferSegment[], bytes: Uint8Array): void {
    let done = 0;
    for (const { addr, len } of segments) {
      if (done === bytes.length) return;
      const n = Math.min(len, bytes.length - done);
      this.transport.dma.write(addr, bytes.subarray(done, done + n));
      done += n;
    }
  }
}
