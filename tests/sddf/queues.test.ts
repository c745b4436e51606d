// The sDDF queue protocols: layouts, wrap-around, full/empty, private capacity, the signalled
// handshake and corrupt indices, over plain bytes and over a memory region two PDs share.

import { describe, expect, test } from "vitest";
import {
  BLK_REQ,
  BLK_REQ_QUEUE,
  BLK_RESP_QUEUE,
  BLK_STORAGE_INFO,
  BlkQueueHandle,
  BlkReqCode,
  BlkRespStatus,
  BlkStorageInfo,
  NET_BUFFER_SIZE,
  NET_QUEUE,
  NetQueueHandle,
  SERIAL_QUEUE,
  SOUND_QUEUE,
  SddfError,
  SerialQueueHandle,
  SoundCmdCode,
  SoundCmdQueueHandle,
  SoundPcmQueueHandle,
  SoundSharedState,
  SoundStatus,
  blkReqQueueSize,
  blkVirt,
  serialVirtRx,
  blkRespQueueSize,
  netQueueSize,
  serialTransferAll,
  soundCmdQueueSize,
  soundPcmQueueSize,
} from "../../src/sddf/index.ts";
import { boot, channel, end, pd, runToIdle } from "../microkit/harness.ts";

const u32 = (bytes: Uint8Array, at: number): number =>
  new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true);
const setU32 = (bytes: Uint8Array, at: number, v: number): void =>
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, v >>> 0, true);
const setU16 = (bytes: Uint8Array, at: number, v: number): void =>
  new DataView(bytes.buffer, bytes.byteOffset).setUint16(at, v & 0xffff, true);

/** Both ends of one serial queue over the same bytes. */
function serialPair(capacity: number) {
  const queue = new Uint8Array(SERIAL_QUEUE.size);
  const data = new Uint8Array(capacity);
  return {
    queue,
    data,
    producer: new SerialQueueHandle(queue, data, capacity),
    consumer: new SerialQueueHandle(queue, data, capacity),
  };
}

