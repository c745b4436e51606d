// The driver side of virtio 1.2 over MMIO, for sDDF's virtio drivers: the modern transport's handshake, and split virtqueues in a driver-owned DMA region.

import type { Pd } from "../../microkit/index.ts";
import {
  VIRTIO_MMIO_MAGIC,
  VIRTIO_MMIO_VERSION_LEGACY,
  VIRTIO_MMIO_VERSION_MODERN,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_SIZE,
  VIRTQ_USED_ELEM_SIZE,
  VirtioFeature,
  VirtioMmio,
  VirtioStatus,
  splitRingSizes,
} from "../../machine/devices/virtio/constants.ts";
import { SharedFields } from "../shared.ts";
import { hex } from "../../util/hex.ts";

/** A buffer of a descriptor chain: a physical address, a length and whether the device writes it. */
export interface ChainBuffer {
  addr: number;
  len: number;
  write: boolean;
}

/** Byte offsets of a split queue of `size` entries laid out from 0: descriptors, available ring, used ring. */
export function splitQueueLayout(size: number): { desc: number; avail: number; used: number; total: number } {
  const parts = splitRingSizes(size);
  const avail = parts.desc;
  const used = Math.ceil((avail + parts.avail) / 4) * 4;
  return { desc: 0, avail, used, total: used + parts.used };
}

/**
 * A split virtqueue as its driver keeps it (virtio 1.2 §2.7): the three rings in `ring` (bytes of the
 * driver's DMA region whose physical address is `paddr`), a free list of descriptors, and the chains
 * handed to the device. What the device writes back (used ids and lengths) is checked before use.
 */
export class DriverVirtqueue {
  readonly layout: ReturnType<typeof splitQueueLayout>;
  private readonly fields: SharedFields;
  private readonly free: number[];
  /** Chains the device holds: head → every descriptor of the chain. */
  private readonly posted = new Map<number, number[]>();
  private availIdx = 0;
  private lastUsed = 0;

  constructor(
    readonly size: number,
    ring: Uint8Array,
    readonly paddr: number,
  ) {
    this.layout = splitQueueLayout(size);
    if (ring.length < this.layout.total) {
      throw new Error(
        `a virtqueue of ${size} entries needs ${this.layout.total} bytes, the region has ${ring.length}`,
      );
    }
    ring.fill(0, 0, this.layout.total);
    this.fields = new SharedFields(ring.subarray(0, this.layout.total));
    this.free = Array.from({ length: size }, (_, i) => size - 1 - i);
  }

  get freeDescriptors(): number {
    return this.free.length;
  }

  /** Chains the device has not returned yet. */
  get outstanding(): number {
    return this.posted.size;
  }

  /** Makes a chain available to the device; returns its head, or undefined if there are too few free descriptors. */
  add(buffers: readonly ChainBuffer[]): number | undefined {
    if (buffers.length === 0 || buffers.length > this.free.length) return undefined;
    const chain = buffers.map(() => this.free.pop()!);
    buffers.forEach((b, i) => {
      const at = this.layout.desc + chain[i]! * VIRTQ_DESC_SIZE;
      const last = i === buffers.length - 1;
      this.fields.setU64(at, b.addr);
      this.fields.setU32(at + 8, b.len);
      this.fields.setU16(at + 12, (b.write ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT));
      this.fields.setU16(at + 14, last ? 0 : chain[i + 1]!);
    });
    const head = chain[0]!;
    this.posted.set(head, chain);
    // The ring entry first, then the index that publishes it.
    this.fields.setU16(this.layout.avail + 4 + 2 * (this.availIdx % this.size), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.fields.setU16(this.layout.avail + 2, this.availIdx);
    return head;
  }

  /**
   * Chains the device has used since the last call, with the bytes it wrote; their descriptors are
   * free again. A used entry naming no chain we posted is reported through `complain` and skipped.
   */
  takeUsed(complain: (text: string) => void): { head: number; len: number }[] {
    const used: { head: number; len: number }[] = [];
    const deviceIdx = this.fields.u16(this.layout.used + 2);
    const pending = (deviceIdx - this.lastUsed) & 0xffff;
    if (pending > this.size) {
      complain(
        `the used ring index ${deviceIdx} is ${pending} entries ahead of ${this.lastUsed}, more than the queue size ${this.size}`,
      );
      this.lastUsed = deviceIdx;
      return used;
    }
    for (; this.lastUsed !== deviceIdx; this.lastUsed = (this.lastUsed + 1) & 0xffff) {
      const at = this.layout.used + 4 + (this.lastUsed % this.size) * VIRTQ_USED_ELEM_SIZE;
      const head = this.fields.u32(at);
      const chain = this.posted.get(head);
      if (!chain) {
        complain(`the device used descriptor ${head}, which heads no chain the driver made available`);
        continue;
      }
      this.posted.delete(head);
      this.free.push(...chain);
      used.push({ head, len: this.fields.u32(at + 4) });
    }
    return used;
  }
}

/** A virtio device behind a modern virtio-mmio register window, driven from a PD. */
export class VirtioMmioDriverTransport {
  constructor(
    private readonly pd: Pd,
    /** The vaddr of the device's register window in the PD. */
    private readonly base: number,
    /** Names the device in messages. */
    readonly name: string,
  ) {}

