// The sDDF virtio-blk driver against the board's virtio-blk model in a virtio-mmio slot, under the block virtualiser and a client.

import { describe, expect, test } from "vitest";
import type { Pd } from "../../src/microkit/index.ts";
import { VirtioBlk, memoryBlockBackend } from "../../src/machine/devices/virtio/blk.ts";
import {
  BLK_TRANSFER_SIZE,
  BlkQueueHandle,
  BlkReqCode,
  BlkRespStatus,
  BlkStorageInfo,
  blkDriverVirtio,
  blkVirt,
  type BlkResponse,
} from "../../src/sddf/index.ts";
import { channel, end, pd } from "../microkit/harness.ts";
import { mbrDisk } from "./blk-disks.ts";
import { bootWithSlotDevice } from "./virtio-harness.ts";

const SLOT = 1; // 0xa000200, INTID 49
const CAP = 16;
const mr = (name: string, size = 0x1000, extra = "") =>
  `<memory_region name="${name}" size="0x${size.toString(16)}" ${extra}/>`;
const map = (name: string, vaddr: number, setvar = name, extra = "") =>
  `<map mr="${name}" vaddr="0x${vaddr.toString(16)}" perms="rw" setvar_vaddr="${setvar}" ${extra}/>`;

const xml =
  mr("virtio_regs", 0x1000, 'phys_addr="0xa000000"') +
  mr("drv_dma", 0x4000) +
  ["drv_info", "drv_req", "drv_resp", "cli_info", "cli_req", "cli_resp"].map((n) => mr(n)).join("") +
  mr("drv_data", 0x10000) +
  mr("cli_data", 0x40000) +
  pd(
    "blk_driver",
    'priority="200"',
    map("virtio_regs", 0x6000000, "regs", 'cached="false"') +
      '<irq irq="49" id="1" />' +
      map("drv_dma", 0x6100000) +
      map("drv_info", 0x4000000) +
      map("drv_req", 0x4001000) +
      map("drv_resp", 0x4002000),
  ) +
  pd(
    "blk_virt",
    'priority="150"',
    map("drv_info", 0x4000000) +
      map("drv_req", 0x4001000) +
      map("drv_resp", 0x4002000) +
      map("drv_data", 0x4100000) +
      map("cli_info", 0x5000000) +
      map("cli_req", 0x5001000) +
      map("cli_resp", 0x5002000) +
      map("cli_data", 0x5100000),
  ) +
  pd(
    "client",
    'priority="100"',
    map("cli_info", 0x4000000, "info") +
      map("cli_req", 0x4001000, "req") +
      map("cli_resp", 0x4002000, "resp") +
      map("cli_data", 0x4100000, "data"),
  ) +
  channel(end("blk_driver", 0), end("blk_virt", 0)) +
  channel(end("blk_virt", 1), end("client", 0));

const components = {
  blk_driver: blkDriverVirtio({
    regs: "regs",
    regsOffset: 0x200,
    irq: 1,
    dma: "drv_dma",
    virt: { request: "drv_req", response: "drv_resp", capacity: CAP, storageInfo: "drv_info", channel: 0 },
  }),
  blk_virt: blkVirt({
    driver: {
      request: "drv_req",
      response: "drv_resp",
      capacity: CAP,
      storageInfo: "drv_info",
      data: "drv_data",
      channel: 0,
    },
    clients: [
      {
        request: "cli_req",
        response: "cli_resp",
        capacity: CAP,
        storageInfo: "cli_info",
        data: "cli_data",
        channel: 1,
        partition: 0,
      },
    ],
  }),
};

interface Step {
  /** Prepares the data region and returns the request to make (its id is given). */
  issue(data: Uint8Array): { code: number; block: number; count: number; offset?: number };
  /** Sees the response, with the data region. */
  check?(response: BlkResponse, data: Uint8Array): void;
}