describe("serial queue", () => {
  test("layout: tail @0, head @4, producer_signalled @8; bytes at index % capacity", () => {
    const { queue, data, producer } = serialPair(8);
    expect(producer.enqueueBatch("abc")).toBe(3);
    expect(u32(queue, 0)).toBe(3);
    expect(u32(queue, 4)).toBe(0);
    expect(new TextDecoder().decode(data.subarray(0, 3))).toBe("abc");
  });

  test("FIFO, full and empty, and free-running indices across the 2^32 wrap", () => {
    const { queue, producer, consumer } = serialPair(4);
    setU32(queue, SERIAL_QUEUE.tail, 0xffff_fffe);
    setU32(queue, SERIAL_QUEUE.head, 0xffff_fffe);
    expect(consumer.empty()).toBe(true);
    for (const b of [1, 2, 3, 4]) expect(producer.enqueue(b)).toBe(true);
    expect(producer.full()).toBe(true);
    expect(producer.enqueue(5)).toBe(false);
    expect(u32(queue, SERIAL_QUEUE.tail)).toBe(2); // wrapped
    expect(consumer.length()).toBe(4);
    expect(consumer.dequeue()).toBe(1);
    expect(producer.free()).toBe(1);
    expect(producer.enqueue(5)).toBe(true);
    expect([...consumer.dequeueBatch()]).toEqual([2, 3, 4, 5]);
    expect(consumer.dequeue()).toBeUndefined();
    expect(consumer.empty()).toBe(true);
  });

  test("enqueueLocal holds bytes back until publishTail", () => {
    const { producer, consumer } = serialPair(8);
    for (const c of "hi\n") producer.enqueueLocal(c.charCodeAt(0));
    expect(consumer.length()).toBe(0);
    expect(producer.publishTail()).toBe(true);
    expect(new TextDecoder().decode(consumer.dequeueBatch())).toBe("hi\n");
    expect(producer.publishTail()).toBe(false);
  });

  test("capacity is private: a power of two that fits its data region, never read from shared memory", () => {
    expect(() => new SerialQueueHandle(new Uint8Array(12), new Uint8Array(8), 6)).toThrow(
      /capacity 6 must be a power of two/,
    );
    expect(() => new SerialQueueHandle(new Uint8Array(12), new Uint8Array(8), 16)).toThrow(SddfError);
    expect(() => new SerialQueueHandle(new Uint8Array(4), new Uint8Array(8), 8)).toThrow(
      /region is 4 bytes but needs 12/,
    );
    // The data region is bigger than the capacity: the handle never writes past its capacity.
    const queue = new Uint8Array(12);
    const data = new Uint8Array(16);
    const h = new SerialQueueHandle(queue, data, 4);
    setU32(queue, SERIAL_QUEUE.tail, 1000);
    setU32(queue, SERIAL_QUEUE.head, 1000);
    h.enqueueBatch(new Uint8Array([9, 9, 9, 9, 9]));
    expect([...data.subarray(4)].every((b) => b === 0)).toBe(true);
  });

  test("indices further apart than the capacity are a violation: nothing read or written", () => {
    const { queue, data, producer, consumer } = serialPair(4);
    setU32(queue, SERIAL_QUEUE.tail, 100); // a producer lying about its tail
    expect(consumer.length()).toBe(0);
    expect(consumer.dequeue()).toBeUndefined();
    expect(consumer.violation()).toMatch(/tail 100 is 100 ahead of head 0, more than the capacity 4/);
    expect(producer.enqueue(1)).toBe(false);
    expect(data.every((b) => b === 0)).toBe(true);
    setU32(queue, SERIAL_QUEUE.tail, 2);
    expect(consumer.violation()).toBeUndefined();
    expect(consumer.length()).toBe(2);
  });

  test("the signalled handshake: the producer asks, the consumer notifies once and marks it", () => {
    const { queue, producer, consumer } = serialPair(4);
    producer.cancelSignal();
    let notified = 0;
    consumer.dequeue();
    expect(consumer.signalIfRequired(() => notified++)).toBe(false);
    // Full producer: asks for a signal, then re-checks before waiting (the protocol's double check).
    producer.enqueueBatch("wxyz");
    producer.requestSignal();
    expect(u32(queue, SERIAL_QUEUE.producerSignalled)).toBe(0);
    expect(producer.full()).toBe(true);
    consumer.dequeueBatch();
    expect(consumer.signalIfRequired(() => notified++)).toBe(true);
    expect(consumer.signalIfRequired(() => notified++)).toBe(false);
    expect(notified).toBe(1);
    expect(u32(queue, SERIAL_QUEUE.producerSignalled)).toBe(1);
  });

  test("transferAll moves a whole run, coloured, or nothing when it does not fit", () => {
    const a = serialPair(8);
    const b = serialPair(16);
    a.producer.enqueueBatch("hey");
    const colour = { start: new TextEncoder().encode("<"), end: new TextEncoder().encode(">") };
    expect(serialTransferAll(b.producer, a.consumer, colour)).toBe(3);
    expect(new TextDecoder().decode(b.consumer.dequeueBatch())).toBe("<hey>");
    b.producer.enqueueBatch("x".repeat(14));
    a.producer.enqueueBatch("abc");
    expect(serialTransferAll(b.producer, a.consumer, colour)).toBe(0);
    expect(a.consumer.length()).toBe(3);
  });
});

