// A virtio driver in TypeScript for device-model tests: Linux's virtio_mmio order of register writes,
// split rings and buffers laid out in guest RAM, chains (direct or indirect) made available and used
// entries collected. Works on any MmioDevice over any DmaMemory, so the same driver tests the board's
// devices and a VMM's.
import type { AccessSize, MmioDevice } from "../../src/machine/devices/mmio.ts";
import {
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VirtioFeature,
  VirtioMmio as R,
  VirtioStatus as S,
} from "../../src/machine/devices/virtio/constants.ts";
import { DeviceDma, type DmaMemory } from "../../src/machine/devices/virtio/dma.ts";

export class RecordingIrq {
  level = false;
  raised = 0;
  set(high: boolean): void {
    if (high && !this.level) this.raised++;
    this.level = high;
  }
}

export interface DriverQueue {
  index: number;
  size: number;
  desc: number;
  avail: number;
  used: number;
  nextDesc: number;
  availIdx: number;
  lastUsed: number;
}

export interface Segment {
  addr: number;
  len: number;
  write?: boolean;
}

/** A guest RAM of one region at `base`, as a VMM maps it: the shape libvmm's GuestRam has. */
export function guestRam(base: number, size: number): { regions: { gpa: number; bytes: Uint8Array }[] } {
  return { regions: [{ gpa: base, bytes: new Uint8Array(size) }] };
}

export class VirtioTestDriver {
  readonly ram: DeviceDma;
  /** Where the next buffer comes from (a bump allocator in guest RAM). */
  private nextBuffer: number;

  constructor(
    readonly device: MmioDevice,
    memory: DmaMemory,
    /** Guest RAM from here on is the driver's to use for rings and buffers. */
    private readonly arena: number,
    private readonly legacy = false,
  ) {
    this.ram = new DeviceDma(memory);
    this.nextBuffer = arena + 0x10_0000;
  }

  r(offset: number, size: AccessSize = 4): number {
    return Number(this.device.read(offset, size, 0));
  }

  w(offset: number, value: number | bigint, size: AccessSize = 4): void {
    this.device.write(offset, size, BigInt(value), 0);
  }

  get status(): number {
    return this.r(R.Status);
  }

  deviceFeatures(): bigint {
    this.w(R.DeviceFeaturesSel, 1);
    const high = BigInt(this.r(R.DeviceFeatures));
    this.w(R.DeviceFeaturesSel, 0);
    return (high << 32n) | BigInt(this.r(R.DeviceFeatures));
  }

  writeDriverFeatures(features: bigint): void {
    this.w(R.DriverFeaturesSel, 1);
    this.w(R.DriverFeatures, Number(features >> 32n));
    this.w(R.DriverFeaturesSel, 0);
    this.w(R.DriverFeatures, Number(features & 0xffff_ffffn));
  }

  /** Linux's order: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK. Returns the status read back. */
  negotiate(features?: bigint): number {
    this.w(R.Status, 0);
    this.w(R.Status, S.ACKNOWLEDGE);
    this.w(R.Status, S.ACKNOWLEDGE | S.DRIVER);
    this.writeDriverFeatures(features ?? this.deviceFeatures());
    if (!this.legacy) this.w(R.Status, S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK);
    return this.status;
  }

  /** Sets up queue `index` with `size` entries; its rings at arena + index * 0x4000. */
  setupQueue(index: number, size: number): DriverQueue {
    const base = this.arena + index * 0x4000;
    this.ram.write(base, new Uint8Array(0x4000));
    this.w(R.QueueSel, index);
    const max = this.r(R.QueueNumMax);
    if (max < size) throw new Error(`queue ${index}: QueueNumMax is ${max}, less than ${size}`);
    this.w(R.QueueNum, size);
    const desc = base;
    const avail = desc + 16 * size;
    let used: number;
    if (this.legacy) {
      used = Math.ceil((avail + 6 + 2 * size) / 4096) * 4096;
      this.w(R.QueueAlign, 4096);
      this.w(R.QueuePFN, base / 4096);
    } else {
      used = base + 0x2000;
      this.w(R.QueueDescLow, desc);
      this.w(R.QueueDescHigh, 0);
      this.w(R.QueueDriverLow, avail);
      this.w(R.QueueDriverHigh, 0);
      this.w(R.QueueDeviceLow, used);
      this.w(R.QueueDeviceHigh, 0);
      this.w(R.QueueReady, 1);
    }
    return { index, size, desc, avail, used, nextDesc: 0, availIdx: 0, lastUsed: 0 };
  }

