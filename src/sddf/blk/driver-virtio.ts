// The sDDF block driver for a virtio-blk device on virtio-mmio (drivers/blk/virtio): sDDF requests become virtio requests in a driver-owned DMA region.

import { definePd, type Pd, type PdProgramDefinition } from "../../microkit/index.ts";
import {
  VIRTIO_BLK_HEADER_SIZE,
  VIRTIO_BLK_REQUEST_QUEUE,
  VIRTIO_BLK_SECTOR_SIZE,
  VirtioBlkConfig,
  VirtioBlkFeature,
  VirtioBlkRequest,
  VirtioBlkStatus,
  VirtioDeviceId,
  VirtioInterrupt,
  featureBits,
} from "../../machine/devices/virtio/constants.ts";
import { PeerComplaints, SharedFields, ioRegion, setvarAddress } from "../shared.ts";
import {
  DriverVirtqueue,
  VirtioMmioDriverTransport,
  splitQueueLayout,
  type ChainBuffer,
} from "../virtio/driver.ts";
import { BLK_TRANSFER_SIZE, BlkQueueHandle, BlkReqCode, BlkRespStatus, BlkStorageInfo } from "./queue.ts";
import type { BlkConnection } from "./virt.ts";

export interface BlkDriverVirtioConfig {
  /** setvar_vaddr of the PD's (uncached) map of the virtio-mmio registers. */
  regs: string;
  /** Where the device's window starts within that map (a slot's offset in its page, e.g. 0xe00 for slot 31). */
  regsOffset?: number;
  /** Channel id of the slot's `<irq>`. */
  irq: number;
  /** setvar_vaddr of the driver's own DMA region (a RAM region): the virtqueue, request headers and status bytes. */
  dma: string;
  /** The queues, storage info and channel to the block virtualiser. */
  virt: BlkConnection;
  /** Virtqueue entries (default 128, at most what the device allows). */
  queueSize?: number;
}

const SECTORS_PER_BLOCK = BLK_TRANSFER_SIZE / VIRTIO_BLK_SECTOR_SIZE;

/** One sDDF request, possibly carried by several virtio requests. */
interface Request {
  id: number;
  count: number;
  parts: number;
  status: number;
  okBlocks: number;
}

/** One virtio request: a header, data segments and a status byte. */
interface Part {
  request: Request;
  type: number;
  sector: number;
  blocks: number;
  data: ChainBuffer[];
}