describe("block queues", () => {
  const pair = (capacity: number) => {
    const req = new Uint8Array(blkReqQueueSize(capacity));
    const resp = new Uint8Array(blkRespQueueSize(capacity));
    return {
      req,
      resp,
      client: new BlkQueueHandle(req, resp, capacity),
      server: new BlkQueueHandle(req, resp, capacity),
    };
  };

  test("layout: 32-byte requests from offset 16, 12-byte responses from offset 8", () => {
    expect(blkReqQueueSize(4)).toBe(16 + 4 * 32);
    expect(blkRespQueueSize(4)).toBe(8 + 4 * 12);
    const { req, resp, client, server } = pair(4);
    client.enqueueReq({ code: BlkReqCode.WRITE, ioOrOffset: 0x3000, blockNumber: 7, count: 2, id: 42 });
    const view = new DataView(req.buffer);
    expect(view.getUint32(BLK_REQ_QUEUE.tail, true)).toBe(1);
    expect(view.getUint32(16 + BLK_REQ.code, true)).toBe(1);
    expect(view.getBigUint64(16 + BLK_REQ.ioOrOffset, true)).toBe(0x3000n);
    expect(view.getBigUint64(16 + BLK_REQ.blockNumber, true)).toBe(7n);
    expect(view.getUint16(16 + BLK_REQ.count, true)).toBe(2);
    expect(view.getUint32(16 + BLK_REQ.id, true)).toBe(42);
    expect(server.dequeueReq()).toEqual({ code: 1, ioOrOffset: 0x3000, blockNumber: 7, count: 2, id: 42 });
    server.enqueueResp({ status: BlkRespStatus.OK, successCount: 2, id: 42 });
    expect(u32(resp, BLK_RESP_QUEUE.tail)).toBe(1);
    expect(u32(resp, 8)).toBe(0);
    expect(new DataView(resp.buffer).getUint16(12, true)).toBe(2);
    expect(u32(resp, 16)).toBe(42);
    expect(client.dequeueResp()).toEqual({ status: 0, successCount: 2, id: 42 });
  });

  test("wrap-around, full, empty, the plug and corrupt indices", () => {
    const { req, client, server } = pair(2);
    setU32(req, BLK_REQ_QUEUE.head, 0xffff_ffff);
    setU32(req, BLK_REQ_QUEUE.tail, 0xffff_ffff);
    for (let id = 0; id < 2; id++) {
      expect(client.enqueueReq({ code: 0, ioOrOffset: 0, blockNumber: id, count: 1, id })).toBe(true);
    }
    expect(client.fullReq()).toBe(true);
    expect(client.enqueueReq({ code: 0, ioOrOffset: 0, blockNumber: 9, count: 1, id: 9 })).toBe(false);
    expect(server.dequeueReq()?.id).toBe(0);
    expect(server.dequeueReq()?.id).toBe(1);
    expect(server.emptyReq()).toBe(true);
    client.plugReq();
    expect(server.pluggedReq()).toBe(true);
    client.unplugReq();
    expect(server.pluggedReq()).toBe(false);
    setU32(req, BLK_REQ_QUEUE.tail, 77);
    expect(server.dequeueReq()).toBeUndefined();
    expect(client.fullReq()).toBe(true);
    expect(server.violation()).toMatch(/block request queue indices are corrupt/);
  });

  test("a 64-bit block number past 2^53 reads as Infinity, so bounds checks refuse it", () => {
    const { req, client, server } = pair(1);
    client.enqueueReq({ code: 0, ioOrOffset: 0, blockNumber: 0, count: 1, id: 1 });
    new DataView(req.buffer).setBigUint64(16 + BLK_REQ.blockNumber, 0xffff_ffff_ffff_ffffn, true);
    expect(server.dequeueReq()?.blockNumber).toBe(Infinity);
  });

  test("storage info: fields at sDDF's offsets, ready set last", () => {
    const region = new Uint8Array(BLK_STORAGE_INFO.regionSize);
    const info = new BlkStorageInfo(region);
    info.write({
      serialNumber: "virtkit-0",
      readOnly: false,
      sectorSize: 512,
      blockSize: 1,
      queueDepth: 128,
      cylinders: 0,
      heads: 0,
      blocks: 0,
      capacity: 2048,
    });
    expect(info.ready).toBe(false);
    info.setReady(true);
    expect(region[65]).toBe(1);
    expect(new DataView(region.buffer).getUint16(66, true)).toBe(512);
    expect(new DataView(region.buffer).getBigUint64(80, true)).toBe(2048n);
    expect(info.read()).toMatchObject({ serialNumber: "virtkit-0", ready: true, capacity: 2048 });
  });
});