  read32(offset: number): number {
    return this.pd.memory.read32(this.base + offset) >>> 0;
  }
  write32(offset: number, value: number): void {
    this.pd.memory.write32(this.base + offset, value >>> 0);
  }
  configRead8(offset: number): number {
    return this.pd.memory.read8(this.base + VirtioMmio.Config + offset);
  }
  configRead32(offset: number): number {
    return this.read32(VirtioMmio.Config + offset);
  }
  /** A 64-bit configuration field, read until ConfigGeneration says the two halves belong together. */
  configRead64(offset: number): number {
    for (;;) {
      const generation = this.read32(VirtioMmio.ConfigGeneration);
      const low = this.configRead32(offset);
      const high = this.configRead32(offset + 4);
      if (this.read32(VirtioMmio.ConfigGeneration) === generation) return high * 2 ** 32 + low;
    }
  }

  /**
   * Resets the device and runs the handshake up to FEATURES_OK (virtio 1.2 §3.1.1): checks the magic,
   * version 2 and `deviceId`, then accepts the offered features among `wanted`; every feature in
   * `required` (VERSION_1 always) must be offered. Returns the accepted features, or why not.
   */
  negotiate(deviceId: number, wanted: bigint, required: bigint): bigint | string {
    const magic = this.read32(VirtioMmio.MagicValue);
    if (magic !== VIRTIO_MMIO_MAGIC) return `no virtio-mmio device at its registers (magic ${hex(magic)})`;
    const version = this.read32(VirtioMmio.Version);
    if (version === VIRTIO_MMIO_VERSION_LEGACY) {
      return "the device has the legacy virtio-mmio interface (version 1); this driver needs the modern one (version 2)";
    }
    if (version !== VIRTIO_MMIO_VERSION_MODERN) return `unknown virtio-mmio version ${version}`;
    const id = this.read32(VirtioMmio.DeviceID);
    if (id !== deviceId)
      return id === 0
        ? "the virtio-mmio slot is empty (device ID 0)"
        : `the device is not the expected kind (device ID ${id}, expected ${deviceId})`;
    this.write32(VirtioMmio.Status, 0);
    this.write32(VirtioMmio.Status, VirtioStatus.ACKNOWLEDGE);
    this.write32(VirtioMmio.Status, VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
    let offered = 0n;
    for (const sel of [0, 1]) {
      this.write32(VirtioMmio.DeviceFeaturesSel, sel);
      offered |= BigInt(this.read32(VirtioMmio.DeviceFeatures)) << BigInt(32 * sel);
    }
    const must = required | (1n << BigInt(VirtioFeature.VERSION_1));
    if ((offered & must) !== must) {
      this.fail();
      return `the device does not offer the features this driver needs (offered 0x${offered.toString(16)}, needs 0x${must.toString(16)})`;
    }
    const accepted = offered & (wanted | must);
    for (const sel of [0, 1]) {
      this.write32(VirtioMmio.DriverFeaturesSel, sel);
      this.write32(VirtioMmio.DriverFeatures, Number((accepted >> BigInt(32 * sel)) & 0xffff_ffffn));
    }
    this.write32(
      VirtioMmio.Status,
      VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK,
    );
    if (!(this.read32(VirtioMmio.Status) & VirtioStatus.FEATURES_OK)) {
      this.fail();
      return "the device did not accept the features (FEATURES_OK did not stay set)";
    }
    return accepted;
  }

  /** The largest size queue `index` may have (0: the queue does not exist). */
  queueSizeMax(index: number): number {
    this.write32(VirtioMmio.QueueSel, index);
    return this.read32(VirtioMmio.QueueNumMax);
  }

  /** Tells the device where queue `index` is and enables it. */
  setupQueue(index: number, queue: DriverVirtqueue): void {
    this.write32(VirtioMmio.QueueSel, index);
    this.write32(VirtioMmio.QueueNum, queue.size);
    const set = (low: number, address: number): void => {
      this.write32(low, address % 2 ** 32);
      this.write32(low + 4, Math.floor(address / 2 ** 32));
    };
    set(VirtioMmio.QueueDescLow, queue.paddr + queue.layout.desc);
    set(VirtioMmio.QueueDriverLow, queue.paddr + queue.layout.avail);
    set(VirtioMmio.QueueDeviceLow, queue.paddr + queue.layout.used);
    this.write32(VirtioMmio.QueueReady, 1);
  }

  driverOk(): void {
    this.write32(
      VirtioMmio.Status,
      VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK | VirtioStatus.DRIVER_OK,
    );
  }

  fail(): void {
    this.write32(VirtioMmio.Status, this.read32(VirtioMmio.Status) | VirtioStatus.FAILED);
  }

  /** Available-buffer notification for queue `index`. */
  notify(index: number): void {
    this.write32(VirtioMmio.QueueNotify, index);
  }

  /** Reads InterruptStatus and acknowledges what it says. */
  takeInterrupts(): number {
    const status = this.read32(VirtioMmio.InterruptStatus);
    if (status) this.write32(VirtioMmio.InterruptACK, status);
    return status;
  }

  /** The device asks for a reset (it found the driver breaking a rule). */
  needsReset(): boolean {
    return (this.read32(VirtioMmio.Status) & VirtioStatus.DEVICE_NEEDS_RESET) !== 0;
  }
}