  /** negotiate + `queues` queues of `size` + DRIVER_OK. */
  bringUp(queues: number, size = 8, features?: bigint): DriverQueue[] {
    if (this.legacy) this.w(R.GuestPageSize, 4096);
    this.negotiate(features);
    const qs = Array.from({ length: queues }, (_, i) => this.setupQueue(i, size));
    this.w(R.Status, this.status | S.DRIVER_OK);
    return qs;
  }

  /** A fresh buffer in guest RAM, filled with `content` (or zeros). */
  buffer(length: number, content?: Uint8Array): number {
    // Past the end of RAM the allocator starts again (fuzzers allocate without end).
    if (!this.ram.isRam(this.nextBuffer, Math.max(length, 1))) this.nextBuffer = this.arena + 0x10_0000;
    const addr = this.nextBuffer;
    this.nextBuffer += Math.ceil(Math.max(length, 1) / 16) * 16;
    this.ram.write(addr, content ?? new Uint8Array(length));
    return addr;
  }

  bytes(addr: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.ram.read(addr, out);
    return out;
  }

  writeDesc(
    q: DriverQueue,
    i: number,
    addr: number,
    len: number,
    flags: number,
    next = 0,
    table = q.desc,
  ): void {
    const at = table + 16 * i;
    this.ram.setU32(at, addr % 0x1_0000_0000);
    this.ram.setU32(at + 4, Math.floor(addr / 0x1_0000_0000));
    this.ram.setU32(at + 8, len);
    this.ram.setU16(at + 12, flags);
    this.ram.setU16(at + 14, next);
  }

  /** Puts `head` in the available ring. */
  publish(q: DriverQueue, head: number): void {
    this.ram.setU16(q.avail + 4 + 2 * (q.availIdx % q.size), head);
    q.availIdx = (q.availIdx + 1) & 0xffff;
    this.ram.setU16(q.avail + 2, q.availIdx);
  }

  /** Makes a chain of `segments` available (descriptors taken in table order) and returns its head. */
  addChain(q: DriverQueue, segments: Segment[]): number {
    const indices = segments.map((_, k) => (q.nextDesc + k) % q.size);
    q.nextDesc = (q.nextDesc + segments.length) % q.size;
    segments.forEach((s, k) => {
      const last = k === segments.length - 1;
      const flags = (s.write ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT);
      this.writeDesc(q, indices[k]!, s.addr, s.len, flags, last ? 0 : indices[k + 1]!);
    });
    this.publish(q, indices[0]!);
    return indices[0]!;
  }

  /** The same chain in an indirect table (needs VIRTIO_F_INDIRECT_DESC): one main-table descriptor. */
  addIndirectChain(q: DriverQueue, segments: Segment[]): number {
    const table = this.buffer(16 * segments.length);
    segments.forEach((s, k) => {
      const last = k === segments.length - 1;
      const flags = (s.write ? VIRTQ_DESC_F_WRITE : 0) | (last ? 0 : VIRTQ_DESC_F_NEXT);
      this.writeDesc(q, k, s.addr, s.len, flags, last ? 0 : k + 1, table);
    });
    const head = q.nextDesc;
    q.nextDesc = (q.nextDesc + 1) % q.size;
    this.writeDesc(q, head, table, 16 * segments.length, VIRTQ_DESC_F_INDIRECT);
    this.publish(q, head);
    return head;
  }

  notify(q: DriverQueue): void {
    this.w(R.QueueNotify, q.index);
  }

  /** Used entries the device added since the last call. */
  takeUsed(q: DriverQueue): { id: number; len: number }[] {
    const idx = this.ram.u16(q.used + 2);
    const out: { id: number; len: number }[] = [];
    while (q.lastUsed !== idx) {
      const at = q.used + 4 + 8 * (q.lastUsed % q.size);
      out.push({ id: this.ram.u32(at), len: this.ram.u32(at + 4) });
      q.lastUsed = (q.lastUsed + 1) & 0xffff;
    }
    return out;
  }

  /** Reads InterruptStatus and acknowledges it, as Linux's vm_interrupt does. */
  ackInterrupt(): number {
    const status = this.r(R.InterruptStatus);
    this.w(R.InterruptACK, status);
    return status;
  }

  needsReset(): boolean {
    return (this.status & S.DEVICE_NEEDS_RESET) !== 0;
  }
}

/** The feature bits every modern device must offer and a driver accepts. */
export const VERSION_1 = 1n << BigInt(VirtioFeature.VERSION_1);