/** A client that, once its partition is ready, makes one request per step, each after the last one's response. */
function steppedClient(steps: Step[], seen: { capacity?: number; responses: BlkResponse[] }) {
  let q: BlkQueueHandle;
  let info: BlkStorageInfo;
  let step = -1;
  const next = (p: Pd, data: Uint8Array): void => {
    step++;
    if (step >= steps.length) return;
    const r = steps[step]!.issue(data);
    q.enqueueReq({ code: r.code, ioOrOffset: r.offset ?? 0, blockNumber: r.block, count: r.count, id: step });
    p.notify(0);
  };
  return {
    init(p: Pd) {
      q = BlkQueueHandle.fromPd(p, { request: "req", response: "resp", capacity: CAP });
      info = BlkStorageInfo.fromPd(p, "info");
    },
    notified(p: Pd) {
      const data = p.memory.view(p.setvars.data!, 0x40000);
      if (step < 0) {
        if (!info.ready) return;
        seen.capacity = info.read().capacity;
        return next(p, data);
      }
      for (let r = q.dequeueResp(); r; r = q.dequeueResp()) {
        seen.responses.push(r);
        steps[r.id]?.check?.(r, data);
        next(p, data);
      }
    },
  };
}

describe("the virtio-blk driver on the board's virtio-blk model", () => {
  test("partition read and write through virtualiser and driver land in the disk; FLUSH reaches the device", async () => {
    // 4 MiB disk, partition 0 from LBA 2048 (block 256), 4096 sectors (512 blocks).
    const disk = mbrDisk(8192, [[0x83, 2048, 4096]]);
    disk.fill(0x3c, 2048 * 512, 2048 * 512 + BLK_TRANSFER_SIZE);
    const backend = memoryBlockBackend(disk);
    const pattern = (i: number) => (i * 7) & 0xff;
    const seen: { capacity?: number; responses: BlkResponse[] } = { responses: [] };
    let firstByte = -1;
    let same = false;
    const { console, done, system } = await bootWithSlotDevice(
      xml,
      {
        ...components,
        client: steppedClient(
          [
            {
              issue: () => ({ code: BlkReqCode.READ, block: 0, count: 1 }),
              check: (_r, d) => (firstByte = d[0]!),
            },
            {
              // 40 blocks (160 KiB) in one request: with a 4-entry queue (2 segments of SIZE_MAX 64 KiB) it takes two virtio requests.
              issue: (d) => {
                for (let i = 0; i < 40 * BLK_TRANSFER_SIZE; i++) d[i] = pattern(i);
                return { code: BlkReqCode.WRITE, block: 100, count: 40 };
              },
            },
            {
              issue: (d) => {
                d.fill(0, 0, 40 * BLK_TRANSFER_SIZE);
                return { code: BlkReqCode.READ, block: 100, count: 40 };
              },
              check: (_r, d) =>
                (same = d.subarray(0, 40 * BLK_TRANSFER_SIZE).every((b, i) => b === pattern(i))),
            },
            { issue: () => ({ code: BlkReqCode.FLUSH, block: 0, count: 0 }) },
            { issue: () => ({ code: BlkReqCode.READ, block: 512, count: 1 }) },
          ],
          seen,
        ),
      },
      SLOT,
      (env) => new VirtioBlk({ ...env, backend, queueSize: 4 }),
    );
    await done;
    expect(console.output.split("\n").filter((l) => l.includes("ERROR"))).toEqual([
      "BLK_VIRT|ERROR: client 0 read of blocks 512..512 is out of bounds: its partition has 512 blocks",
    ]);
    expect(seen.capacity).toBe(512);
    expect(seen.responses).toEqual([
      { status: BlkRespStatus.OK, successCount: 1, id: 0 },
      { status: BlkRespStatus.OK, successCount: 40, id: 1 },
      { status: BlkRespStatus.OK, successCount: 40, id: 2 },
      { status: BlkRespStatus.OK, successCount: 0, id: 3 },
      { status: BlkRespStatus.ERR_INVALID_PARAM, successCount: 0, id: 4 },
    ]);
    expect(firstByte).toBe(0x3c);
    expect(same).toBe(true);
    expect(backend.flushes).toBe(1);
    const at = (256 + 100) * BLK_TRANSFER_SIZE;
    expect(disk.subarray(at, at + 40 * BLK_TRANSFER_SIZE).every((b, i) => b === pattern(i))).toBe(true);
    system.stop();
  });

  test("an empty slot, or a legacy device, is reported and the driver stays down", async () => {
    const { console, done } = await bootWithSlotDevice(
      xml,
      { ...components, client: { init() {}, notified() {} } },
      SLOT,
      (env) => new VirtioBlk({ ...env, legacy: true, backend: memoryBlockBackend(new Uint8Array(4096)) }),
    );
    await done;
    expect(console.output).toContain(
      "the device has the legacy virtio-mmio interface (version 1); this driver needs the modern one (version 2)",
    );
  });
});
