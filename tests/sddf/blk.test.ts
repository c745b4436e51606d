// The block virtualiser as a PD between a RAM-disk driver and clients: MBR and GPT partitions, translation, bounds checks, adversarial requests.

import { describe, expect, test } from "vitest";
import type { Pd, PdProgram } from "../../src/microkit/index.ts";
import {
  BLK_TRANSFER_SIZE,
  BlkQueueHandle,
  BlkReqCode,
  BlkRespStatus,
  BlkStorageInfo,
  blkVirt,
  parseGptHeader,
  parseMbr,
  type BlkRequest,
  type BlkResponse,
} from "../../src/sddf/index.ts";
import { boot, channel, end, pd } from "../microkit/harness.ts";
import { SECTOR, gptDisk, mbrDisk, ramDiskDriver } from "./blk-disks.ts";

const mr = (name: string, size = 0x1000) => `<memory_region name="${name}" size="0x${size.toString(16)}" />`;
const map = (name: string, vaddr: number, setvar = name) =>
  `<map mr="${name}" vaddr="0x${vaddr.toString(16)}" perms="rw" setvar_vaddr="${setvar}" />`;
const CLIENT_DATA = 0x4000;
const CAPACITY = 16;

function blkSystem(clients: number): string {
  const cli = [...Array(clients).keys()];
  const driverMaps = map("drv_info", 0x4000000) + map("drv_req", 0x4001000) + map("drv_resp", 0x4002000);
  const clientMaps = (i: number, base: number, generic: boolean) =>
    map(`cli${i}_info`, base, generic ? "info" : undefined) +
    map(`cli${i}_req`, base + 0x1000, generic ? "req" : undefined) +
    map(`cli${i}_resp`, base + 0x2000, generic ? "resp" : undefined) +
    map(`cli${i}_data`, base + 0x10000, generic ? "data" : undefined);
  return (
    mr("drv_info") +
    mr("drv_req") +
    mr("drv_resp") +
    mr("drv_data", 0x10000) +
    cli
      .map(
        (i) => mr(`cli${i}_info`) + mr(`cli${i}_req`) + mr(`cli${i}_resp`) + mr(`cli${i}_data`, CLIENT_DATA),
      )
      .join("") +
    pd(
      "blk_driver",
      'priority="200"',
      driverMaps +
        map("drv_data", 0x4100000) +
        cli.map((i) => map(`cli${i}_data`, 0x4200000 + i * 0x10000)).join(""),
    ) +
    pd(
      "blk_virt",
      'priority="150"',
      driverMaps +
        map("drv_data", 0x4100000) +
        cli.map((i) => clientMaps(i, 0x5000000 + i * 0x100000, false)).join(""),
    ) +
    cli.map((i) => pd(`client${i}`, 'priority="100"', clientMaps(i, 0x4000000, true))).join("") +
    channel(end("blk_virt", 0), end("blk_driver", 0)) +
    cli.map((i) => channel(end("blk_virt", i + 1), end(`client${i}`, 0))).join("")
  );
}

function components(disk: Uint8Array, partitions: number[], driverLog: string[] = []) {
  return {
    blk_driver: ramDiskDriver(
      disk,
      { request: "drv_req", response: "drv_resp", capacity: CAPACITY, storageInfo: "drv_info", channel: 0 },
      driverLog,
    ),
    blk_virt: blkVirt({
      driver: {
        request: "drv_req",
        response: "drv_resp",
        capacity: CAPACITY,
        storageInfo: "drv_info",
        data: "drv_data",
        channel: 0,
      },
      clients: partitions.map((partition, i) => ({
        request: `cli${i}_req`,
        response: `cli${i}_resp`,
        capacity: CAPACITY,
        storageInfo: `cli${i}_info`,
        data: `cli${i}_data`,
        channel: i + 1,
        partition,
      })),
      log: true,
    }),
  };
}

interface ClientRun {
  capacity?: number;
  responses: BlkResponse[];
  data?: Uint8Array;
}

