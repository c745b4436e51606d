// The virtio-blk device model driven from TypeScript as Linux's virtio_blk drives it: features and
// configuration, reads and writes in every layout, FLUSH and GET_ID, errors answered in the status byte,
// a back-end that completes later and out of order, resets with requests in flight, malformed chains.
import { describe, expect, it } from "vitest";
import {
  VirtioBlkFeature,
  VirtioBlkRequest as T,
  VirtioBlkStatus,
  VirtioFeature,
  VirtioMmio as R,
  VirtioStatus as S,
  featureBits,
} from "../../src/machine/devices/virtio/constants.ts";
import {
  VirtioBlk,
  memoryBlockBackend,
  type BlockBackend,
  type BlockDone,
  type VirtioBlkOptions,
} from "../../src/machine/devices/virtio/blk.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";
import { VirtualClock } from "../../src/kernel/time.ts";
import { qemuVirtAarch64 } from "../../src/machine/boards/qemu_virt_aarch64/index.ts";
import type { Console } from "../../src/machine/devices/console.ts";
import { RecordingIrq, VirtioTestDriver, guestRam, type DriverQueue } from "./virtio-test-driver.ts";

const RAM = 0x4000_0000;
const NAME = "VM 'linux': virtio-blk at 0x150000";

function header(type: number, sector = 0): Uint8Array {
  const h = new Uint8Array(16);
  const v = new DataView(h.buffer);
  v.setUint32(0, type, true);
  v.setUint32(8, sector % 0x1_0000_0000, true);
  v.setUint32(12, Math.floor(sector / 0x1_0000_0000), true);
  return h;
}

function pattern(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);
}

function setup(backend: BlockBackend, options: Partial<VirtioBlkOptions> = {}, legacy = false) {
  const memory = guestRam(RAM, 4 * 1024 * 1024);
  const irq = new RecordingIrq();
  const errors: string[] = [];
  const blk = new VirtioBlk({
    memory,
    irq,
    backend,
    name: NAME,
    legacy,
    onError: (m) => errors.push(m),
    ...options,
  });
  const d = new VirtioTestDriver(blk, memory, RAM, legacy);
  return { blk, d, irq, errors };
}

/** Submits one request (header | data | status) and returns where its status byte is. */
function request(
  d: VirtioTestDriver,
  q: DriverQueue,
  type: number,
  sector: number,
  data: { out?: Uint8Array; inLength?: number } = {},
  layout: "split" | "joined" | "indirect" = "split",
) {
  const status = d.buffer(1, Uint8Array.of(0xff));
  const segments = [];
  if (layout === "joined" && data.out) {
    const joined = new Uint8Array(16 + data.out.length);
    joined.set(header(type, sector));
    joined.set(data.out, 16);
    segments.push({ addr: d.buffer(joined.length, joined), len: joined.length });
  } else {
    segments.push({ addr: d.buffer(16, header(type, sector)), len: 16 });
    if (data.out) segments.push({ addr: d.buffer(data.out.length, data.out), len: data.out.length });
  }
  let into = 0;
  if (data.inLength !== undefined) {
    into = d.buffer(data.inLength);
    segments.push({ addr: into, len: data.inLength, write: true });
  }
  segments.push({ addr: status, len: 1, write: true });
  const head = layout === "indirect" ? d.addIndirectChain(q, segments) : d.addChain(q, segments);
  return { head, status, into };
}

