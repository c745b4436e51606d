// Disk images with MBR and GPT partition tables for the block tests, and a RAM-disk driver PD that serves sDDF block requests by DMA address.

import type { Pd, PdProgram } from "../../src/microkit/index.ts";
import {
  BLK_TRANSFER_SIZE,
  BlkQueueHandle,
  BlkReqCode,
  BlkRespStatus,
  BlkStorageInfo,
  crc32,
} from "../../src/sddf/index.ts";

export const SECTOR = 512;

/** A disk of `sectors` 512-byte sectors with an MBR listing `partitions` ([type, startLba, sectors]). */
export function mbrDisk(sectors: number, partitions: [number, number, number][]): Uint8Array {
  const disk = new Uint8Array(sectors * SECTOR);
  const view = new DataView(disk.buffer);
  partitions.forEach(([type, start, count], i) => {
    const at = 446 + i * 16;
    view.setUint8(at + 4, type);
    view.setUint32(at + 8, start, true);
    view.setUint32(at + 12, count, true);
  });
  view.setUint16(510, 0xaa55, true);
  return disk;
}

/** A GPT disk: protective MBR, primary header and 128 entries at LBA 1–33, backup at the end. */
export function gptDisk(
  sectors: number,
  partitions: { first: number; last: number; name: string }[],
): Uint8Array {
  const disk = mbrDisk(sectors, [[0xee, 1, sectors - 1]]);
  const entries = new Uint8Array(128 * 128);
  const ev = new DataView(entries.buffer);
  partitions.forEach((p, i) => {
    const at = i * 128;
    entries.set(
      [0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47, 0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4],
      at,
    );
    entries[at + 16] = i + 1;
    ev.setBigUint64(at + 32, BigInt(p.first), true);
    ev.setBigUint64(at + 40, BigInt(p.last), true);
    [...p.name].forEach((c, k) => ev.setUint16(at + 56 + 2 * k, c.charCodeAt(0), true));
  });
  const header = (current: number, backup: number, entriesLba: number): Uint8Array => {
    const h = new Uint8Array(SECTOR);
    const hv = new DataView(h.buffer);
    h.set(new TextEncoder().encode("EFI PART"), 0);
    hv.setUint32(8, 0x10000, true);
    hv.setUint32(12, 92, true);
    hv.setBigUint64(24, BigInt(current), true);
    hv.setBigUint64(32, BigInt(backup), true);
    hv.setBigUint64(40, 34n, true);
    hv.setBigUint64(48, BigInt(sectors - 34), true);
    hv.setBigUint64(72, BigInt(entriesLba), true);
    hv.setUint32(80, 128, true);
    hv.setUint32(84, 128, true);
    hv.setUint32(88, crc32(entries), true);
    hv.setUint32(16, crc32(h.subarray(0, 92)), true);
    return h;
  };
  disk.set(header(1, sectors - 1, 2), SECTOR);
  disk.set(entries, 2 * SECTOR);
  disk.set(entries, (sectors - 33) * SECTOR);
  disk.set(header(sectors - 1, 1, sectors - 33), (sectors - 1) * SECTOR);
  return disk;
}

export interface RamDiskConfig {
  request: string;
  response: string;
  capacity: number;
  storageInfo: string;
  channel: number;
}

/**
 * A block driver over `disk` in host memory: it reaches request buffers by their I/O (physical)
 * addresses through its own maps of the data regions, as a DMA engine would.
 */
export function ramDiskDriver(disk: Uint8Array, config: RamDiskConfig, log: string[] = []): PdProgram {
  let queue: BlkQueueHandle;
  const dma = (pd: Pd, io: number, length: number): Uint8Array => {
    const region = pd.regions.find((r) => io >= r.paddr && io + length <= r.paddr + r.size);
    if (!region) throw new Error(`ram disk: DMA to 0x${io.toString(16)} (+${length}) reaches no data region`);
    return pd.memory.view(region.vaddr + (io - region.paddr), length);
  };
  return {
    init(pd) {
      queue = BlkQueueHandle.fromPd(pd, config);
      const info = BlkStorageInfo.fromPd(pd, config.storageInfo);
      info.write({
        serialNumber: "ramdisk",
        readOnly: false,
        sectorSize: SECTOR,
        blockSize: 1,
        queueDepth: config.capacity,
        cylinders: 0,
        heads: 0,
        blocks: 0,
        capacity: disk.length / BLK_TRANSFER_SIZE,
      });
      info.setReady(true);
    },
    notified(pd, ch) {
      if (ch !== config.channel) return;
      for (let req = queue.dequeueReq(); req; req = queue.dequeueReq()) {
        log.push(`${req.code} ${req.blockNumber} ${req.count}`);
        const bytes = req.count * BLK_TRANSFER_SIZE;
        const at = req.blockNumber * BLK_TRANSFER_SIZE;
        let status: number = BlkRespStatus.OK;
        if (req.code === BlkReqCode.READ || req.code === BlkReqCode.WRITE) {
          if (at + bytes > disk.length) status = BlkRespStatus.ERR_IO;
          else if (req.code === BlkReqCode.READ)
            dma(pd, req.ioOrOffset, bytes).set(disk.subarray(at, at + bytes));
          else disk.set(dma(pd, req.ioOrOffset, bytes), at);
        }
        queue.enqueueResp({ status, successCount: status === BlkRespStatus.OK ? req.count : 0, id: req.id });
      }
      pd.notify(config.channel);
    },
  };
}
