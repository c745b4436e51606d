// The virtio-net device model driven from TypeScript as Linux's virtio_mmio + virtio_net would drive it:
// feature negotiation on both transports, frames both ways, interrupts, reset, malformed chains, fuzzing.
import { describe, expect, it } from "vitest";
import type { EthernetWire } from "../../src/machine/devices/ethernet.ts";
import type { AccessSize, MmioDevice } from "../../src/machine/devices/mmio.ts";
import type { Console } from "../../src/machine/devices/console.ts";
import { VirtualClock } from "../../src/kernel/time.ts";
import { qemuVirtAarch64 } from "../../src/machine/boards/qemu_virt_aarch64/index.ts";
import {
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VirtioFeature,
  VirtioMmio as R,
  VirtioNetFeature,
  VirtioStatus as S,
  featureBits,
} from "../../src/machine/devices/virtio/constants.ts";
import { VirtioNet, parseMac, type VirtioNetOptions } from "../../src/machine/devices/virtio/net.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";

const RAM_BASE = 0x4000_0000;
const RAM_SIZE = 16 * 1024 * 1024;
const MAC = "52:55:00:d1:55:01";
const NAME = "virtio-net on virtio-mmio slot 31 (0xa003e00)";
const RX = 0;
const TX = 1;
const QUEUE_SIZE = 8;
/** Where the test driver puts things in RAM. */
const RX_RING = 0x4010_0000;
const TX_RING = 0x4011_0000;
const BUFFERS = 0x4020_0000;
const BUFFER_SIZE = 2048;

class FakeWire implements EthernetWire {
  readonly sent: Uint8Array[] = [];
  receiver: ((frame: Uint8Array) => void) | undefined;
  /** Called with each transmitted frame, e.g. to answer it at once. */
  onTransmit: ((frame: Uint8Array) => void) | undefined;

  transmit(frame: Uint8Array): void {
    this.sent.push(Uint8Array.from(frame));
    this.onTransmit?.(frame);
  }

  connect(receive: (frame: Uint8Array) => void): void {
    this.receiver = receive;
  }

  /** A frame from the network to the device. */
  send(frame: Uint8Array): void {
    this.receiver!(frame);
  }
}

class RecordingIrq {
  level = false;
  readonly transitions: boolean[] = [];
  set(high: boolean): void {
    this.level = high;
    this.transitions.push(high);
  }
}

interface TestQueue {
  index: number;
  size: number;
  desc: number;
  avail: number;
  used: number;
  nextDesc: number;
  availIdx: number;
  lastUsed: number;
}

interface Segment {
  addr: number;
  len: number;
  write?: boolean;
}

/** Plays the driver: registers through read/write, rings and buffers straight in RAM. */
class TestDriver {
  readonly memory: PhysicalMemory;
  readonly wire: FakeWire;
  readonly irq = new RecordingIrq();
  readonly errors: string[] = [];
  /** The device's registers: a VirtioNet made here, or a board's device window. */
  readonly net: MmioDevice & Pick<VirtioNet, "stats" | "pendingFrames" | "macAddress" | "setLinkUp">;
  private readonly data: DataView;

  constructor(
    readonly legacy = false,
    options: Partial<VirtioNetOptions> = {},
    /** Drive this device (on a board) instead of making one. */
    existing?: { net: TestDriver["net"]; memory: PhysicalMemory; wire: FakeWire },
  ) {
    this.memory =
      existing?.memory ??
      (options.memory as PhysicalMemory | undefined) ??
      new PhysicalMemory({ ramBase: RAM_BASE, ramSize: RAM_SIZE, reservedForCore: 0 });
    this.data = new DataView(this.memory.ram.buffer, this.memory.ram.byteOffset, this.memory.ram.byteLength);
    this.wire = existing?.wire ?? new FakeWire();
    this.net =
      existing?.net ??
      new VirtioNet({
        memory: this.memory,
        irq: this.irq,
        wire: this.wire,
        mac: MAC,
        legacy,
        name: NAME,
        onError: (m) => this.errors.push(m),
        ...options,
      });
  }

  r(offset: number, size: AccessSize = 4): number {
    return Number(this.net.read(offset, size, 0));
  }

  w(offset: number, value: number | bigint, size: AccessSize = 4): void {
    this.net.write(offset, size, BigInt(value), 0);
  }