describe("virtio-blk", () => {
  it("offers FLUSH, BLK_SIZE, SIZE_MAX, SEG_MAX, TOPOLOGY and VERSION_1, and describes the disk in its configuration", () => {
    const backend = { ...memoryBlockBackend(new Uint8Array(1024 * 512)), physicalBlockSize: 4096 };
    const { d } = setup(backend);
    expect(d.r(R.DeviceID)).toBe(2);
    const features = d.deviceFeatures();
    const expected = featureBits(
      VirtioBlkFeature.SIZE_MAX,
      VirtioBlkFeature.SEG_MAX,
      VirtioBlkFeature.BLK_SIZE,
      VirtioBlkFeature.FLUSH,
      VirtioBlkFeature.TOPOLOGY,
      VirtioFeature.INDIRECT_DESC,
      VirtioFeature.VERSION_1,
    );
    expect(features).toBe(expected);
    expect(d.r(R.Config + 0)).toBe(1024); // capacity, low word
    expect(d.r(R.Config + 4)).toBe(0);
    expect(d.r(R.Config + 8)).toBe(0x10000); // size_max
    expect(d.r(R.Config + 12)).toBe(126); // seg_max = 128 - 2
    expect(d.r(R.Config + 20)).toBe(512); // blk_size
    expect(d.r(R.Config + 24, 1)).toBe(3); // physical_block_exp: 4096 = 512 << 3
    expect(d.r(R.Config + 25, 1)).toBe(0); // alignment_offset
    expect(d.r(R.Config + 26, 2)).toBe(8); // min_io_size in blocks
    expect(d.r(R.Config + 0x48)).toBe(0); // past the configuration
    d.w(R.QueueSel, 0);
    expect(d.r(R.QueueNumMax)).toBe(128);
  });

  it("offers RO for a read-only back-end and refuses writes with IOERR", () => {
    const disk = new Uint8Array(64 * 512);
    const { d, errors } = setup(memoryBlockBackend(disk, { readOnly: true }));
    expect(d.deviceFeatures() & featureBits(VirtioBlkFeature.RO)).not.toBe(0n);
    const [q] = d.bringUp(1);
    const { status } = request(d, q!, T.OUT, 0, { out: pattern(512, 1) });
    d.notify(q!);
    expect(d.bytes(status, 1)[0]).toBe(VirtioBlkStatus.IOERR);
    expect(disk.every((b) => b === 0)).toBe(true);
    expect(errors[0]).toMatch(/read-only/);
  });

  for (const layout of ["split", "joined", "indirect"] as const) {
    it(`writes and reads back sectors (${layout} descriptors)`, () => {
      const disk = new Uint8Array(64 * 512);
      const { d, irq, errors, blk } = setup(memoryBlockBackend(disk));
      const [q] = d.bringUp(1);
      const data = pattern(3 * 512, 5);
      const w = request(d, q!, T.OUT, 10, { out: data }, layout);
      d.notify(q!);
      expect(d.takeUsed(q!)).toEqual([{ id: w.head, len: 1 }]);
      expect(d.bytes(w.status, 1)[0]).toBe(VirtioBlkStatus.OK);
      expect(disk.subarray(10 * 512, 13 * 512)).toEqual(data);
      expect(irq.level).toBe(true);
      expect(d.ackInterrupt()).toBe(1);
      expect(irq.level).toBe(false);

      const r = request(d, q!, T.IN, 11, { inLength: 1024 }, layout);
      d.notify(q!);
      expect(d.takeUsed(q!)).toEqual([{ id: r.head, len: 1025 }]);
      expect(d.bytes(r.status, 1)[0]).toBe(VirtioBlkStatus.OK);
      expect(d.bytes(r.into, 1024)).toEqual(data.subarray(512, 1536));
      expect(blk.stats).toMatchObject({ reads: 1, writes: 1, bytesRead: 1024, bytesWritten: 1536 });
      expect(errors).toEqual([]);
    });
  }

  it("reads and writes data split across many buffers, including a header split in two", () => {
    const disk = new Uint8Array(64 * 512);
    const { d } = setup(memoryBlockBackend(disk));
    const [q] = d.bringUp(1, 16);
    const data = pattern(1024, 9);
    const h = header(T.OUT, 4);
    const status = d.buffer(1, Uint8Array.of(0xff));
    d.addChain(q!, [
      { addr: d.buffer(5, h.subarray(0, 5)), len: 5 },
      { addr: d.buffer(11 + 100, Uint8Array.from([...h.subarray(5), ...data.subarray(0, 100)])), len: 111 },
      { addr: d.buffer(924, data.subarray(100)), len: 924 },
      { addr: status, len: 1, write: true },
    ]);
    d.notify(q!);
    expect(d.bytes(status, 1)[0]).toBe(0);
    expect(disk.subarray(4 * 512, 6 * 512)).toEqual(data);
    // A read whose last data buffer also holds the status byte.
    const into = d.buffer(1025, new Uint8Array(1025).fill(0xee));
    d.addChain(q!, [
      { addr: d.buffer(16, header(T.IN, 4)), len: 16 },
      { addr: into, len: 700, write: true },
      { addr: into + 700, len: 325, write: true },
    ]);
    d.notify(q!);
    expect(d.bytes(into, 1024)).toEqual(data);
    expect(d.bytes(into + 1024, 1)[0]).toBe(0);
  });

  it("flushes through the back-end and answers GET_ID with a 20-byte string", () => {
    const backend = memoryBlockBackend(new Uint8Array(8 * 512), { serial: "virtkit-disk-0" });
    const { d } = setup(backend);
    const [q] = d.bringUp(1);
    const f = request(d, q!, T.FLUSH, 0);
    d.notify(q!);
    expect(d.bytes(f.status, 1)[0]).toBe(VirtioBlkStatus.OK);
    expect(backend.flushes).toBe(1);
    const id = request(d, q!, T.GET_ID, 0, { inLength: 20 });
    d.notify(q!);
    const used = d.takeUsed(q!);
    expect(used.at(-1)).toEqual({ id: id.head, len: 21 });
    const text = d.bytes(id.into, 20);
    expect(new TextDecoder().decode(text.subarray(0, 14))).toBe("virtkit-disk-0");
    expect(Array.from(text.subarray(14))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(d.bytes(id.status, 1)[0]).toBe(VirtioBlkStatus.OK);
  });

  it("answers UNSUPP for request types it does not implement and IOERR for requests it cannot do, with reports naming the descriptor", () => {
    const disk = new Uint8Array(16 * 512);
    const { d, errors, blk } = setup(memoryBlockBackend(disk));
    const [q] = d.bringUp(1, 16);
    const discard = request(d, q!, T.DISCARD, 0, { out: new Uint8Array(16) });
    const beyond = request(d, q!, T.IN, 15, { inLength: 1024 });
    const huge = request(d, q!, T.IN, 2 ** 60, { inLength: 512 });
    const odd = request(d, q!, T.OUT, 0, { out: new Uint8Array(100) });
    const extra = request(d, q!, T.IN, 0, { out: new Uint8Array(512), inLength: 512 });
    d.notify(q!);
    expect(d.bytes(discard.status, 1)[0]).toBe(VirtioBlkStatus.UNSUPP);
    for (const r of [beyond, huge, odd, extra]) expect(d.bytes(r.status, 1)[0]).toBe(VirtioBlkStatus.IOERR);
    expect(d.takeUsed(q!).map((u) => u.len)).toEqual([1, 1, 1, 1, 1]);
    expect(d.needsReset()).toBe(false);
    expect(blk.stats).toMatchObject({ ioErrors: 4, unsupported: 1 });
    expect(errors[0]).toBe(
      `${NAME}: queue 0 (requestq): descriptor ${beyond.head}: a read (VIRTIO_BLK_T_IN) of 2 sectors at sector 15 goes beyond the capacity of 16 sectors (reads must end by sector 16); answered VIRTIO_BLK_S_IOERR`,
    );
    expect(errors[1]).toMatch(/at sector >= 2\^53 goes beyond/);
    expect(errors[2]).toMatch(/carries 100 bytes of data, not a whole number of 512-byte sectors/);
    expect(errors[3]).toMatch(/device-readable bytes after the header/);
    expect(disk.every((b) => b === 0)).toBe(true);
  });

  it("refuses a request larger than seg_max × size_max without allocating it", () => {
    const { d, errors } = setup(memoryBlockBackend(new Uint8Array(4096 * 512)), { sizeMax: 4096, segMax: 2 });
    const [q] = d.bringUp(1);
    const r = request(d, q!, T.IN, 0, { inLength: 3 * 4096 });
    d.notify(q!);
    expect(d.bytes(r.status, 1)[0]).toBe(VirtioBlkStatus.IOERR);
    expect(errors[0]).toMatch(/more than seg_max × size_max \(2 × 4096 = 8192\)/);
  });

  it("completes requests when an asynchronous back-end does, in any order, and interrupts per completion", () => {
    const disk = new Uint8Array(64 * 512);
    const waiting: { op: string; run: () => void }[] = [];
    const mem = memoryBlockBackend(disk);
    const backend: BlockBackend = {
      capacity: mem.capacity,
      read: (s, into, done: BlockDone) => waiting.push({ op: "read", run: () => mem.read(s, into, done) }),
      write: (s, data, done: BlockDone) => waiting.push({ op: "write", run: () => mem.write(s, data, done) }),
      flush: (done: BlockDone) => waiting.push({ op: "flush", run: () => mem.flush(done) }),
    };
    const { d, irq, blk } = setup(backend);
    const [q] = d.bringUp(1);
    const w = request(d, q!, T.OUT, 0, { out: pattern(512, 3) });
    const f = request(d, q!, T.FLUSH, 0);
    d.notify(q!);
    expect(waiting.map((x) => x.op)).toEqual(["write", "flush"]);
    expect(d.takeUsed(q!)).toEqual([]);
    expect(irq.level).toBe(false);
    expect(blk.pendingRequests).toBe(2);
    waiting[1]!.run(); // the flush first
    expect(d.takeUsed(q!)).toEqual([{ id: f.head, len: 1 }]);
    expect(irq.level).toBe(true);
    d.ackInterrupt();
    waiting[0]!.run();
    expect(d.takeUsed(q!)).toEqual([{ id: w.head, len: 1 }]);
    expect(d.bytes(w.status, 1)[0]).toBe(0);
    expect(irq.level).toBe(true);
    expect(blk.pendingRequests).toBe(0);
  });

  it("answers IOERR when the back-end fails, and reports it", () => {
    const backend: BlockBackend = {
      capacity: 8,
      read: (_s, _into, done) => done("EIO reading the image"),
      write: () => {
        throw new Error("disk on fire");
      },
      flush: (done) => done(),
    };
    const { d, errors } = setup(backend);
    const [q] = d.bringUp(1);
    const r = request(d, q!, T.IN, 0, { inLength: 512 });
    const w = request(d, q!, T.OUT, 0, { out: new Uint8Array(512) });
    d.notify(q!);
    expect(d.bytes(r.status, 1)[0]).toBe(VirtioBlkStatus.IOERR);
    expect(d.bytes(w.status, 1)[0]).toBe(VirtioBlkStatus.IOERR);
    expect(errors).toEqual([
      `${NAME}: queue 0 (requestq): descriptor ${r.head}: the back-end failed a read: EIO reading the image`,
      `${NAME}: queue 0 (requestq): descriptor ${w.head}: the back-end failed a write: the back-end threw: disk on fire`,
    ]);
  });

  it("keeps at most a queue's worth of requests in flight and takes more as they complete", () => {
    const waiting: BlockDone[] = [];
    const backend: BlockBackend = {
      capacity: 64,
      read: (_s, _i, done) => waiting.push(done),
      write: (_s, _d, done) => waiting.push(done),
      flush: (done) => waiting.push(done),
    };
    const { d } = setup(backend);
    const [q] = d.bringUp(1, 4);
    // A driver that reuses descriptors it does not own: six requests through a queue of four.
    for (let i = 0; i < 4; i++) request(d, q!, T.FLUSH, 0);
    d.notify(q!);
    expect(waiting.length).toBe(4);
    for (let i = 0; i < 2; i++) request(d, q!, T.FLUSH, 0);
    d.notify(q!);
    expect(waiting.length).toBe(4);
    waiting[0]!();
    expect(waiting.length).toBe(5);
  });

  it("drops completions of requests from before a reset without touching guest memory", () => {
    const waiting: BlockDone[] = [];
    const disk = new Uint8Array(8 * 512).fill(0xaa);
    const mem = memoryBlockBackend(disk);
    const backend: BlockBackend = {
      capacity: 8,
      read: (s, into, done) => waiting.push(() => mem.read(s, into, done)),
      write: mem.write,
      flush: mem.flush,
    };
    const { d, irq } = setup(backend);
    let [q] = d.bringUp(1);
    const r = request(d, q!, T.IN, 0, { inLength: 512 });
    d.notify(q!);
    d.w(R.Status, 0);
    waiting[0]!();
    expect(d.bytes(r.into, 512).every((b) => b === 0)).toBe(true);
    expect(d.bytes(r.status, 1)[0]).toBe(0xff);
    expect(irq.level).toBe(false);
    // The new driver instance works normally.
    [q] = d.bringUp(1);
    const again = request(d, q!, T.IN, 0, { inLength: 512 });
    d.notify(q!);
    waiting[1]!();
    expect(d.bytes(again.into, 512).every((b) => b === 0xaa)).toBe(true);
    expect(d.takeUsed(q!)).toEqual([{ id: again.head, len: 513 }]);
  });

  it("sets DEVICE_NEEDS_RESET for a request without a header or status byte, naming the VM, queue and descriptor", () => {
    const { d, errors, irq } = setup(memoryBlockBackend(new Uint8Array(8 * 512)));
    const [q] = d.bringUp(1);
    const head = d.addChain(q!, [
      { addr: d.buffer(8), len: 8 },
      { addr: d.buffer(1), len: 1, write: true },
    ]);
    d.notify(q!);
    expect(d.needsReset()).toBe(true);
    expect(irq.level).toBe(true);
    expect(d.r(R.InterruptStatus) & 2).toBe(2);
    expect(errors[0]).toBe(
      `${NAME}: queue 0 (requestq): descriptor ${head} starts a request whose device-readable part is 8 bytes, shorter than the 16-byte request header. Start every request with struct virtio_blk_req's header (type, reserved, sector) in device-readable buffers. The device stopped queue 0 and set DEVICE_NEEDS_RESET (0x40) in Status; the driver must reset it (write 0 to Status) and set it up again.`,
    );
    // No status byte.
    const { d: d2, errors: e2 } = setup(memoryBlockBackend(new Uint8Array(8 * 512)));
    const [q2] = d2.bringUp(1);
    d2.addChain(q2!, [{ addr: d2.buffer(16, header(T.FLUSH)), len: 16 }]);
    d2.notify(q2!);
    expect(d2.needsReset()).toBe(true);
    expect(e2[0]).toMatch(/descriptor 0 starts a request with no device-writable byte for its status/);
  });

  it("reads the capacity from the back-end and tells the driver when it changes", () => {
    const backend = { ...memoryBlockBackend(new Uint8Array(8 * 512)), capacity: 0 };
    const { d, blk, irq } = setup(backend);
    d.bringUp(1);
    expect(d.r(R.Config)).toBe(0);
    const generation = d.r(R.ConfigGeneration);
    backend.capacity = 1 << 20;
    blk.capacityChanged();
    expect(d.r(R.Config)).toBe(1 << 20);
    expect(blk.capacity).toBe(1 << 20);
    expect(d.r(R.ConfigGeneration)).toBe(generation + 1);
    expect(irq.level).toBe(true);
    expect(d.r(R.InterruptStatus)).toBe(2);
    backend.capacity = -1;
    expect(blk.capacity).toBe(0);
    expect(() => new VirtioBlk({ memory: guestRam(RAM, 4096), irq, backend })).toThrow(/capacity -1/);
  });

  it("works on the legacy transport and on the board's RAM", () => {
    const memory = new PhysicalMemory({ ramBase: RAM, ramSize: 4 * 1024 * 1024, reservedForCore: 0 });
    const disk = new Uint8Array(16 * 512);
    const blk = new VirtioBlk({
      memory,
      irq: new RecordingIrq(),
      backend: memoryBlockBackend(disk),
      legacy: true,
    });
    const d = new VirtioTestDriver(blk, memory, RAM, true);
    expect(d.r(R.Version)).toBe(1);
    const [q] = d.bringUp(1);
    expect(d.status & S.DRIVER_OK).toBe(S.DRIVER_OK);
    const w = request(d, q!, T.OUT, 1, { out: pattern(512, 2) });
    d.notify(q!);
    expect(d.bytes(w.status, 1)[0]).toBe(0);
    expect(disk.subarray(512, 1024)).toEqual(pattern(512, 2));
  });
});

describe("virtio-blk on the QEMU virt board", () => {
  function board(disk: { slot: number; onError?: (m: string) => void }, nicSlot?: number) {
    const output: string[] = [];
    const console: Console = {
      write: (bytes) => output.push(new TextDecoder().decode(bytes)),
      attachInput: () => {},
      close: () => {},
    };
    const medium = new Uint8Array(256 * 512);
    const b = qemuVirtAarch64.create({
      console,
      host: { post: () => {}, openSource: () => () => {} },
      clock: new VirtualClock(),
      ramSize: 16 * 1024 * 1024,
      disk: { ...disk, backend: memoryBlockBackend(medium) },
      nic:
        nicSlot === undefined
          ? undefined
          : { slot: nicSlot, mac: "52:55:00:d1:55:01", wire: { transmit: () => {}, connect: () => {} } },
    });
    const lines: [number, boolean][] = [];
    b.connectInterrupts((irq, high) => lines.push([irq, high]));
    return { b, medium, output, lines };
  }

  it("puts the disk in the slot asked for, on the slot's INTID, and the sDDF driver's requests reach the medium", () => {
    const { b, medium, lines } = board({ slot: 1 }, 0);
    const window = b.deviceAt(0xa000200)!;
    expect(window.device.read(R.DeviceID, 4, 0)).toBe(2n);
    expect(b.deviceAt(0xa000000)!.device.read(R.DeviceID, 4, 0)).toBe(1n);
    expect(b.deviceAt(0xa000400)!.device.read(R.DeviceID, 4, 0)).toBe(0n);
    const d = new VirtioTestDriver(window.device, b.memory, RAM);
    const [q] = d.bringUp(1);
    const w = request(d, q!, T.OUT, 8, { out: pattern(4096, 4) });
    d.notify(q!);
    expect(d.bytes(w.status, 1)[0]).toBe(0);
    expect(medium.subarray(8 * 512, 16 * 512)).toEqual(pattern(4096, 4));
    expect(lines).toEqual([[49, true]]);
  });

  it("refuses a slot the board does not have, or the NIC's slot, and reports on the console", () => {
    expect(() => board({ slot: 32 })).toThrow(/slot 32 does not exist/);
    expect(() => board({ slot: 3 }, 3)).toThrow("virtio-mmio slot 3 cannot hold both the NIC and the disk");
    const { b, output } = board({ slot: 2 });
    const d = new VirtioTestDriver(b.deviceAt(0xa000400)!.device, b.memory, RAM);
    const [q] = d.bringUp(1);
    d.addChain(q!, [{ addr: 0x1000, len: 16 }]);
    d.notify(q!);
    expect(output.join("")).toMatch(
      /^\r\nvirtio-blk on virtio-mmio slot 2 \(0xa000400\): queue 0 \(requestq\): descriptor 0 points at \[0x1000, \+16\), outside guest RAM/,
    );
  });
});