/** A PD program: the virtio-blk driver. It fills in the storage info, sets it ready and notifies the virtualiser. */
export function blkDriverVirtio(config: BlkDriverVirtioConfig): PdProgramDefinition {
  return definePd(() => {
    let device: VirtioMmioDriverTransport;
    let vq: DriverVirtqueue;
    let virt: BlkQueueHandle;
    let info: BlkStorageInfo;
    let slots: SharedFields;
    let slotsIo = 0;
    let headerAt = 0;
    let statusAt = 0;
    const freeSlots: number[] = [];
    let features = 0n;
    let capacityBlocks = 0;
    let readOnly = false;
    let segmentBytes = 0;
    let blocksPerPart = 0;
    let running = false;
    const waiting: Part[] = [];
    const inDevice = new Map<number, { part: Part; slot: number }>();
    const complaints = new PeerComplaints("VIRTIO BLK DRIVER|ERROR: ");

    const has = (bit: number): boolean => ((features >> BigInt(bit)) & 1n) === 1n;
    const error = (pd: Pd, text: string): void =>
      pd.dbgPuts(`VIRTIO BLK DRIVER|ERROR: ${device?.name ?? pd.name}: ${text}\n`);

    function start(pd: Pd): void {
      const regs = setvarAddress(pd, config.regs, "virtio-blk driver") + (config.regsOffset ?? 0);
      device = new VirtioMmioDriverTransport(pd, regs, `virtio-blk at ${pd.name}'s 0x${regs.toString(16)}`);
      const negotiated = device.negotiate(
        VirtioDeviceId.BLOCK,
        featureBits(
          VirtioBlkFeature.FLUSH,
          VirtioBlkFeature.BLK_SIZE,
          VirtioBlkFeature.RO,
          VirtioBlkFeature.SIZE_MAX,
          VirtioBlkFeature.SEG_MAX,
        ),
        0n,
      );
      if (typeof negotiated === "string") return error(pd, negotiated);
      features = negotiated;
      const max = device.queueSizeMax(VIRTIO_BLK_REQUEST_QUEUE);
      if (max === 0) {
        device.fail();
        return error(pd, "the device has no request queue");
      }
      let size = Math.min(max, config.queueSize ?? 128);
      size = 2 ** Math.floor(Math.log2(size));
      const dma = ioRegion(pd, config.dma, "virtio-blk driver");
      const bytes = pd.memory.view(dma.vaddr, dma.size);
      // The rings first, then one 16-byte header and one status byte per possible request.
      const ringBytes = Math.ceil(splitQueueLayout(size).total / 16) * 16;
      headerAt = ringBytes;
      statusAt = headerAt + size * VIRTIO_BLK_HEADER_SIZE;
      const needed = statusAt + size;
      if (dma.size < needed) {
        device.fail();
        return error(
          pd,
          `the DMA region '${config.dma}' is ${dma.size} bytes; a queue of ${size} needs ${needed}`,
        );
      }
      vq = new DriverVirtqueue(size, bytes.subarray(0, ringBytes), dma.ioAddr);
      slots = new SharedFields(bytes.subarray(0, needed));
      slotsIo = dma.ioAddr;
      for (let i = size - 1; i >= 0; i--) freeSlots.push(i);
      const sizeMax = has(VirtioBlkFeature.SIZE_MAX) ? device.configRead32(VirtioBlkConfig.size_max) : 0;
      const segMax = has(VirtioBlkFeature.SEG_MAX) ? device.configRead32(VirtioBlkConfig.seg_max) : 0;
      // Each segment as large as the device allows, in whole sectors; each part as many whole blocks as fit.
      segmentBytes =
        sizeMax >= VIRTIO_BLK_SECTOR_SIZE ? sizeMax - (sizeMax % VIRTIO_BLK_SECTOR_SIZE) : 2 ** 31;
      const segments = Math.min(segMax > 0 ? segMax : size - 2, size - 2);
      blocksPerPart = Math.min(
        Math.floor((segments * Math.min(segmentBytes, 2 ** 31)) / BLK_TRANSFER_SIZE),
        0xffff,
      );
      if (blocksPerPart < 1) {
        device.fail();
        return error(
          pd,
          `the device takes at most ${segments} segments of ${segmentBytes} bytes, less than one ${BLK_TRANSFER_SIZE}-byte block`,
        );
      }
      device.setupQueue(VIRTIO_BLK_REQUEST_QUEUE, vq);
      device.driverOk();
      running = true;
      readOnly = has(VirtioBlkFeature.RO);
      publishStorageInfo(pd);
    }

    function publishStorageInfo(pd: Pd): void {
      const sectors = device.configRead64(VirtioBlkConfig.capacity);
      capacityBlocks = Math.floor(sectors / SECTORS_PER_BLOCK);
      if (capacityBlocks === 0)
        error(pd, `the device has ${sectors} sectors, less than one ${BLK_TRANSFER_SIZE}-byte block`);
      const blkSize = has(VirtioBlkFeature.BLK_SIZE)
        ? device.configRead32(VirtioBlkConfig.blk_size)
        : VIRTIO_BLK_SECTOR_SIZE;
      info.write({
        serialNumber: "virtio-blk",
        readOnly,
        sectorSize:
          blkSize >= VIRTIO_BLK_SECTOR_SIZE && blkSize <= BLK_TRANSFER_SIZE
            ? blkSize
            : VIRTIO_BLK_SECTOR_SIZE,
        blockSize: 1,
        queueDepth: vq.size,
        cylinders: 0,
        heads: 0,
        blocks: 0,
        capacity: capacityBlocks,
      });
      info.setReady(true);
      // The virtualiser cannot spin on `ready` as sDDF's C one does: tell it.
      pd.notify(config.virt.channel);
    }

    function respond(pd: Pd, id: number, status: number, successCount: number): void {
      if (!virt.enqueueResp({ status, successCount, id })) {
        complaints.report(
          pd,
          "the virtualiser",
          `the virtualiser's response queue is full: the response to request ${id} is lost`,
        );
      }
    }

    /** Takes the virtualiser's requests; returns true if responses were queued at once. */
    function takeRequests(pd: Pd): boolean {
      let responded = false;
      for (let req = virt.dequeueReq(); req; req = virt.dequeueReq()) {
        const request: Request = {
          id: req.id,
          count: req.count,
          parts: 0,
          status: BlkRespStatus.OK,
          okBlocks: 0,
        };
        const refuse = (status: number, why: string): void => {
          complaints.report(pd, "the virtualiser", `request ${req.id}: ${why}`);
          respond(pd, req.id, status, 0);
          responded = true;
        };
        if (!running) {
          refuse(BlkRespStatus.ERR_NO_DEVICE, "the device did not start");
          continue;
        }
        switch (req.code) {
          case BlkReqCode.READ:
          case BlkReqCode.WRITE: {
            if (req.count === 0 || req.blockNumber + req.count > capacityBlocks) {
              refuse(
                BlkRespStatus.ERR_INVALID_PARAM,
                `blocks ${req.blockNumber}+${req.count} are outside the device's ${capacityBlocks}`,
              );
              continue;
            }
            if (req.code === BlkReqCode.WRITE && readOnly) {
              refuse(BlkRespStatus.ERR_IO, "the device is read-only");
              continue;
            }
            const type = req.code === BlkReqCode.READ ? VirtioBlkRequest.IN : VirtioBlkRequest.OUT;
            for (let done = 0; done < req.count; done += blocksPerPart) {
              const blocks = Math.min(blocksPerPart, req.count - done);
              const data: ChainBuffer[] = [];
              for (let at = 0; at < blocks * BLK_TRANSFER_SIZE; at += segmentBytes) {
                data.push({
                  addr: req.ioOrOffset + done * BLK_TRANSFER_SIZE + at,
                  len: Math.min(segmentBytes, blocks * BLK_TRANSFER_SIZE - at),
                  write: type === VirtioBlkRequest.IN,
                });
              }
              request.parts++;
              waiting.push({
                request,
                type,
                sector: (req.blockNumber + done) * SECTORS_PER_BLOCK,
                blocks,
                data,
              });
            }
            break;
          }
          case BlkReqCode.FLUSH:
          case BlkReqCode.BARRIER:
            // The device runs requests in order; a flush also makes earlier writes durable.
            if (has(VirtioBlkFeature.FLUSH)) {
              request.parts = 1;
              waiting.push({ request, type: VirtioBlkRequest.FLUSH, sector: 0, blocks: 0, data: [] });
            } else {
              respond(pd, req.id, BlkRespStatus.OK, 0);
              responded = true;
            }
            break;
          default:
            refuse(BlkRespStatus.ERR_INVALID_PARAM, `unknown request code ${req.code}`);
        }
      }
      return responded;
    }

    /** Moves waiting parts into the virtqueue while descriptors last. */
    function submit(): void {
      let added = false;
      while (waiting.length > 0 && freeSlots.length > 0) {
        const part = waiting[0]!;
        if (vq.freeDescriptors < part.data.length + 2) break;
        const slot = freeSlots.pop()!;
        const header = headerAt + slot * VIRTIO_BLK_HEADER_SIZE;
        slots.setU32(header, part.type);
        slots.setU32(header + 4, 0);
        slots.setU64(header + 8, part.sector);
        slots.setU8(statusAt + slot, 0xff);
        const head = vq.add([
          { addr: slotsIo + header, len: VIRTIO_BLK_HEADER_SIZE, write: false },
          ...part.data,
          { addr: slotsIo + statusAt + slot, len: 1, write: true },
        ])!;
        inDevice.set(head, { part, slot });
        waiting.shift();
        added = true;
      }
      if (added) device.notify(VIRTIO_BLK_REQUEST_QUEUE);
    }

    function complete(pd: Pd): boolean {
      let responded = false;
      for (const { head } of vq.takeUsed((text) => complaints.report(pd, "the device", text))) {
        const entry = inDevice.get(head);
        if (!entry) continue;
        inDevice.delete(head);
        freeSlots.push(entry.slot);
        const { part } = entry;
        const status = slots.u8(statusAt + entry.slot);
        if (status === VirtioBlkStatus.OK) part.request.okBlocks += part.blocks;
        else if (part.request.status === BlkRespStatus.OK) {
          part.request.status =
            status === VirtioBlkStatus.UNSUPP ? BlkRespStatus.ERR_UNSPEC : BlkRespStatus.ERR_IO;
        }
        if (--part.request.parts === 0) {
          const r = part.request;
          respond(pd, r.id, r.status, r.status === BlkRespStatus.OK ? r.count : r.okBlocks);
          responded = true;
        }
      }
      return responded;
    }

    return {
      init(pd) {
        virt = BlkQueueHandle.fromPd(pd, config.virt, "virtio-blk driver");
        info = BlkStorageInfo.fromPd(pd, config.virt.storageInfo, "virtio-blk driver");
        start(pd);
      },

      notified(pd, channel) {
        let responded = false;
        if (channel === config.irq) {
          const status = device.takeInterrupts();
          if (status & VirtioInterrupt.CONFIG_CHANGE) {
            if (device.needsReset()) error(pd, "the device needs a reset (it reported a driver error)");
            else if (running) publishStorageInfo(pd);
          }
          if (running) responded = complete(pd);
          pd.deferredIrqAck(channel);
        } else if (channel === config.virt.channel) {
          responded = takeRequests(pd);
        } else {
          pd.dbgPuts(`VIRTIO BLK DRIVER|LOG: notification on unexpected channel ${channel}\n`);
          return;
        }
        if (running) submit();
        if (responded) pd.notify(config.virt.channel);
      },
    };
  });
}