describe("net queues", () => {
  const pair = (capacity: number) => {
    const free = new Uint8Array(netQueueSize(capacity));
    const active = new Uint8Array(netQueueSize(capacity));
    return {
      free,
      active,
      a: new NetQueueHandle(free, active, capacity),
      b: new NetQueueHandle(free, active, capacity),
    };
  };

  test("layout: u16 tail/head, consumer_signalled @4, 16-byte descriptors from 8", () => {
    const { active, a, b } = pair(4);
    a.enqueueActive({ ioOrOffset: 0x800, len: 60 });
    const view = new DataView(active.buffer);
    expect(view.getUint16(NET_QUEUE.tail, true)).toBe(1);
    expect(view.getBigUint64(8, true)).toBe(0x800n);
    expect(view.getUint16(16, true)).toBe(60);
    expect(b.dequeueActive()).toEqual({ ioOrOffset: 0x800, len: 60, oid: 0 });
  });

  test("buffersInit fills the free queue with every 2 KiB buffer; 16-bit wrap; full/empty", () => {
    const { free, a, b } = pair(4);
    setU16(free, NET_QUEUE.tail, 0xfffe);
    setU16(free, NET_QUEUE.head, 0xfffe);
    a.buffersInit(0x1000);
    expect(a.full("free")).toBe(true);
    expect(a.enqueueFree({ ioOrOffset: 0, len: 0 })).toBe(false);
    const offsets = [0, 1, 2, 3].map(() => b.dequeueFree()!.ioOrOffset);
    expect(offsets).toEqual([
      0x1000,
      0x1000 + NET_BUFFER_SIZE,
      0x1000 + 2 * NET_BUFFER_SIZE,
      0x1000 + 3 * NET_BUFFER_SIZE,
    ]);
    expect(b.empty("free")).toBe(true);
    expect(new DataView(free.buffer).getUint16(NET_QUEUE.head, true)).toBe(2);
  });

  test("capacity over 2^15 is refused (uint16 indices); corrupt indices read as empty and full", () => {
    expect(() => new NetQueueHandle(new Uint8Array(8), new Uint8Array(8), 65536)).toThrow(
      /at most|from 1 to 32768/,
    );
    const { active, a } = pair(4);
    setU16(active, NET_QUEUE.tail, 9);
    expect(a.dequeueActive()).toBeUndefined();
    expect(a.full("active")).toBe(true);
    expect(a.violation("active")).toMatch(/net active queue indices are corrupt: tail 9 is 9 ahead/);
    expect(a.violation("free")).toBeUndefined();
  });

  test("signalled handshake: request, re-check, producer notifies once", () => {
    const { a: producer, b: consumer } = pair(4);
    let notified = 0;
    consumer.cancelSignal("active");
    producer.enqueueActive({ ioOrOffset: 0, len: 1 });
    expect(producer.signalIfRequired("active", () => notified++)).toBe(false);
    consumer.dequeueActive();
    consumer.requestSignal("active");
    expect(consumer.empty("active")).toBe(true); // the double check: still empty, so wait
    producer.enqueueActive({ ioOrOffset: 0, len: 1 });
    expect(producer.signalIfRequired("active", () => notified++)).toBe(true);
    producer.enqueueActive({ ioOrOffset: 0, len: 1 });
    expect(producer.signalIfRequired("active", () => notified++)).toBe(false);
    expect(notified).toBe(1);
  });
});

describe("sound queues and shared state", () => {
  test("commands: 16 bytes, set_params on requests and status on responses share the union", () => {
    const region = new Uint8Array(soundCmdQueueSize(4));
    const req = new SoundCmdQueueHandle(region, 4);
    req.enqueue({
      code: SoundCmdCode.TAKE,
      cookie: 5,
      streamId: 1,
      setParams: { channels: 2, format: 5, rate: 7 },
    });
    expect(u32(region, SOUND_QUEUE.tail)).toBe(1);
    expect([...region.subarray(8 + 12, 8 + 15)]).toEqual([2, 5, 7]);
    const got = new SoundCmdQueueHandle(region, 4).dequeue();
    expect(got).toMatchObject({
      code: 0,
      cookie: 5,
      streamId: 1,
      setParams: { channels: 2, format: 5, rate: 7 },
    });
    req.enqueue({ code: SoundCmdCode.START, cookie: 6, streamId: 1, status: SoundStatus.BUSY });
    expect(req.dequeue()?.status).toBe(SoundStatus.BUSY);
  });

  test("PCM: 32-byte descriptors; full and wrap", () => {
    const region = new Uint8Array(soundPcmQueueSize(2));
    const q = new SoundPcmQueueHandle(region, 2);
    setU32(region, SOUND_QUEUE.tail, 0xffff_ffff);
    setU32(region, SOUND_QUEUE.head, 0xffff_ffff);
    expect(q.enqueue({ cookie: 1, streamId: 0, ioOrOffset: 0x1000, len: 4096 })).toBe(true);
    expect(q.enqueue({ cookie: 2, streamId: 0, ioOrOffset: 0x2000, len: 100 })).toBe(true);
    expect(q.full()).toBe(true);
    expect(q.dequeue()).toMatchObject({ cookie: 1, ioOrOffset: 0x1000, len: 4096 });
    expect(q.dequeue()).toMatchObject({ cookie: 2, len: 100 });
    expect(q.empty()).toBe(true);
  });

  test("shared state: stream count is capped at 32 whatever memory says", () => {
    const region = new Uint8Array(4096);
    const state = new SoundSharedState(region);
    state.writeStreams([
      { formats: 1n << 5n, rates: 1n << 7n, direction: 0, channelsMin: 1, channelsMax: 2 },
    ]);
    state.setReady(true);
    expect(state.readStreams()).toEqual([
      { formats: 32n, rates: 128n, direction: 0, channelsMin: 1, channelsMax: 2 },
    ]);
    setU32(region, 4, 0xffff_ffff);
    expect(state.readStreams()).toHaveLength(32);
  });
});

