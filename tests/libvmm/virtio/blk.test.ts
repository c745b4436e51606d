// The guest's virtio-blk disk as an sDDF block client over real sDDF block queues and storage info (the
// virtualiser played here over a memory disk of 4 KiB blocks): capacity once ready, 512-byte sectors onto
// 4 KiB blocks with read-modify-write, ordering of overlapping requests and flushes, chunking through a
// small data region, and the virtualiser's errors and bad responses.
import { describe, expect, it } from "vitest";
import {
  BLK_STORAGE_INFO,
  BLK_TRANSFER_SIZE,
  BlkQueueHandle,
  BlkReqCode,
  BlkRespStatus,
  BlkStorageInfo,
  blkReqQueueSize,
  blkRespQueueSize,
  type BlkRequest,
} from "../../../src/sddf/blk/queue.ts";
import { VirtioMmio as R } from "../../../src/machine/devices/virtio/constants.ts";
import { LIBVMM_VIRTIO_PLACEMENT } from "../../../src/libvmm/virtio/mmio.ts";
import { virtioBlk } from "../../../src/libvmm/virtio/blk.ts";
import type { VirtioTestDriver, DriverQueue } from "../../machine/virtio-test-driver.ts";
import { testVmm } from "./harness.ts";

const CH = 5;

/** The block virtualiser's side: answers requests from a memory disk, at once or when told. */
class FakeVirt {
  readonly seen: BlkRequest[] = [];
  readonly held: BlkRequest[] = [];
  hold = false;
  failBlock: number | undefined;
  constructor(
    readonly queue: BlkQueueHandle,
    readonly data: Uint8Array,
    readonly disk: Uint8Array,
  ) {}
  /** Takes every request; answers them unless holding. */
  serve(): void {
    for (;;) {
      const r = this.queue.dequeueReq();
      if (!r) break;
      this.seen.push(r);
      if (this.hold) this.held.push(r);
      else this.answer(r);
    }
  }
  answer(r: BlkRequest): void {
    const bytes = r.count * BLK_TRANSFER_SIZE;
    const at = r.blockNumber * BLK_TRANSFER_SIZE;
    let status: number = BlkRespStatus.OK;
    if (this.failBlock !== undefined && r.blockNumber === this.failBlock) status = BlkRespStatus.ERR_IO;
    else if (r.code === BlkReqCode.READ) this.data.set(this.disk.subarray(at, at + bytes), r.ioOrOffset);
    else if (r.code === BlkReqCode.WRITE)
      this.disk.set(this.data.subarray(r.ioOrOffset, r.ioOrOffset + bytes), at);
    this.queue.enqueueResp({ status, successCount: status === 0 ? r.count : 0, id: r.id });
  }
}

function setup(
  options: { ready?: boolean; dataBlocks?: number; diskBlocks?: number; capacity?: number } = {},
) {
  const t = testVmm();
  const capacity = options.capacity ?? 16;
  const req = new Uint8Array(blkReqQueueSize(capacity));
  const resp = new Uint8Array(blkRespQueueSize(capacity));
  const infoRegion = new Uint8Array(BLK_STORAGE_INFO.regionSize);
  const data = new Uint8Array((options.dataBlocks ?? 64) * BLK_TRANSFER_SIZE);
  const disk = new Uint8Array((options.diskBlocks ?? 128) * BLK_TRANSFER_SIZE);
  const info = new BlkStorageInfo(infoRegion);
  const publish = () => {
    info.write({
      serialNumber: "sddf-partition-0",
      readOnly: false,
      sectorSize: 512,
      blockSize: 1,
      queueDepth: capacity,
      cylinders: 0,
      heads: 0,
      blocks: 0,
      capacity: disk.length / BLK_TRANSFER_SIZE,
    });
    info.setReady(true);
  };
  if (options.ready ?? true) publish();
  const setReadOnly = () => {
    infoRegion[BLK_STORAGE_INFO.readOnly] = 1;
  };
  const virt = new FakeVirt(new BlkQueueHandle(req, resp, capacity), data, disk);
  let notifications = 0;
  const blk = virtioBlk(t.host, {
    ...LIBVMM_VIRTIO_PLACEMENT.blk,
    queue: new BlkQueueHandle(req, resp, capacity),
    storageInfo: new BlkStorageInfo(infoRegion),
    data,
    channel: CH,
    notify: (ch) => {
      expect(ch).toBe(CH);
      notifications++;
      virt.serve();
      // The virtualiser notifies back when it answered.
      if (!virt.hold) blk.handleNotification(CH);
    },
  });
  t.enable(75);
  const d = t.driver(0x150000);
  const [q] = d.bringUp(1, 64);
  return { t, blk, virt, disk, d, q: q!, publish, setReadOnly, notifications: () => notifications };
}