/** A client that, once its storage info is ready, runs `start` and then collects responses. */
function client(
  run: ClientRun,
  start: (q: BlkQueueHandle, data: Uint8Array, pd: Pd) => void,
  onResponse?: (r: BlkResponse, q: BlkQueueHandle, data: Uint8Array) => void,
): PdProgram {
  let q: BlkQueueHandle;
  let info: BlkStorageInfo;
  let started = false;
  return {
    init(p) {
      q = BlkQueueHandle.fromPd(p, { request: "req", response: "resp", capacity: CAPACITY });
      info = BlkStorageInfo.fromPd(p, "info");
    },
    notified(p) {
      run.data = p.memory.view(p.setvars.data!, CLIENT_DATA);
      if (!started && info.ready) {
        started = true;
        run.capacity = info.read().capacity;
        start(q, run.data, p);
        p.notify(0);
      }
      for (let r = q.dequeueResp(); r; r = q.dequeueResp()) {
        run.responses.push(r);
        if (onResponse) {
          onResponse(r, q, run.data);
          p.notify(0);
        }
      }
    },
  };
}

const req = (code: number, blockNumber: number, count: number, id: number, ioOrOffset = 0): BlkRequest => ({
  code,
  ioOrOffset,
  blockNumber,
  count,
  id,
});

describe("block partitions", () => {
  test("parsers: MBR entries, GPT header with CRC", () => {
    const mbr = parseMbr(mbrDisk(64, [[0x83, 8, 16]]));
    expect(mbr).toMatchObject({
      protective: false,
      partitions: [{ index: 0, type: 0x83, startLba: 8, sectors: 16 }, { type: 0 }, { type: 0 }, { type: 0 }],
    });
    expect(parseMbr(new Uint8Array(512))).toMatch(/invalid MBR signature 0x0/);
    const gpt = gptDisk(2048, [{ first: 64, last: 127, name: "boot" }]);
    expect(parseGptHeader(gpt.subarray(SECTOR, 2 * SECTOR))).toMatchObject({
      entriesLba: 2,
      numEntries: 128,
    });
    gpt[SECTOR + 40] ^= 1;
    expect(parseGptHeader(gpt.subarray(SECTOR, 2 * SECTOR))).toBe("GPT header CRC32 is incorrect");
  });
});