  u16(paddr: number): number {
    return this.data.getUint16(paddr - RAM_BASE, true);
  }
  u32(paddr: number): number {
    return this.data.getUint32(paddr - RAM_BASE, true);
  }
  setU16(paddr: number, v: number): void {
    this.data.setUint16(paddr - RAM_BASE, v, true);
  }
  setU32(paddr: number, v: number): void {
    this.data.setUint32(paddr - RAM_BASE, v, true);
  }
  bytes(paddr: number, len: number): Uint8Array {
    return Uint8Array.from(this.memory.view(paddr, len));
  }
  put(paddr: number, bytes: Uint8Array): void {
    this.memory.view(paddr, bytes.length).set(bytes);
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

  /** Linux's order: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK (modern only). Returns the status read back. */
  negotiate(features?: bigint): number {
    this.w(R.Status, 0);
    this.w(R.Status, S.ACKNOWLEDGE);
    this.w(R.Status, S.ACKNOWLEDGE | S.DRIVER);
    this.writeDriverFeatures(features ?? this.deviceFeatures());
    if (!this.legacy) this.w(R.Status, S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK);
    return this.status;
  }

  /** Sets up queue `index` of `size` entries at `base` (modern: three areas; legacy: QueuePFN layout). */
  setupQueue(index: number, base: number, size = QUEUE_SIZE): TestQueue {
    this.memory.view(base, 0x3000).fill(0);
    this.w(R.QueueSel, index);
    expect(this.r(this.legacy ? R.QueuePFN : R.QueueReady), "queue not in use yet").toBe(0);
    expect(this.r(R.QueueNumMax)).toBe(256);
    this.w(R.QueueNum, size);
    const desc = base;
    const avail = desc + 16 * size;
    let used: number;
    if (this.legacy) {
      used = Math.ceil((avail + 6 + 2 * size) / 4096) * 4096;
      this.w(R.QueueAlign, 4096);
      this.w(R.QueuePFN, base / 4096);
    } else {
      used = base + 0x1000;
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

  /** negotiate + both queues + GuestPageSize (legacy) + DRIVER_OK. */
  bringUp(features?: bigint): { rx: TestQueue; tx: TestQueue } {
    if (this.legacy) this.w(R.GuestPageSize, 4096);
    this.negotiate(features);
    const rx = this.setupQueue(RX, RX_RING);
    const tx = this.setupQueue(TX, TX_RING);
    this.w(R.Status, this.status | S.DRIVER_OK);
    return { rx, tx };
  }

  writeDesc(
    q: TestQueue,
    i: number,
    addr: number,
    len: number,
    flags: number,
    next = 0,
    table = q.desc,
  ): void {
    const at = table + 16 * i;
    this.setU32(at, addr % 0x1_0000_0000);
    this.setU32(at + 4, Math.floor(addr / 0x1_0000_0000));
    this.setU32(at + 8, len);
    this.setU16(at + 12, flags);
    this.setU16(at + 14, next);
  }

  /** Puts `head` in the available ring. */
  publish(q: TestQueue, head: number): void {
    this.setU16(q.avail + 4 + 2 * (q.availIdx % q.size), head);
    q.availIdx = (q.availIdx + 1) & 0xffff;
    this.setU16(q.avail + 2, q.availIdx);
  }

  /** Makes a chain of `segments` available (descriptors taken in table order) and returns its head. */
  addChain(q: TestQueue, segments: Segment[]): number {
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

  notify(q: TestQueue): void {
    this.w(R.QueueNotify, q.index);
  }

  /** Used-ring entries since the last call. */
  takeUsed(q: TestQueue): { id: number; len: number }[] {
    const entries = [];
    const idx = this.u16(q.used + 2);
    while (q.lastUsed !== idx) {
      const at = q.used + 4 + 8 * (q.lastUsed % q.size);
      entries.push({ id: this.u32(at), len: this.u32(at + 4) });
      q.lastUsed = (q.lastUsed + 1) & 0xffff;
    }
    return entries;
  }

  /** What Linux's vm_interrupt does: read InterruptStatus, acknowledge it. */
  acknowledge(): number {
    const isr = this.r(R.InterruptStatus);
    this.w(R.InterruptACK, isr);
    return isr;
  }
}

function frame(length: number, seed = 1): Uint8Array {
  const f = new Uint8Array(length);
  f.set(parseMac("52:55:00:d1:55:01"), 0);
  f.set(parseMac("52:55:0a:00:02:02"), 6);
  f[12] = 0x08;
  f[13] = 0x00;
  for (let i = 14; i < length; i++) f[i] = (i * 7 + seed) & 0xff;
  return f;
}

const NET_HDR = 12;
const LEGACY_NET_HDR = 10;
const MODERN_FEATURES = featureBits(
  VirtioNetFeature.MAC,
  VirtioNetFeature.STATUS,
  VirtioFeature.INDIRECT_DESC,
  VirtioFeature.VERSION_1,
);

describe("virtio-net over modern virtio-mmio (version 2)", () => {
  it("identifies itself and offers MAC, STATUS, INDIRECT_DESC and VERSION_1", () => {
    const d = new TestDriver();
    expect(d.r(R.MagicValue)).toBe(0x74726976);
    expect(d.r(R.Version)).toBe(2);
    expect(d.r(R.DeviceID)).toBe(1);
    expect(d.r(R.VendorID)).toBe(0x554d4551);
    expect(d.deviceFeatures()).toBe(MODERN_FEATURES);
    d.w(R.DeviceFeaturesSel, 2);
    expect(d.r(R.DeviceFeatures)).toBe(0);
    // The configuration space: mac byte by byte (as virtio_cread_bytes), status as a 16-bit read.
    const mac = Array.from({ length: 6 }, (_, i) => d.r(R.Config + i, 1));
    expect(mac).toEqual([0x52, 0x55, 0x00, 0xd1, 0x55, 0x01]);
    expect(d.r(R.Config + 6, 2)).toBe(1);
    expect(d.r(R.Config, 4)).toBe(0xd1005552);
    expect(d.net.read(R.Config, 8, 0)).toBe(0x0001_0155_d100_5552n);
    expect(d.r(R.Config + 8, 1), "nothing beyond the 8 bytes of configuration").toBe(0);
    expect(d.r(R.ConfigGeneration)).toBe(0);
  });

  it("accepts a subset of the offered features with VERSION_1 and sets FEATURES_OK", () => {
    const d = new TestDriver();
    const status = d.negotiate(featureBits(VirtioNetFeature.MAC, VirtioFeature.VERSION_1));
    expect(status).toBe(S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK);
    expect(d.errors).toEqual([]);
  });

  it.each([
    [
      "a feature the device did not offer (CSUM)",
      featureBits(VirtioNetFeature.CSUM, VirtioFeature.VERSION_1),
    ],
    ["MRG_RXBUF, not offered", featureBits(VirtioNetFeature.MRG_RXBUF, VirtioFeature.VERSION_1)],
    ["no VERSION_1", featureBits(VirtioNetFeature.MAC)],
  ])("refuses FEATURES_OK for %s", (_what, features) => {
    const d = new TestDriver();
    expect(d.negotiate(features) & S.FEATURES_OK).toBe(0);
    expect(d.status).toBe(S.ACKNOWLEDGE | S.DRIVER);
  });

  it("refuses FEATURES_OK for features beyond bit 63", () => {
    const d = new TestDriver();
    d.w(R.Status, S.ACKNOWLEDGE | S.DRIVER);
    d.writeDriverFeatures(MODERN_FEATURES);
    d.w(R.DriverFeaturesSel, 2);
    d.w(R.DriverFeatures, 1);
    d.w(R.Status, S.ACKNOWLEDGE | S.DRIVER | S.FEATURES_OK);
    expect(d.status & S.FEATURES_OK).toBe(0);
  });

  it("sends frames to the wire byte for byte with the 12-byte header stripped, and interrupts", () => {
    const d = new TestDriver();
    const { tx } = d.bringUp();
    const a = frame(60, 1);
    const b = frame(1514, 2);
    // Linux's layouts: the header in front of the frame in one buffer, or in a descriptor of its own.
    d.put(BUFFERS, new Uint8Array(NET_HDR));
    d.put(BUFFERS + NET_HDR, a);
    d.put(BUFFERS + 0x1000, new Uint8Array(NET_HDR));
    d.put(BUFFERS + 0x2000, b);
    const head1 = d.addChain(tx, [{ addr: BUFFERS, len: NET_HDR + a.length }]);
    const head2 = d.addChain(tx, [
      { addr: BUFFERS + 0x1000, len: NET_HDR },
      { addr: BUFFERS + 0x2000, len: 1000 },
      { addr: BUFFERS + 0x2000 + 1000, len: 514 },
    ]);
    expect(d.wire.sent).toEqual([]);
    expect(d.irq.level).toBe(false);
    d.notify(tx);
    expect(d.wire.sent).toEqual([a, b]);
    expect(d.takeUsed(tx)).toEqual([
      { id: head1, len: 0 },
      { id: head2, len: 0 },
    ]);
    expect(d.irq.transitions).toEqual([true]);
    expect(d.acknowledge()).toBe(1);
    expect(d.irq.transitions).toEqual([true, false]);
    expect(d.r(R.InterruptStatus)).toBe(0);
    expect(d.net.stats).toMatchObject({ txFrames: 2, txBytes: 60 + 1514 });
    expect(d.errors).toEqual([]);
  });

  it("fills posted receive buffers with a zero header (num_buffers 1) and the frame, and interrupts", () => {
    const d = new TestDriver();
    const { rx } = d.bringUp();
    d.put(BUFFERS, new Uint8Array(BUFFER_SIZE).fill(0xee));
    const head = d.addChain(rx, [{ addr: BUFFERS, len: 1526, write: true }]);
    d.addChain(rx, [{ addr: BUFFERS + BUFFER_SIZE, len: 1526, write: true }]);
    d.notify(rx);
    expect(d.irq.level, "no frame yet").toBe(false);
    const f = frame(98);
    d.wire.send(f);
    expect(d.takeUsed(rx)).toEqual([{ id: head, len: NET_HDR + 98 }]);
    const header = d.bytes(BUFFERS, NET_HDR);
    expect(Array.from(header)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect(d.bytes(BUFFERS + NET_HDR, 98)).toEqual(f);
    expect(d.bytes(BUFFERS + NET_HDR + 98, 1)[0], "nothing written past the frame").toBe(0xee);
    expect(d.irq.level).toBe(true);
    expect(d.acknowledge()).toBe(1);
    expect(d.irq.level).toBe(false);
    expect(d.net.stats).toMatchObject({ rxFrames: 1, rxBytes: 98 });
  });

  it("scatters a received frame across several device-writable descriptors", () => {
    const d = new TestDriver();
    const { rx } = d.bringUp();
    const head = d.addChain(rx, [
      { addr: BUFFERS, len: NET_HDR, write: true },
      { addr: BUFFERS + 0x1000, len: 50, write: true },
      { addr: BUFFERS + 0x2000, len: 1500, write: true },
    ]);
    d.notify(rx);
    const f = frame(200);
    d.wire.send(f);
    expect(d.takeUsed(rx)).toEqual([{ id: head, len: NET_HDR + 200 }]);
    expect(d.bytes(BUFFERS + 10, 2)).toEqual(Uint8Array.of(1, 0));
    expect(d.bytes(BUFFERS + 0x1000, 50)).toEqual(f.subarray(0, 50));
    expect(d.bytes(BUFFERS + 0x2000, 150)).toEqual(f.subarray(50));
  });

  it("holds frames while no receive buffers are posted, drops beyond the bound, delivers when buffers come", () => {
    const d = new TestDriver(false, { rxQueueLimit: 4 });
    const { rx } = d.bringUp();
    const frames = Array.from({ length: 6 }, (_, i) => frame(64 + i, i));
    for (const f of frames) d.wire.send(f);
    expect(d.net.pendingFrames).toBe(4);
    expect(d.net.stats.rxDroppedQueueFull).toBe(2);
    expect(d.irq.level).toBe(false);
    for (let i = 0; i < 3; i++) d.addChain(rx, [{ addr: BUFFERS + i * BUFFER_SIZE, len: 1526, write: true }]);
    d.notify(rx);
    expect(d.takeUsed(rx).map((u) => u.len)).toEqual([76, 77, 78]);
    for (let i = 0; i < 3; i++)
      expect(d.bytes(BUFFERS + i * BUFFER_SIZE + NET_HDR, 64 + i)).toEqual(frames[i]);
    expect(d.net.pendingFrames).toBe(1);
    expect(d.irq.transitions, "one interrupt for the batch").toEqual([true]);
    d.acknowledge();
    d.addChain(rx, [{ addr: BUFFERS + 3 * BUFFER_SIZE, len: 1526, write: true }]);
    d.notify(rx);
    expect(d.takeUsed(rx)).toEqual([{ id: 3, len: 79 }]);
    expect(d.net.pendingFrames).toBe(0);
  });

  it("drops frames while the driver is not running and frames too long for the posted buffer", () => {
    const d = new TestDriver();
    d.wire.send(frame(60));
    expect(d.net.stats.rxDroppedNotRunning).toBe(1);
    const { rx } = d.bringUp();
    d.addChain(rx, [{ addr: BUFFERS, len: 100, write: true }]);
    d.notify(rx);
    d.wire.send(frame(1514));
    expect(d.net.stats.rxDroppedTooLong).toBe(1);
    expect(d.takeUsed(rx)).toEqual([]);
    d.wire.send(frame(88));
    expect(d.takeUsed(rx), "the buffer stayed for the next frame").toEqual([{ id: 0, len: 100 }]);
  });

  it("does not interrupt while the driver sets VIRTQ_AVAIL_F_NO_INTERRUPT", () => {
    const d = new TestDriver();
    const { tx } = d.bringUp();
    d.setU16(tx.avail, VIRTQ_AVAIL_F_NO_INTERRUPT);
    d.put(BUFFERS, new Uint8Array(NET_HDR + 60));
    d.addChain(tx, [{ addr: BUFFERS, len: NET_HDR + 60 }]);
    d.notify(tx);
    expect(d.wire.sent).toHaveLength(1);
    expect(d.takeUsed(tx)).toHaveLength(1);
    expect(d.irq.transitions).toEqual([]);
  });

  it("reads transmit chains through an indirect table", () => {
    const d = new TestDriver();
    const { tx } = d.bringUp();
    const f = frame(300);
    const table = BUFFERS + 0x8000;
    d.put(BUFFERS, new Uint8Array(NET_HDR));
    d.put(BUFFERS + 0x1000, f);
    d.writeDesc(tx, 0, BUFFERS, NET_HDR, VIRTQ_DESC_F_NEXT, 1, table);
    d.writeDesc(tx, 1, BUFFERS + 0x1000, 300, 0, 0, table);
    d.writeDesc(tx, 5, table, 32, VIRTQ_DESC_F_INDIRECT);
    d.publish(tx, 5);
    d.notify(tx);
    expect(d.wire.sent).toEqual([f]);
    expect(d.takeUsed(tx)).toEqual([{ id: 5, len: 0 }]);
  });

  it("holds transmit buffers made available before DRIVER_OK until the driver is ready", () => {
    const d = new TestDriver();
    d.negotiate();
    d.setupQueue(RX, RX_RING);
    const tx = d.setupQueue(TX, TX_RING);
    d.put(BUFFERS, new Uint8Array(NET_HDR + 60));
    d.addChain(tx, [{ addr: BUFFERS, len: NET_HDR + 60 }]);
    d.notify(tx);
    expect(d.wire.sent).toEqual([]);
    d.w(R.Status, d.status | S.DRIVER_OK);
    expect(d.wire.sent).toHaveLength(1);
  });

  it("reports the link going down and up through the status field and a configuration-change interrupt", () => {
    const d = new TestDriver();
    d.bringUp();
    d.net.setLinkUp(false);
    expect(d.r(R.Config + 6, 2)).toBe(0);
    expect(d.r(R.ConfigGeneration)).toBe(1);
    expect(d.acknowledge()).toBe(2);
    d.net.setLinkUp(true);
    expect(d.r(R.Config + 6, 2)).toBe(1);
    expect(d.r(R.ConfigGeneration)).toBe(2);
  });

  it("resets on Status 0: registers, queues, interrupt line and held frames", () => {
    const d = new TestDriver();
    const { tx } = d.bringUp();
    d.put(BUFFERS, new Uint8Array(NET_HDR + 60));
    d.addChain(tx, [{ addr: BUFFERS, len: NET_HDR + 60 }]);
    d.notify(tx);
    d.wire.send(frame(60));
    expect(d.net.pendingFrames).toBe(1);
    expect(d.irq.level).toBe(true);
    d.w(R.Status, 0);
    expect(d.status).toBe(0);
    expect(d.r(R.InterruptStatus)).toBe(0);
    expect(d.irq.level).toBe(false);
    expect(d.net.pendingFrames).toBe(0);
    d.w(R.QueueSel, TX);
    expect(d.r(R.QueueReady)).toBe(0);
    expect(d.r(R.QueueDescLow)).toBe(0);
    d.wire.send(frame(60));
    expect(d.net.stats.rxDroppedNotRunning).toBe(1);
    // And it comes back up as new.
    const again = d.bringUp();
    d.addChain(again.tx, [{ addr: BUFFERS, len: NET_HDR + 60 }]);
    d.notify(again.tx);
    expect(d.wire.sent).toHaveLength(2);
    expect(d.errors).toEqual([]);
  });

  it("reads 0 and ignores writes at unknown offsets, legacy-only registers and with wrong access sizes", () => {
    const d = new TestDriver();
    for (const offset of [0x018, 0x028, 0x03c, 0x040, 0x0c4, 0x0f8, 0x1fc])
      expect(d.r(offset), hex(offset)).toBe(0);
    expect(d.r(R.MagicValue, 2), "control registers take 32-bit accesses").toBe(0);
    expect(d.r(R.MagicValue, 1)).toBe(0);
    expect(d.net.read(R.MagicValue, 8, 0), "64-bit: two 32-bit accesses").toBe(0x2_7472_6976n);
    expect(d.r(R.MagicValue + 2), "misaligned").toBe(0);
    d.w(R.Status, S.ACKNOWLEDGE, 2);
    d.w(R.Status, S.ACKNOWLEDGE, 1);
    expect(d.status).toBe(0);
    d.w(R.MagicValue, 0);
    d.w(R.Config, 0xff, 1);
    expect(d.r(R.Config, 1), "the modern MAC is read-only").toBe(0x52);
    expect(d.r(R.SHMLenLow)).toBe(0xffff_ffff);
    expect(d.errors).toEqual([]);
  });

  it("keeps DEVICE_NEEDS_RESET out of the driver's hands", () => {
    const d = new TestDriver();
    d.w(R.Status, S.ACKNOWLEDGE | S.DEVICE_NEEDS_RESET);
    expect(d.status).toBe(S.ACKNOWLEDGE);
  });

  it("passes back-end failures to onError and keeps going", () => {
    const d = new TestDriver();
    const { tx } = d.bringUp();
    d.wire.onTransmit = () => {
      throw new Error("socket closed");
    };
    d.put(BUFFERS, new Uint8Array(NET_HDR + 60));
    d.addChain(tx, [{ addr: BUFFERS, len: NET_HDR + 60 }]);
    d.notify(tx);
    expect(d.errors).toEqual([`${NAME}: the network back-end failed to take a frame: socket closed`]);
    expect(d.takeUsed(tx)).toHaveLength(1);
  });

  it("answers a frame the wire echoes while transmitting (re-entrant receive)", () => {
    const d = new TestDriver();
    const { rx, tx } = d.bringUp();
    d.wire.onTransmit = (f) => d.wire.send(Uint8Array.from(f).reverse());
    d.addChain(rx, [{ addr: BUFFERS + 0x4000, len: 1526, write: true }]);
    d.notify(rx);
    const f = frame(80);
    d.put(BUFFERS, new Uint8Array(NET_HDR));
    d.put(BUFFERS + NET_HDR, f);
    d.addChain(tx, [{ addr: BUFFERS, len: NET_HDR + 80 }]);
    d.notify(tx);
    expect(d.bytes(BUFFERS + 0x4000 + NET_HDR, 80)).toEqual(Uint8Array.from(f).reverse());
    expect(d.takeUsed(rx)).toHaveLength(1);
    expect(d.takeUsed(tx)).toHaveLength(1);
    expect(d.irq.transitions).toEqual([true]);
  });
});

describe("virtio-net over legacy virtio-mmio (version 1)", () => {
  it("identifies as version 1 with 32-bit features: ANY_LAYOUT, no VERSION_1", () => {
    const d = new TestDriver(true);
    expect(d.r(R.Version)).toBe(1);
    expect(d.deviceFeatures()).toBe(
      featureBits(
        VirtioNetFeature.MAC,
        VirtioNetFeature.STATUS,
        VirtioFeature.INDIRECT_DESC,
        VirtioFeature.ANY_LAYOUT,
      ),
    );
    for (const offset of [R.QueueReady, R.QueueDescLow, R.ConfigGeneration]) expect(d.r(offset)).toBe(0);
  });

  it("runs without FEATURES_OK, with queues at QueuePFN pages and the used ring at QueueAlign", () => {
    const d = new TestDriver(true);
    const { rx, tx } = d.bringUp(featureBits(VirtioNetFeature.MAC, VirtioNetFeature.STATUS));
    expect(d.status).toBe(S.ACKNOWLEDGE | S.DRIVER | S.DRIVER_OK);
    d.w(R.QueueSel, TX);
    expect(d.r(R.QueuePFN)).toBe(TX_RING / 4096);
    expect(tx.used).toBe(TX_RING + 4096);
    // Transmit: the 10-byte header is stripped.
    const f = frame(74);
    d.put(BUFFERS, new Uint8Array(LEGACY_NET_HDR));
    d.put(BUFFERS + LEGACY_NET_HDR, f);
    d.addChain(tx, [
      { addr: BUFFERS, len: LEGACY_NET_HDR },
      { addr: BUFFERS + LEGACY_NET_HDR, len: 74 },
    ]);
    d.notify(tx);
    expect(d.wire.sent).toEqual([f]);
    expect(d.takeUsed(tx)).toEqual([{ id: 0, len: 0 }]);
    expect(d.acknowledge()).toBe(1);
    // Receive: a 10-byte header, no num_buffers.
    d.put(BUFFERS + 0x1000, new Uint8Array(BUFFER_SIZE).fill(0xee));
    d.addChain(rx, [{ addr: BUFFERS + 0x1000, len: 1524, write: true }]);
    d.notify(rx);
    const g = frame(342);
    d.wire.send(g);
    expect(d.takeUsed(rx)).toEqual([{ id: 0, len: LEGACY_NET_HDR + 342 }]);
    expect(d.bytes(BUFFERS + 0x1000, LEGACY_NET_HDR)).toEqual(new Uint8Array(LEGACY_NET_HDR));
    expect(d.bytes(BUFFERS + 0x1000 + LEGACY_NET_HDR, 342)).toEqual(g);
    expect(d.acknowledge()).toBe(1);
    expect(d.irq.level).toBe(false);
    expect(d.errors).toEqual([]);
  });

  it("lets a legacy driver write the MAC; releases a queue when QueuePFN is written 0", () => {
    const d = new TestDriver(true);
    d.bringUp();
    d.w(R.Config + 5, 0x42, 1);
    expect(d.net.macAddress).toBe("52:55:00:d1:55:42");
    d.w(R.QueueSel, TX);
    d.w(R.QueuePFN, 0);
    expect(d.r(R.QueuePFN)).toBe(0);
  });

  it("keeps GuestPageSize across a reset (Linux writes it once, before the reset at registration)", () => {
    const d = new TestDriver(true);
    d.w(R.GuestPageSize, 4096);
    d.w(R.Status, 0);
    d.negotiate();
    const q = d.setupQueue(TX, TX_RING);
    expect(q.desc).toBe(TX_RING);
    d.w(R.QueueSel, TX);
    expect(d.r(R.QueuePFN)).toBe(TX_RING / 4096);
    expect(d.errors).toEqual([]);
  });

  it("sets DEVICE_NEEDS_RESET on a malformed chain but sends no configuration interrupt (legacy has none)", () => {
    const d = new TestDriver(true);
    const { tx } = d.bringUp();
    d.addChain(tx, [{ addr: 0x1000_0000, len: 64 }]);
    d.notify(tx);
    expect(d.status & S.DEVICE_NEEDS_RESET).toBe(S.DEVICE_NEEDS_RESET);
    expect(d.r(R.InterruptStatus)).toBe(0);
    expect(d.errors).toHaveLength(1);
  });
});

/** A modern device up and running, for the malformed-chain cases. */
function running() {
  const d = new TestDriver();
  const queues = d.bringUp();
  return { d, ...queues };
}

const REMEDY_TAIL =
  "The device stopped queue 1 and set DEVICE_NEEDS_RESET (0x40) in Status; the driver must reset it (write 0 to Status) and set it up again.";

describe("virtio-net: malformed chains set DEVICE_NEEDS_RESET and are reported", () => {
  function expectNeedsReset(d: TestDriver, queue: number, message: string): void {
    expect(d.status & S.DEVICE_NEEDS_RESET, "DEVICE_NEEDS_RESET").toBe(S.DEVICE_NEEDS_RESET);
    expect(d.r(R.InterruptStatus) & 2, "configuration-change interrupt").toBe(2);
    expect(d.irq.level).toBe(true);
    expect(d.errors).toHaveLength(1);
    const queueName = queue === RX ? "queue 0 (receiveq1)" : "queue 1 (transmitq1)";
    expect(d.errors[0]).toBe(
      `${NAME}: ${queueName}: ${message} ${REMEDY_TAIL.replace("queue 1", `queue ${queue}`)}`,
    );
  }

  it("a transmit buffer outside RAM", () => {
    const { d, tx } = running();
    d.addChain(tx, [
      { addr: BUFFERS, len: NET_HDR },
      { addr: 0x1000_0000, len: 1514 },
    ]);
    d.notify(tx);
    expectNeedsReset(
      d,
      TX,
      "descriptor 1 points at [0x10000000, +1514), outside guest RAM [0x40000000, 0x41000000). Give the device buffers in guest RAM (for a passed-through device guest-physical addresses are physical ones).",
    );
    expect(d.wire.sent).toEqual([]);
    expect(d.takeUsed(tx)).toEqual([]);
  });

  it("a buffer that runs off the end of RAM", () => {
    const { d, tx } = running();
    d.addChain(tx, [{ addr: RAM_BASE + RAM_SIZE - 16, len: 64 }]);
    d.notify(tx);
    expect(d.errors[0]).toContain("descriptor 0 points at [0x40fffff0, +64), outside guest RAM");
  });

  it("a descriptor loop", () => {
    const { d, tx } = running();
    d.writeDesc(tx, 2, BUFFERS, NET_HDR, VIRTQ_DESC_F_NEXT, 3);
    d.writeDesc(tx, 3, BUFFERS, 60, VIRTQ_DESC_F_NEXT, 2);
    d.publish(tx, 2);
    d.notify(tx);
    expectNeedsReset(
      d,
      TX,
      "descriptor 2 is visited again: the chain from descriptor 2 has more than the 8 descriptors of its table, so its next fields form a loop. End every chain with a descriptor without VIRTQ_DESC_F_NEXT and never link back into the same chain.",
    );
    expect(d.wire.sent).toEqual([]);
  });

  it("a head index beyond the queue size", () => {
    const { d, tx } = running();
    d.publish(tx, 300);
    d.notify(tx);
    expectNeedsReset(
      d,
      TX,
      "available-ring entry 0 names descriptor 300, but the queue has 8 descriptors. Put only indices of the descriptor table in the available ring.",
    );
  });

  it("a next index beyond the queue size", () => {
    const { d, tx } = running();
    d.writeDesc(tx, 0, BUFFERS, NET_HDR, VIRTQ_DESC_F_NEXT, 8);
    d.publish(tx, 0);
    d.notify(tx);
    expectNeedsReset(
      d,
      TX,
      "descriptor 0 continues (VIRTQ_DESC_F_NEXT) to descriptor 8, beyond the 8 descriptors of its table. Link only to descriptors inside the table.",
    );
  });

  it("a device-writable buffer on the transmit queue", () => {
    const { d, tx } = running();
    d.addChain(tx, [
      { addr: BUFFERS, len: NET_HDR },
      { addr: BUFFERS + 0x1000, len: 100, write: true },
    ]);
    d.notify(tx);
    expectNeedsReset(
      d,
      TX,
      "descriptor 1 is device-writable, but transmit buffers are only read by the device. Post transmit buffers without VIRTQ_DESC_F_WRITE.",
    );
    expect(d.wire.sent).toEqual([]);
  });

  it("a device-readable buffer on the receive queue", () => {
    const { d, rx } = running();
    d.addChain(rx, [{ addr: BUFFERS, len: 1526 }]);
    d.notify(rx);
    d.wire.send(frame(60));
    expectNeedsReset(
      d,
      RX,
      "descriptor 0 is device-readable, but receive buffers are written by the device. Post receive buffers with VIRTQ_DESC_F_WRITE set.",
    );
    expect(d.takeUsed(rx)).toEqual([]);
  });

  it("a transmit chain shorter than the header", () => {
    const { d, tx } = running();
    d.addChain(tx, [{ addr: BUFFERS, len: 5 }]);
    d.notify(tx);
    expectNeedsReset(
      d,
      TX,
      "descriptor 0 starts a transmit chain of 5 bytes, shorter than the 12-byte virtio-net header. Start every transmitted frame with a 12-byte struct virtio_net_hdr.",
    );
  });

  it("an available index that jumps past the queue size", () => {
    const { d, tx } = running();
    d.setU16(tx.avail + 2, 9);
    d.notify(tx);
    expect(d.status & S.DEVICE_NEEDS_RESET).toBe(S.DEVICE_NEEDS_RESET);
    expect(d.errors).toEqual([
      `${NAME}: queue 1 (transmitq1) has available-ring idx 9 while the device has taken 0: 9 new buffers in a queue of 8. Never make more buffers available than the queue size, and never move idx backwards. ${REMEDY_TAIL}`,
    ]);
  });

  it("indirect tables: nested, with NEXT, a bad length, outside RAM, or without the feature", () => {
    const table = BUFFERS + 0x8000;
    const cases: [string, (d: TestDriver, tx: TestQueue) => void][] = [
      [
        "entry 0 of the indirect table in descriptor 0 sets VIRTQ_DESC_F_INDIRECT inside an indirect table",
        (d, tx) => {
          d.writeDesc(tx, 0, table, 16, VIRTQ_DESC_F_INDIRECT);
          d.writeDesc(tx, 0, table, 16, VIRTQ_DESC_F_INDIRECT, 0, table);
        },
      ],
      [
        "descriptor 0 sets both VIRTQ_DESC_F_INDIRECT and VIRTQ_DESC_F_NEXT",
        (d, tx) => d.writeDesc(tx, 0, table, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1),
      ],
      [
        "descriptor 0 refers to an indirect table of 20 bytes",
        (d, tx) => d.writeDesc(tx, 0, table, 20, VIRTQ_DESC_F_INDIRECT),
      ],
      [
        "descriptor 0 refers to an indirect table at [0x8000000, +32), which is not 16-byte aligned guest RAM",
        (d, tx) => d.writeDesc(tx, 0, 0x800_0000, 32, VIRTQ_DESC_F_INDIRECT),
      ],
      [
        "entry 0 of the indirect table in descriptor 0 is visited again",
        (d, tx) => {
          d.writeDesc(tx, 0, table, 32, VIRTQ_DESC_F_INDIRECT);
          d.writeDesc(tx, 0, BUFFERS, 16, VIRTQ_DESC_F_NEXT, 1, table);
          d.writeDesc(tx, 1, BUFFERS, 16, VIRTQ_DESC_F_NEXT, 0, table);
        },
      ],
    ];
    for (const [message, build] of cases) {
      const { d, tx } = running();
      build(d, tx);
      d.publish(tx, 0);
      d.notify(tx);
      expect(d.status & S.DEVICE_NEEDS_RESET, message).toBe(S.DEVICE_NEEDS_RESET);
      expect(d.errors, message).toHaveLength(1);
      expect(d.errors[0], message).toContain(`${NAME}: queue 1 (transmitq1): ${message}`);
    }
    // Without VIRTIO_F_INDIRECT_DESC negotiated the flag itself is the fault.
    const d = new TestDriver();
    const { tx } = d.bringUp(featureBits(VirtioNetFeature.MAC, VirtioFeature.VERSION_1));
    d.writeDesc(tx, 0, table, 32, VIRTQ_DESC_F_INDIRECT);
    d.publish(tx, 0);
    d.notify(tx);
    expect(d.errors[0]).toContain(
      "descriptor 0 sets VIRTQ_DESC_F_INDIRECT, but VIRTIO_F_INDIRECT_DESC was not negotiated",
    );
  });

  it("stops the faulty queue only, until a reset clears DEVICE_NEEDS_RESET", () => {
    const { d, rx, tx } = running();
    d.addChain(tx, [{ addr: 0x1000_0000, len: 64 }]);
    d.notify(tx);
    expect(d.errors).toHaveLength(1);
    // The transmit queue is dead: more buffers and notifications do nothing, and no second report.
    d.put(BUFFERS, new Uint8Array(NET_HDR + 60));
    d.addChain(tx, [{ addr: BUFFERS, len: NET_HDR + 60 }]);
    d.notify(tx);
    expect(d.wire.sent).toEqual([]);
    expect(d.errors).toHaveLength(1);
    // The receive queue still works.
    d.addChain(rx, [{ addr: BUFFERS + 0x4000, len: 1526, write: true }]);
    d.notify(rx);
    d.wire.send(frame(60));
    expect(d.takeUsed(rx)).toHaveLength(1);
    expect(d.acknowledge()).toBe(3);
    d.w(R.Status, 0);
    expect(d.status).toBe(0);
    const again = d.bringUp();
    d.addChain(again.tx, [{ addr: BUFFERS, len: NET_HDR + 60 }]);
    d.notify(again.tx);
    expect(d.wire.sent).toHaveLength(1);
  });

  it.each([
    ["a size that is not a power of two", 3, RX_RING, "queue 1 (transmitq1) has size 3."],
    ["a size above QueueNumMax", 512, RX_RING, "queue 1 (transmitq1) has size 512."],
    ["a size of 0", 0, RX_RING, "queue 1 (transmitq1) has size 0."],
    [
      "rings outside RAM",
      8,
      0x3000_0000,
      "queue 1 (transmitq1) has its descriptor table at [0x30000000, +128), outside guest RAM",
    ],
    ["a misaligned descriptor table", 8, RX_RING + 8, "not 16-byte aligned"],
  ])("queue setup with %s is refused", (_what, size, base, message) => {
    const d = new TestDriver();
    d.negotiate();
    d.w(R.QueueSel, TX);
    d.w(R.QueueNum, size);
    d.w(R.QueueDescLow, base);
    d.w(R.QueueDriverLow, base + 0x800);
    d.w(R.QueueDeviceLow, base + 0x1000);
    d.w(R.QueueReady, 1);
    expect(d.r(R.QueueReady)).toBe(0);
    expect(d.status & S.DEVICE_NEEDS_RESET).toBe(S.DEVICE_NEEDS_RESET);
    expect(d.errors).toHaveLength(1);
    expect(d.errors[0]).toContain(message);
  });

  it("legacy queue setup with a QueueAlign that is not a power of two is refused", () => {
    const d = new TestDriver(true);
    d.w(R.GuestPageSize, 4096);
    d.negotiate();
    d.w(R.QueueSel, RX);
    d.w(R.QueueNum, 8);
    d.w(R.QueueAlign, 0);
    d.w(R.QueuePFN, RX_RING / 4096);
    expect(d.r(R.QueuePFN)).toBe(0);
    expect(d.errors[0]).toContain("queue 0 (receiveq1) has QueueAlign 0. Write a power of two");
  });
});

describe("virtio-net on the QEMU virt board", () => {
  function board(nic: { slot?: number; legacy?: boolean; onError?: (m: string) => void } = {}) {
    const output: string[] = [];
    const console: Console = {
      write: (bytes) => output.push(new TextDecoder().decode(bytes)),
      attachInput: () => {},
      close: () => {},
    };
    const wire = new FakeWire();
    const b = qemuVirtAarch64.create({
      console,
      host: { post: () => {}, openSource: () => () => {} },
      clock: new VirtualClock(),
      ramSize: RAM_SIZE,
      nic: {
        slot: nic.slot ?? qemuVirtAarch64.virtioMmio!.nicSlot,
        mac: MAC,
        wire,
        legacy: nic.legacy,
        onError: nic.onError,
      },
    });
    const lines: [number, boolean][] = [];
    b.connectInterrupts((irq, high) => lines.push([irq, high]));
    return { b, wire, output, lines };
  }

  it("puts the NIC in slot 31 at 0xa003e00 on INTID 79, and leaves the other slots empty", () => {
    const { b, wire, lines } = board();
    const window = b.deviceAt(0xa003e00)!;
    expect(window.base).toBe(0xa003e00);
    expect(window.size).toBe(0x200);
    expect(window.device.read(R.DeviceID, 4, 0)).toBe(1n);
    expect(b.deviceAt(0xa003c00)!.device.read(R.DeviceID, 4, 0)).toBe(0n);
    const d = new TestDriver(false, {}, { net: window.device as VirtioNet, memory: b.memory, wire });
    const { tx } = d.bringUp();
    d.put(BUFFERS, new Uint8Array(NET_HDR + 60));
    d.addChain(tx, [{ addr: BUFFERS, len: NET_HDR + 60 }]);
    d.notify(tx);
    expect(wire.sent).toHaveLength(1);
    expect(lines).toEqual([[79, true]]);
    d.acknowledge();
    expect(lines).toEqual([
      [79, true],
      [79, false],
    ]);
  });

  it("offers the legacy transport when asked, in any slot", () => {
    const { b } = board({ slot: 0, legacy: true });
    expect(b.deviceAt(0xa000000)!.device.read(R.Version, 4, 0)).toBe(1n);
    expect(b.deviceAt(0xa000000)!.device.read(R.DeviceID, 4, 0)).toBe(1n);
    expect(b.deviceAt(0xa003e00)!.device.read(R.DeviceID, 4, 0)).toBe(0n);
  });

  it("prints the NIC's reports on the board's console unless given onError", () => {
    const { b, wire, output } = board();
    const d = new TestDriver(
      false,
      {},
      { net: b.deviceAt(0xa003e00)!.device as VirtioNet, memory: b.memory, wire },
    );
    const { tx } = d.bringUp();
    d.addChain(tx, [{ addr: 0x1000_0000, len: 64 }]);
    d.notify(tx);
    expect(output.join("")).toMatch(
      /^\r\nvirtio-net on virtio-mmio slot 31 \(0xa003e00\): queue 1 \(transmitq1\): descriptor 0 points at \[0x10000000, \+64\), outside guest RAM.*\r\n$/,
    );
  });

  it("refuses a slot the board does not have", () => {
    expect(() => board({ slot: 32 })).toThrow(
      "virtio-mmio slot 32 does not exist: the board has slots 0 to 31",
    );
  });
});

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** A small deterministic PRNG (mulberry32), so a failing fuzz case can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("virtio-net fuzzing: garbage never reaches the host", () => {
  const SIZES: AccessSize[] = [1, 2, 4, 8];

  function randomValue(rand: () => number): bigint {
    const pick = rand();
    if (pick < 0.2) return BigInt(Math.floor(rand() * 16));
    if (pick < 0.4)
      return [0n, 1n, 0xffff_ffffn, 0xffff_ffff_ffff_ffffn, 0x8000_0000n][Math.floor(rand() * 5)]!;
    if (pick < 0.7) return BigInt(RAM_BASE + Math.floor(rand() * RAM_SIZE));
    return (BigInt(Math.floor(rand() * 2 ** 32)) << 32n) | BigInt(Math.floor(rand() * 2 ** 32));
  }

  function randomOffset(rand: () => number): number {
    // Mostly real registers, sometimes anything in the window or beyond it.
    const known = Object.values(R);
    if (rand() < 0.7)
      return known[Math.floor(rand() * known.length)]! + (rand() < 0.8 ? 0 : Math.floor(rand() * 8));
    return Math.floor(rand() * 0x240);
  }

  for (const legacy of [false, true]) {
    it(`survives random register traffic (${legacy ? "legacy" : "modern"})`, () => {
      const rand = prng(legacy ? 2 : 1);
      const d = new TestDriver(legacy, { rxQueueLimit: 16 });
      for (let i = 0; i < 20_000; i++) {
        const offset = randomOffset(rand);
        const size = SIZES[Math.floor(rand() * 4)]!;
        const action = rand();
        if (action < 0.5) expect(() => d.net.write(offset, size, randomValue(rand), 0)).not.toThrow();
        else if (action < 0.9) expect(() => d.net.read(offset, size, 0)).not.toThrow();
        else expect(() => d.wire.send(frame(14 + Math.floor(rand() * 1600), i))).not.toThrow();
        if (rand() < 0.02) d.put(RAM_BASE + Math.floor(rand() * (RAM_SIZE - 64)), frame(64, i));
      }
      expect(d.errors.filter((e) => e.includes("internal error"))).toEqual([]);
    });

    it(`survives garbage rings and descriptors on running queues (${legacy ? "legacy" : "modern"})`, () => {
      const rand = prng(legacy ? 4 : 3);
      let faults = 0;
      const memory = new PhysicalMemory({ ramBase: RAM_BASE, ramSize: RAM_SIZE, reservedForCore: 0 });
      for (let round = 0; round < 300; round++) {
        const d = new TestDriver(legacy, { rxQueueLimit: 8, memory });
        const { rx, tx } = d.bringUp();
        for (let step = 0; step < 20; step++) {
          const q = rand() < 0.5 ? rx : tx;
          // Garbage in the descriptor table and the available ring, sometimes plausible, sometimes not.
          for (let k = 0; k < 4; k++) {
            const i = Math.floor(rand() * q.size);
            const plausible = rand() < 0.6;
            const addr = plausible
              ? BUFFERS + Math.floor(rand() * 0x10000)
              : Number(randomValue(rand) & 0xf_ffff_ffffn);
            const len = plausible ? Math.floor(rand() * 2000) : Math.floor(rand() * 2 ** 32);
            const flags = Math.floor(rand() * 8) | (rand() < 0.1 ? Math.floor(rand() * 0x10000) : 0);
            const next = plausible ? Math.floor(rand() * q.size) : Math.floor(rand() * 0x10000);
            d.writeDesc(q, i, addr, len, flags, next);
          }
          if (rand() < 0.7)
            d.publish(q, rand() < 0.9 ? Math.floor(rand() * q.size) : Math.floor(rand() * 0x10000));
          if (rand() < 0.05) d.setU16(q.avail + 2, Math.floor(rand() * 0x10000));
          if (rand() < 0.1) {
            const table = BUFFERS + 0x20000;
            for (let k = 0; k < 4; k++) {
              d.writeDesc(
                q,
                k,
                BUFFERS + Math.floor(rand() * 0x1000),
                Math.floor(rand() * 300),
                Math.floor(rand() * 8),
                Math.floor(rand() * 6),
                table,
              );
            }
            d.writeDesc(
              q,
              Math.floor(rand() * q.size),
              table,
              16 * Math.floor(rand() * 6),
              VIRTQ_DESC_F_INDIRECT,
            );
          }
          expect(() => d.notify(q)).not.toThrow();
          expect(() => d.wire.send(frame(14 + Math.floor(rand() * 1600), step))).not.toThrow();
          if (rand() < 0.1) expect(() => d.acknowledge()).not.toThrow();
        }
        if (d.status & S.DEVICE_NEEDS_RESET) faults++;
        expect(d.errors.filter((e) => e.includes("internal error"))).toEqual([]);
        // Every report names the device and a queue and says how to recover.
        for (const e of d.errors)
          expect(e).toMatch(/^virtio-net on virtio-mmio slot 31 \(0xa003e00\): queue [01] /);
      }
      expect(faults, "the fuzzer reaches the fault paths").toBeGreaterThan(100);
    });
  }
});