function header(type: number, sector: number): Uint8Array {
  const h = new Uint8Array(16);
  new DataView(h.buffer).setUint32(0, type, true);
  new DataView(h.buffer).setUint32(8, sector, true);
  return h;
}

function submit(
  d: VirtioTestDriver,
  q: DriverQueue,
  type: number,
  sector: number,
  data: { out?: Uint8Array; inLength?: number } = {},
) {
  const status = d.buffer(1, Uint8Array.of(0xff));
  const segs = [{ addr: d.buffer(16, header(type, sector)), len: 16 }];
  if (data.out) segs.push({ addr: d.buffer(data.out.length, data.out), len: data.out.length });
  let into = 0;
  if (data.inLength) {
    into = d.buffer(data.inLength);
    segs.push({ addr: into, len: data.inLength, write: true } as (typeof segs)[number]);
  }
  segs.push({ addr: status, len: 1, write: true } as (typeof segs)[number]);
  d.addChain(q, segs);
  return { status: () => d.bytes(status, 1)[0], into };
}

const fill = (n: number, v: number) => new Uint8Array(n).fill(v);

describe("libvmm virtio-blk over sDDF block", () => {
  it("sits at 0x150000 on SPI 43 with the partition's capacity, serial and 4 KiB physical blocks", () => {
    const { d } = setup();
    expect(d.r(R.DeviceID)).toBe(2);
    expect(d.r(R.Config)).toBe(128 * 8);
    expect(d.r(R.Config + 24, 1)).toBe(3);
  });

  it("has no capacity until the storage info is ready, then tells the driver", () => {
    const s = setup({ ready: false });
    expect(s.d.r(R.Config)).toBe(0);
    const generation = s.d.r(R.ConfigGeneration);
    s.publish();
    s.blk.handleNotification(CH);
    expect(s.d.r(R.Config)).toBe(1024);
    expect(s.d.r(R.ConfigGeneration)).toBe(generation + 1);
    expect(s.d.r(R.InterruptStatus) & 2).toBe(2);
  });

  it("reads and writes whole blocks with one sDDF request each", () => {
    const s = setup();
    const data = Uint8Array.from({ length: 8192 }, (_, i) => i & 0xff);
    const w = submit(s.d, s.q, 1, 16, { out: data });
    s.d.notify(s.q);
    expect(w.status()).toBe(0);
    expect(s.disk.subarray(2 * 4096, 4 * 4096)).toEqual(data);
    expect(s.virt.seen.map((r) => [r.code, r.blockNumber, r.count])).toEqual([[BlkReqCode.WRITE, 2, 2]]);
    const r = submit(s.d, s.q, 0, 17, { inLength: 1024 });
    s.d.notify(s.q);
    expect(r.status()).toBe(0);
    expect(s.d.bytes(r.into, 1024)).toEqual(data.subarray(512, 1536));
    expect(s.virt.seen.at(-1)).toMatchObject({ code: BlkReqCode.READ, blockNumber: 2, count: 1 });
  });

  it("writes a sector inside a block by reading the block, merging and writing it back", () => {
    const s = setup();
    s.disk.fill(0xaa, 4096, 8192);
    const w = submit(s.d, s.q, 1, 11, { out: fill(512, 0x55) }); // sector 11 = block 1, bytes 1536..2048
    s.d.notify(s.q);
    expect(w.status()).toBe(0);
    expect(s.virt.seen.map((r) => [r.code, r.blockNumber, r.count])).toEqual([
      [BlkReqCode.READ, 1, 1],
      [BlkReqCode.WRITE, 1, 1],
    ]);
    expect(s.disk.subarray(4096, 4096 + 1536).every((b) => b === 0xaa)).toBe(true);
    expect(s.disk.subarray(4096 + 1536, 4096 + 2048).every((b) => b === 0x55)).toBe(true);
    expect(s.disk.subarray(4096 + 2048, 8192).every((b) => b === 0xaa)).toBe(true);
  });

  it("reads both edge blocks of an unaligned multi-block write, and only those", () => {
    const s = setup();
    s.disk.fill(0xaa);
    const w = submit(s.d, s.q, 1, 6, { out: fill(512 * 20, 0x55) }); // sectors 6..25: blocks 0..3
    s.d.notify(s.q);
    expect(w.status()).toBe(0);
    expect(s.virt.seen.map((r) => [r.code, r.blockNumber, r.count])).toEqual([
      [BlkReqCode.READ, 0, 1],
      [BlkReqCode.READ, 3, 1],
      [BlkReqCode.WRITE, 0, 4],
    ]);
    expect(s.disk.subarray(0, 6 * 512).every((b) => b === 0xaa)).toBe(true);
    expect(s.disk.subarray(6 * 512, 26 * 512).every((b) => b === 0x55)).toBe(true);
    expect(s.disk.subarray(26 * 512, 32 * 512).every((b) => b === 0xaa)).toBe(true);
  });

  it("keeps two unaligned writes to one block in order while the virtualiser answers late", () => {
    const s = setup();
    s.virt.hold = true;
    const a = submit(s.d, s.q, 1, 0, { out: fill(512, 1) });
    const b = submit(s.d, s.q, 1, 1, { out: fill(512, 2) });
    const r = submit(s.d, s.q, 0, 0, { inLength: 1024 });
    s.d.notify(s.q);
    // Only the first write's read is out: the second write and the read wait for it.
    expect(s.virt.held.map((x) => [x.code, x.blockNumber])).toEqual([[BlkReqCode.READ, 0]]);
    for (let i = 0; i < 10 && s.virt.held.length > 0; i++) {
      s.virt.answer(s.virt.held.shift()!);
      s.blk.handleNotification(CH);
      s.virt.serve();
    }
    expect([a.status(), b.status(), r.status()]).toEqual([0, 0, 0]);
    expect(Array.from(s.d.bytes(r.into, 1024).filter((_, i) => i % 512 === 0))).toEqual([1, 2]);
    expect(s.disk[0]).toBe(1);
    expect(s.disk[512]).toBe(2);
  });

  it("sends a FLUSH only after every earlier write is done", () => {
    const s = setup();
    s.virt.hold = true;
    submit(s.d, s.q, 1, 0, { out: fill(4096, 1) });
    const f = submit(s.d, s.q, 4, 0);
    s.d.notify(s.q);
    expect(s.virt.held.map((x) => x.code)).toEqual([BlkReqCode.WRITE]);
    s.virt.answer(s.virt.held.shift()!);
    s.blk.handleNotification(CH);
    s.virt.serve();
    expect(s.virt.held.map((x) => x.code)).toEqual([BlkReqCode.FLUSH]);
    s.virt.answer(s.virt.held.shift()!);
    s.blk.handleNotification(CH);
    expect(f.status()).toBe(0);
  });

  it("splits large transfers into chunks of at most 32 blocks and reuses a small data region", () => {
    const s = setup({ dataBlocks: 40, diskBlocks: 256 });
    const data = Uint8Array.from({ length: 96 * 4096 }, (_, i) => (i * 13) & 0xff);
    const w = submit(s.d, s.q, 1, 0, { out: data });
    s.d.notify(s.q);
    expect(w.status()).toBe(0);
    expect(s.virt.seen.map((r) => r.count)).toEqual([32, 32, 32]);
    expect(Buffer.from(s.disk.subarray(0, data.length)).equals(data)).toBe(true);
    const r = submit(s.d, s.q, 0, 0, { inLength: data.length });
    s.d.notify(s.q);
    expect(r.status()).toBe(0);
    expect(Buffer.from(s.d.bytes(r.into, data.length)).equals(data)).toBe(true);
  });

  it("answers IOERR when the virtualiser fails a request, and reports responses it never asked for", () => {
    const s = setup();
    s.virt.failBlock = 3;
    const r = submit(s.d, s.q, 0, 24, { inLength: 512 });
    s.d.notify(s.q);
    expect(r.status()).toBe(1);
    expect(s.t.log.lines[0]).toBe(
      "vmm|ERROR: linux: virtio-blk at 0x150000: queue 0 (requestq): descriptor 0: the back-end failed a read: the block virtualiser answered ERR_IO for a READ of 1 blocks at block 3",
    );
    s.virt.queue.enqueueResp({ status: 0, successCount: 1, id: 4242 });
    s.blk.handleNotification(CH);
    expect(s.t.log.lines[1]).toBe(
      "vmm|ERROR: linux: virtio-blk at 0x150000: the block virtualiser answered request id 4242, which is not outstanding; ignored",
    );
  });

  it("offers RO to the next driver once the storage info says the partition is read-only", () => {
    const s = setup({ ready: false });
    s.publish();
    expect(s.d.deviceFeatures() & (1n << 5n)).toBe(0n);
    s.setReadOnly();
    s.d.w(R.Status, 0); // the driver probes again
    expect(s.d.deviceFeatures() & (1n << 5n)).toBe(1n << 5n);
  });
});