describe("queues over a memory region two PDs share", () => {
  test("what the producer PD enqueues, the consumer PD dequeues, with the signal handshake", async () => {
    const maps = (perms: string) =>
      `<map mr="tx_queue" vaddr="0x400000" perms="${perms}" setvar_vaddr="tx_queue" />` +
      `<map mr="tx_data" vaddr="0x401000" perms="${perms}" setvar_vaddr="tx_data" />`;
    const xml =
      '<memory_region name="tx_queue" size="0x1000" /><memory_region name="tx_data" size="0x1000" />' +
      pd("client", 'priority="100"', maps("rw")) +
      pd("virt", 'priority="150"', maps("rw")) +
      channel(end("client", 1), end("virt", 2));
    const received: string[] = [];
    const { done } = await boot(xml, {
      client: {
        init(p) {
          const tx = SerialQueueHandle.fromPd(p, { queue: "tx_queue", data: "tx_data" });
          expect(tx.capacity).toBe(0x1000);
          tx.enqueueBatch("hello from the client\n");
          p.notify(1);
        },
        notified() {},
      },
      virt: {
        init() {},
        notified(p, ch) {
          const tx = SerialQueueHandle.fromPd(p, { queue: "tx_queue", data: "tx_data", capacity: 0x1000 });
          received.push(`${ch}:` + new TextDecoder().decode(tx.dequeueBatch()));
        },
      },
    });
    await done;
    expect(received).toEqual(["2:hello from the client\n"]);
  });

  test("a setvar the PD does not have is a clear error", async () => {
    let error: unknown;
    const { done } = await boot(pd("lonely", 'priority="100"'), {
      lonely: {
        init(p) {
          try {
            SerialQueueHandle.fromPd(p, { queue: "rx_queue", data: "rx_data" }, "serial client");
          } catch (e) {
            error = e;
          }
        },
        notified() {},
      },
    });
    await done;
    expect(String(error)).toMatch(
      /serial client 'lonely': no setvar 'rx_queue'; give a <map ... setvar_vaddr="rx_queue"\/> to the PD/,
    );
  });

  test("a misconfigured component faults alone, the monitor saying why; the rest of the system runs on", async () => {
    const out = await runToIdle(
      pd("virt", 'priority="100"') +
        pd(
          "blk",
          'priority="90"',
          '<map mr="small" vaddr="0x400000" perms="rw" setvar_vaddr="req" /><map mr="small2" vaddr="0x500000" perms="rw" setvar_vaddr="resp" />',
        ) +
        '<memory_region name="small" size="0x1000" /><memory_region name="small2" size="0x1000" />' +
        pd("other", 'priority="50"'),
      {
        virt: serialVirtRx({ driver: { queue: "q", data: "d", channel: 0 }, clients: [] }),
        blk: blkVirt({
          driver: {
            request: "req",
            response: "resp",
            capacity: 1024,
            storageInfo: "info",
            data: "data",
            channel: 0,
          },
          clients: [],
        }),
        other: { init: (p) => p.dbgPuts("other still runs\n"), notified() {} },
      },
    );
    expect(out).toContain(
      "MON|ERROR: UserException: SddfError: serial RX virtualiser 'virt': no setvar 'q'; give a <map ... setvar_vaddr=\"q\"/> to the PD",
    );
    expect(out).toContain(
      "MON|ERROR: UserException: SddfError: block virtualiser 'blk': region 'req' at 0x400000 is 4096 bytes, needs 32784",
    );
    expect(out).toContain("other still runs");
  });
});
