// sDDF block queues and the storage-info page (include/sddf/blk/{queue,storage_info}.h, sDDF 0.7).

import type { Pd } from "../../microkit/index.ts";
import { SharedFields, checkCapacity, checkRegion, distance32, regionBytes } from "../shared.ts";

/** BLK_TRANSFER_SIZE: the unit of every block request (block numbers and counts are in these). */
export const BLK_TRANSFER_SIZE = 4096;

/** blk_req_code_t. */
export const BlkReqCode = { READ: 0, WRITE: 1, FLUSH: 2, BARRIER: 3 } as const;
export type BlkReqCode = (typeof BlkReqCode)[keyof typeof BlkReqCode];

/** blk_resp_status_t. */
export const BlkRespStatus = {
  OK: 0,
  ERR_UNSPEC: 1,
  ERR_INVALID_PARAM: 2,
  ERR_IO: 3,
  ERR_NO_DEVICE: 4,
} as const;
export type BlkRespStatus = (typeof BlkRespStatus)[keyof typeof BlkRespStatus];

/**
 * blk_req_t (32 bytes: the enum is 4 bytes, then padding to the 8-aligned io_or_offset):
 * code u32 @0, io_or_offset u64 @8, block_number u64 @16, count u16 @24, id u32 @28.
 */
export const BLK_REQ = { code: 0, ioOrOffset: 8, blockNumber: 16, count: 24, id: 28, size: 32 } as const;
/** blk_resp_t (12 bytes): status u32 @0, success_count u16 @4, id u32 @8. */
export const BLK_RESP = { status: 0, successCount: 4, id: 8, size: 12 } as const;
/** blk_req_queue_t: head u32 @0, tail u32 @4, plugged bool @8, entries from 16 (8-aligned). */
export const BLK_REQ_QUEUE = { head: 0, tail: 4, plugged: 8, entries: 16 } as const;
/** blk_resp_queue_t: head u32 @0, tail u32 @4, entries from 8. */
export const BLK_RESP_QUEUE = { head: 0, tail: 4, entries: 8 } as const;

/**
 * blk_storage_info_t in its own 4 KiB region (BLK_STORAGE_INFO_REGION_SIZE): serial_number
 * char[64] @0, read_only bool @64, ready bool @65, sector_size u16 @66, block_size u16 @68 (in
 * transfer units), queue_depth u16 @70, cylinders/heads/blocks u16 @72/74/76, capacity u64 @80
 * (in transfer units).
 */
export const BLK_STORAGE_INFO = {
  serialNumber: 0,
  serialNumberLength: 64,
  readOnly: 64,
  ready: 65,
  sectorSize: 66,
  blockSize: 68,
  queueDepth: 70,
  cylinders: 72,
  heads: 74,
  blocks: 76,
  capacity: 80,
  size: 88,
  regionSize: 0x1000,
} as const;

export const BLK_MAX_CAPACITY = 2 ** 31;

/** Bytes a request queue region needs for `capacity` entries. */
export function blkReqQueueSize(capacity: number): number {
  return BLK_REQ_QUEUE.entries + capacity * BLK_REQ.size;
}

/** Bytes a response queue region needs for `capacity` entries. */
export function blkRespQueueSize(capacity: number): number {
  return BLK_RESP_QUEUE.entries + capacity * BLK_RESP.size;
}

/** A request as it travels; `count` is in BLK_TRANSFER_SIZE units and `ioOrOffset` is an offset into the client's data region (or an I/O address between virtualiser and driver). */
export interface BlkRequest {
  code: number;
  ioOrOffset: number;
  blockNumber: number;
  count: number;
  id: number;
}

export interface BlkResponse {
  status: number;
  successCount: number;
  id: number;
}

/** The regions of one block queue pair as a PD's setvars name them. */
export interface BlkQueueConfig {
  /** setvar_vaddr of the request queue region. */
  request: string;
  /** setvar_vaddr of the response queue region. */
  response: string;
  /** Entries in each queue (a power of two), kept privately by each side. */
  capacity: number;
}

/**
 * One side's handle on a request/response queue pair (blk_queue_handle_t). The client enqueues
 * requests and dequeues responses; the server (virtualiser or driver) the other way round. The
 * capacity is private: indices from shared memory are only ever used modulo it, and a pair of
 * indices further apart than the capacity makes that queue read as empty (or full) instead of
 * being believed.
 */
export class BlkQueueHandle {
  readonly capacity: number;
  private readonly req: SharedFields;
  private readonly resp: SharedFields;

  constructor(request: Uint8Array, response: Uint8Array, capacity: number) {
    this.capacity = checkCapacity("block queue", capacity, BLK_MAX_CAPACITY);
    this.req = new SharedFields(checkRegion("block request queue", request, blkReqQueueSize(capacity)));
    this.resp = new SharedFields(checkRegion("block response queue", response, blkRespQueueSize(capacity)));
  }