describe("the block virtualiser", () => {
  test("MBR: each client gets its partition; block numbers are translated; data reaches the right place", async () => {
    // 1 MiB disk: partition 0 at LBA 64 (block 8), 256 sectors (32 blocks); partition 1 at LBA 512, 128 sectors.
    const disk = mbrDisk(2048, [
      [0x83, 64, 256],
      [0x0c, 512, 128],
    ]);
    disk.fill(0x5a, 512 * SECTOR, 513 * SECTOR);
    const runs: ClientRun[] = [{ responses: [] }, { responses: [] }];
    const { console, done } = await boot(blkSystem(2), {
      ...components(disk, [0, 1]),
      client0: client(runs[0]!, (q, data) => {
        data.fill(0xa1, 0, BLK_TRANSFER_SIZE);
        data.fill(0xa2, BLK_TRANSFER_SIZE, 2 * BLK_TRANSFER_SIZE);
        q.enqueueReq(req(BlkReqCode.WRITE, 31, 1, 1)); // its last block
        q.enqueueReq(req(BlkReqCode.WRITE, 0, 1, 2, BLK_TRANSFER_SIZE));
        q.enqueueReq(req(BlkReqCode.FLUSH, 0, 0, 3));
      }),
      client1: client(runs[1]!, (q) => q.enqueueReq(req(BlkReqCode.READ, 0, 1, 7, 2 * BLK_TRANSFER_SIZE))),
    });
    await done;
    expect(console.output).toContain(
      "BLK_VIRT|INFO: client 0 gets MBR partition 0: 32 blocks from block 8\n",
    );
    expect(runs[0]!.capacity).toBe(32);
    expect(runs[1]!.capacity).toBe(16);
    expect(runs[0]!.responses).toEqual([
      { status: BlkRespStatus.OK, successCount: 1, id: 1 },
      { status: BlkRespStatus.OK, successCount: 1, id: 2 },
      { status: BlkRespStatus.OK, successCount: 0, id: 3 },
    ]);
    expect(
      disk.subarray((8 + 31) * BLK_TRANSFER_SIZE, (8 + 32) * BLK_TRANSFER_SIZE).every((b) => b === 0xa1),
    ).toBe(true);
    expect(disk.subarray(8 * BLK_TRANSFER_SIZE, 9 * BLK_TRANSFER_SIZE).every((b) => b === 0xa2)).toBe(true);
    expect(runs[1]!.responses).toEqual([{ status: BlkRespStatus.OK, successCount: 1, id: 7 }]);
    expect(
      runs[1]!.data!.subarray(2 * BLK_TRANSFER_SIZE, 2 * BLK_TRANSFER_SIZE + 512).every((b) => b === 0x5a),
    ).toBe(true);
  });

  test("GPT: the partition by entry index; a corrupt primary header falls back to the backup", async () => {
    const disk = gptDisk(4096, [
      { first: 64, last: 127, name: "boot" },
      { first: 2048, last: 4095 - 34, name: "rootfs" },
    ]);
    disk.fill(0x77, 2048 * SECTOR, 2049 * SECTOR);
    disk[SECTOR + 30] ^= 0xff; // corrupt the primary header
    const run: ClientRun = { responses: [] };
    const { console, done } = await boot(blkSystem(1), {
      ...components(disk, [1]),
      client0: client(run, (q) => q.enqueueReq(req(BlkReqCode.READ, 0, 1, 1))),
    });
    await done;
    expect(console.output).toContain(
      "BLK_VIRT|ERROR: primary GPT is invalid (GPT header CRC32 is incorrect); trying the backup at LBA 4095\n",
    );
    expect(console.output).toContain(
      "BLK_VIRT|INFO: client 0 gets GPT partition 1: 251 blocks from block 256\n",
    );
    expect(run.responses).toEqual([{ status: BlkRespStatus.OK, successCount: 1, id: 1 }]);
    expect(run.data!.subarray(0, 512).every((b) => b === 0x77)).toBe(true);
  });

  test("adversarial requests are refused with a clear message and ERR_INVALID_PARAM; nothing outside the partition changes", async () => {
    const disk = mbrDisk(2048, [
      [0x83, 64, 256],
      [0x83, 512, 128],
    ]);
    const before = disk.slice();
    const run: ClientRun = { responses: [] };
    const driverLog: string[] = [];
    const { console, done } = await boot(blkSystem(1), {
      ...components(disk, [0], driverLog),
      client0: client(run, (q, _data, p) => {
        q.enqueueReq(req(BlkReqCode.WRITE, 32, 1, 1)); // one past its partition
        q.enqueueReq(req(BlkReqCode.WRITE, 30, 4, 2)); // runs past the end
        q.enqueueReq(req(BlkReqCode.READ, 0, 1, 3, CLIENT_DATA)); // buffer outside its data region
        q.enqueueReq(req(BlkReqCode.READ, 0, 1, 4, 100)); // misaligned buffer
        q.enqueueReq(req(BlkReqCode.READ, 0, 0, 5)); // zero blocks
        q.enqueueReq(req(9, 0, 1, 6)); // no such request code
        q.enqueueReq(req(BlkReqCode.WRITE, 0, 1, 7));
        const view = p.memory.view(p.setvars.req!, 16 + 7 * 32);
        new DataView(view.buffer, view.byteOffset).setBigUint64(
          16 + 6 * 32 + 16,
          0xffff_ffff_ffff_fff0n,
          true,
        ); // huge block
      }),
    });
    await done;
    const status = Object.fromEntries(run.responses.map((r) => [r.id, r.status]));
    expect(status).toEqual({ 1: 2, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2 });
    const errors = console.output.split("\n").filter((l) => l.startsWith("BLK_VIRT|ERROR"));
    expect(errors).toEqual([
      "BLK_VIRT|ERROR: client 0 write of blocks 32..32 is out of bounds: its partition has 32 blocks",
      "BLK_VIRT|ERROR: client 0 write of blocks 30..33 is out of bounds: its partition has 32 blocks",
      "BLK_VIRT|ERROR: client 0 request offset 0x4000 + 1 blocks is outside its data region of 0x4000 bytes",
      "BLK_VIRT|ERROR: client 0 request offset 0x64 is not aligned to 4096 bytes",
      "BLK_VIRT|ERROR: client 0 requested zero blocks",
      "BLK_VIRT|ERROR: client 0 gave an invalid request code 9",
      "BLK_VIRT|ERROR: client 0 write of blocks Infinity..Infinity is out of bounds: its partition has 32 blocks",
    ]);
    expect(driverLog).toEqual(["0 0 1"]); // only the virtualiser's own MBR read reached the driver
    expect(Buffer.compare(disk, before)).toBe(0);
  });

  test("a client given a partition that does not exist gets ERR_NO_DEVICE; the other client works", async () => {
    const disk = mbrDisk(2048, [[0x83, 64, 256]]);
    const runs: ClientRun[] = [{ responses: [] }, { responses: [] }];
    let bad: Pd | undefined;
    const { console, done } = await boot(blkSystem(2), {
      ...components(disk, [0, 3]),
      client0: client(runs[0]!, (q) => q.enqueueReq(req(BlkReqCode.READ, 0, 1, 1))),
      client1: {
        init(p) {
          bad = p;
          const q = BlkQueueHandle.fromPd(p, { request: "req", response: "resp", capacity: CAPACITY });
          q.enqueueReq(req(BlkReqCode.READ, 0, 1, 9));
          p.notify(0);
        },
        notified(p) {
          const q = BlkQueueHandle.fromPd(p, { request: "req", response: "resp", capacity: CAPACITY });
          for (let r = q.dequeueResp(); r; r = q.dequeueResp()) runs[1]!.responses.push(r);
        },
      },
    });
    await done;
    expect(bad).toBeDefined();
    expect(console.output).toContain(
      "BLK_VIRT|ERROR: client 1 is given MBR partition 3, which does not exist: the disk has 0 (256 sectors from LBA 64)\n",
    );
    expect(runs[1]!.responses).toEqual([{ status: BlkRespStatus.ERR_NO_DEVICE, successCount: 0, id: 9 }]);
    expect(runs[0]!.responses).toEqual([{ status: BlkRespStatus.OK, successCount: 1, id: 1 }]);
  });

  test("more requests than the queues hold all complete (flow control on both sides)", async () => {
    const disk = mbrDisk(2048, [[0x83, 64, 256]]);
    const run: ClientRun = { responses: [] };
    let sent = 0;
    const fill = (q: BlkQueueHandle) => {
      while (
        sent < 100 &&
        q.enqueueReq(req(BlkReqCode.READ, sent % 32, 1, sent, (sent % 4) * BLK_TRANSFER_SIZE))
      )
        sent++;
    };
    const { done } = await boot(blkSystem(1), {
      ...components(disk, [0]),
      client0: client(
        run,
        (q) => fill(q),
        (_r, q) => fill(q),
      ),
    });
    await done;
    expect(run.responses.map((r) => r.id)).toEqual([...Array(100).keys()]);
    expect(run.responses.every((r) => r.status === BlkRespStatus.OK)).toBe(true);
  });

  test("a client that corrupts its queue indices is reported once; its requests are ignored", async () => {
    const disk = mbrDisk(2048, [[0x83, 64, 256]]);
    const { console, done } = await boot(blkSystem(1), {
      ...components(disk, [0]),
      client0: {
        init() {},
        notified(p: Pd) {
          const view = p.memory.view(p.setvars.req!, 8);
          new DataView(view.buffer, view.byteOffset).setUint32(4, 0x1000_0000, true);
          p.notify(0);
        },
      },
    });
    await done;
    const reports = console.output.match(
      /BLK_VIRT\|ERROR: client 0: block request queue indices are corrupt/g,
    );
    expect(reports).toHaveLength(1);
  });
});