  static fromPd(pd: Pd, config: BlkQueueConfig, component = "blk"): BlkQueueHandle {
    return new BlkQueueHandle(
      regionBytes(pd, config.request, component, blkReqQueueSize(config.capacity)),
      regionBytes(pd, config.response, component, blkRespQueueSize(config.capacity)),
      config.capacity,
    );
  }

  // ---- lengths ----

  /** Requests waiting; 0 while the request queue's indices are corrupt. */
  lengthReq(): number {
    return this.used(this.req, BLK_REQ_QUEUE.head, BLK_REQ_QUEUE.tail, 0);
  }
  lengthResp(): number {
    return this.used(this.resp, BLK_RESP_QUEUE.head, BLK_RESP_QUEUE.tail, 0);
  }
  emptyReq(): boolean {
    return this.lengthReq() === 0;
  }
  emptyResp(): boolean {
    return this.lengthResp() === 0;
  }
  /** True when full, and when the indices are corrupt (nothing may be written then). */
  fullReq(): boolean {
    return this.used(this.req, BLK_REQ_QUEUE.head, BLK_REQ_QUEUE.tail, this.capacity) === this.capacity;
  }
  fullResp(): boolean {
    return this.used(this.resp, BLK_RESP_QUEUE.head, BLK_RESP_QUEUE.tail, this.capacity) === this.capacity;
  }

  /** Why the indices are impossible, or undefined. */
  violation(): string | undefined {
    for (const [name, fields, head, tail] of [
      ["request", this.req, BLK_REQ_QUEUE.head, BLK_REQ_QUEUE.tail],
      ["response", this.resp, BLK_RESP_QUEUE.head, BLK_RESP_QUEUE.tail],
    ] as const) {
      const used = distance32(fields.u32(tail), fields.u32(head));
      if (used > this.capacity) {
        return `block ${name} queue indices are corrupt: tail ${fields.u32(tail)} is ${used} ahead of head ${fields.u32(head)}, more than the capacity ${this.capacity}`;
      }
    }
    return undefined;
  }

  // ---- requests ----

  /** blk_enqueue_req: false when full. */
  enqueueReq(request: BlkRequest): boolean {
    if (this.fullReq()) return false;
    const tail = this.req.u32(BLK_REQ_QUEUE.tail);
    const at = BLK_REQ_QUEUE.entries + (tail % this.capacity) * BLK_REQ.size;
    this.req.setU32(at + BLK_REQ.code, request.code);
    this.req.setU32(at + 4, 0);
    this.req.setU64(at + BLK_REQ.ioOrOffset, request.ioOrOffset);
    this.req.setU64(at + BLK_REQ.blockNumber, request.blockNumber);
    this.req.setU16(at + BLK_REQ.count, request.count);
    this.req.setU16(at + BLK_REQ.count + 2, 0);
    this.req.setU32(at + BLK_REQ.id, request.id);
    this.req.setU32(BLK_REQ_QUEUE.tail, tail + 1);
    return true;
  }

  /**
   * blk_dequeue_req: undefined when empty. The fields are the producer's, unchecked: a 64-bit
   * offset or block number past 2^53 reads as Infinity, so any bounds check refuses it.
   */
  dequeueReq(): BlkRequest | undefined {
    if (this.emptyReq()) return undefined;
    const head = this.req.u32(BLK_REQ_QUEUE.head);
    const at = BLK_REQ_QUEUE.entries + (head % this.capacity) * BLK_REQ.size;
    const request = {
      code: this.req.u32(at + BLK_REQ.code),
      ioOrOffset: this.req.u64(at + BLK_REQ.ioOrOffset),
      blockNumber: this.req.u64(at + BLK_REQ.blockNumber),
      count: this.req.u16(at + BLK_REQ.count),
      id: this.req.u32(at + BLK_REQ.id),
    };
    this.req.setU32(BLK_REQ_QUEUE.head, head + 1);
    return request;
  }

  // ---- responses ----

  /** blk_enqueue_resp: false when full. */
  enqueueResp(response: BlkResponse): boolean {
    if (this.fullResp()) return false;
    const tail = this.resp.u32(BLK_RESP_QUEUE.tail);
    const at = BLK_RESP_QUEUE.entries + (tail % this.capacity) * BLK_RESP.size;
    this.resp.setU32(at + BLK_RESP.status, response.status);
    this.resp.setU16(at + BLK_RESP.successCount, response.successCount);
    this.resp.setU16(at + BLK_RESP.successCount + 2, 0);
    this.resp.setU32(at + BLK_RESP.id, response.id);
    this.resp.setU32(BLK_RESP_QUEUE.tail, tail + 1);
    return true;
  }

  /** blk_dequeue_resp: undefined when empty. */
  dequeueResp(): BlkResponse | undefined {
    if (this.emptyResp()) return undefined;
    const head = this.resp.u32(BLK_RESP_QUEUE.head);
    const at = BLK_RESP_QUEUE.entries + (head % this.capacity) * BLK_RESP.size;
    const response = {
      status: this.resp.u32(at + BLK_RESP.status),
      successCount: this.resp.u16(at + BLK_RESP.successCount),
      id: this.resp.u32(at + BLK_RESP.id),
    };
    this.resp.setU32(BLK_RESP_QUEUE.head, head + 1);
    return response;
  }

  // ---- plug ----

  /** blk_queue_plug_req: the client asks the server to leave its requests until unplugged. */
  plugReq(): void {
    this.req.setU8(BLK_REQ_QUEUE.plugged, 1);
  }
  unplugReq(): void {
    this.req.setU8(BLK_REQ_QUEUE.plugged, 0);
  }
  pluggedReq(): boolean {
    return this.req.u8(BLK_REQ_QUEUE.plugged) !== 0;
  }

  /** Entries between head and tail, or `whenCorrupt` if they are further apart than the capacity. */
  private used(fields: SharedFields, head: number, tail: number, whenCorrupt: number): number {
    const used = distance32(fields.u32(tail), fields.u32(head));
    return used > this.capacity ? whenCorrupt : used;
  }
}

/** The fields of blk_storage_info_t. */
export interface BlkStorageInfoFields {
  serialNumber: string;
  readOnly: boolean;
  ready: boolean;
  /** Bytes per sector of the device. */
  sectorSize: number;
  /** Optimal block size in BLK_TRANSFER_SIZE units. */
  blockSize: number;
  queueDepth: number;
  cylinders: number;
  heads: number;
  blocks: number;
  /** Device size in BLK_TRANSFER_SIZE units. */
  capacity: number;
}

/**
 * The storage-info page a driver (or the virtualiser, for each client's partition) fills in and
 * then marks ready; the reader waits for `ready` before trusting the rest.
 */
export class BlkStorageInfo {
  private readonly fields: SharedFields;

  constructor(region: Uint8Array) {
    this.fields = new SharedFields(checkRegion("block storage info", region, BLK_STORAGE_INFO.size));
  }

  static fromPd(pd: Pd, setvar: string, component = "blk"): BlkStorageInfo {
    return new BlkStorageInfo(regionBytes(pd, setvar, component, BLK_STORAGE_INFO.size));
  }

  /** blk_storage_is_ready. */
  get ready(): boolean {
    return this.fields.u8(BLK_STORAGE_INFO.ready) !== 0;
  }

  /** blk_storage_set_ready: written last, after every other field, as the release store in sDDF. */
  setReady(ready: boolean): void {
    this.fields.setU8(BLK_STORAGE_INFO.ready, ready ? 1 : 0);
  }

  read(): BlkStorageInfoFields {
    const f = this.fields;
    const raw = f.bytes.subarray(BLK_STORAGE_INFO.serialNumber, BLK_STORAGE_INFO.serialNumberLength);
    const end = raw.indexOf(0);
    return {
      serialNumber: new TextDecoder().decode(raw.subarray(0, end < 0 ? raw.length : end)),
      readOnly: f.u8(BLK_STORAGE_INFO.readOnly) !== 0,
      ready: this.ready,
      sectorSize: f.u16(BLK_STORAGE_INFO.sectorSize),
      blockSize: f.u16(BLK_STORAGE_INFO.blockSize),
      queueDepth: f.u16(BLK_STORAGE_INFO.queueDepth),
      cylinders: f.u16(BLK_STORAGE_INFO.cylinders),
      heads: f.u16(BLK_STORAGE_INFO.heads),
      blocks: f.u16(BLK_STORAGE_INFO.blocks),
      capacity: f.u64(BLK_STORAGE_INFO.capacity),
    };
  }

  /** Writes every field but `ready` (set that last with setReady). */
  write(info: Omit<BlkStorageInfoFields, "ready">): void {
    const f = this.fields;
    const serial = new TextEncoder()
      .encode(info.serialNumber)
      .subarray(0, BLK_STORAGE_INFO.serialNumberLength - 1);
    f.bytes.fill(0, BLK_STORAGE_INFO.serialNumber, BLK_STORAGE_INFO.serialNumberLength);
    f.bytes.set(serial, BLK_STORAGE_INFO.serialNumber);
    f.setU8(BLK_STORAGE_INFO.readOnly, info.readOnly ? 1 : 0);
    f.setU16(BLK_STORAGE_INFO.sectorSize, info.sectorSize);
    f.setU16(BLK_STORAGE_INFO.blockSize, info.blockSize);
    f.setU16(BLK_STORAGE_INFO.queueDepth, info.queueDepth);
    f.setU16(BLK_STORAGE_INFO.cylinders, info.cylinders);
    f.setU16(BLK_STORAGE_INFO.heads, info.heads);
    f.setU16(BLK_STORAGE_INFO.blocks, info.blocks);
    f.setU64(BLK_STORAGE_INFO.capacity, info.capacity);
  }
}
