// The guest's virtio-blk disk as an sDDF block client, as libvmm's virtio block: the guest's 512-byte
// sectors map onto the virtualiser's 4 KiB transfer blocks. Reads fetch the blocks that hold the sectors;
// writes that do not cover whole blocks read the partial edge blocks first and write the merged blocks
// back (read-modify-write). Requests wait for earlier ones that touch the same blocks, a FLUSH waits for
// every earlier write, and large transfers go out in chunks through the client's data region.

import { VirtioBlk, type BlockBackend, type BlockDone } from "../../machine/devices/virtio/blk.ts";
import {
  BLK_TRANSFER_SIZE,
  BlkReqCode,
  BlkRespStatus,
  type BlkQueueHandle,
  type BlkStorageInfo,
} from "../../sddf/blk/queue.ts";
import { hex } from "../../util/hex.ts";
import type { VmmLog } from "../log.ts";
import type { VirtioVmm } from "./mmio.ts";
import { addVirtioDevice, virtioDeviceName, type VirtioPlacement } from "./device.ts";

const SECTOR = 512;
const SECTORS_PER_BLOCK = BLK_TRANSFER_SIZE / SECTOR;

export interface SddfBlockBackendOptions {
  /** The client's request/response queues to the block virtualiser. */
  queue: BlkQueueHandle;
  /** The client's storage-info page: capacity, read-only, serial number, once ready. */
  storageInfo: BlkStorageInfo;
  /** The client's data region: request data is staged here, in 4 KiB blocks at offsets from its start. */
  data: Uint8Array;
  /** Tells the virtualiser there are requests (microkit_notify on its channel). */
  notify(): void;
  /** The most transfer blocks one sDDF request carries (default 32: 128 KiB, as libvmm). */
  maxTransferBlocks?: number;
  /** Where reports go (bad responses from the virtualiser). */
  log?: VmmLog;
  /** Names the disk in reports. */
  name?: string;
}

/** One sDDF request of an operation, and the data-region blocks it uses. */
interface Chunk {
  op: Operation;
  code: number;
  /** First transfer block and count. */
  block: number;
  count: number;
  /** Where in the operation's block buffer its data starts (bytes). */
  at: number;
  /** Data-region slot of its first block, once issued. */
  slot: number;
  id: number;
}

interface Operation {
  kind: "read" | "write" | "flush";
  /** Transfer blocks [first, end) the operation touches (none for a flush). */
  first: number;
  end: number;
  /** The blocks' bytes: what is read into, or what is written (after the edges are merged). */
  blocks: Uint8Array;
  /** Chunks still to issue, and in flight. */
  todo: Chunk[];
  inFlight: number;
  /** Runs when the current phase's chunks are all back (the RMW's second phase, or the end). */
  next: (() => void) | undefined;
  error: string | undefined;
  done: BlockDone;
  finished: boolean;
}

/**
 * A BlockBackend over an sDDF block client: the storage-info page gives the capacity (0 until ready),
 * requests go through the queue and the data region. Call `handleResponses()` when the virtualiser notifies.
 */
export class SddfBlockBackend implements BlockBackend {
  readonly physicalBlockSize = BLK_TRANSFER_SIZE;
  private readonly queue: BlkQueueHandle;
  private readonly info: BlkStorageInfo;
  private readonly data: Uint8Array;
  private readonly notifyVirt: () => void;
  private readonly maxBlocks: number;
  private readonly log: VmmLog | undefined;
  private readonly name: string;
  /** Which data-region blocks are in use. */
  private readonly slots: boolean[];
  /** Operations in the order they were made, until finished. */
  private ops: Operation[] = [];
  private readonly chunks = new Map<number, Chunk>();
  private nextId = 1;
  private reports = 0;
  private pumping = false;

  constructor(options: SddfBlockBackendOptions) {
    this.queue = options.queue;
    this.info = options.storageInfo;
    this.data = options.data;
    this.notifyVirt = options.notify;
    this.log = options.log;
    this.name = options.name ?? "virtio-blk";
    const slots = Math.floor(this.data.length / BLK_TRANSFER_SIZE);
    if (slots < 1) {
      throw new Error(
        `${this.name}: the block data region is ${this.data.length} bytes; it needs at least one ${BLK_TRANSFER_SIZE}-byte block`,
      );
    }
    this.slots = new Array<boolean>(slots).fill(false);
    this.maxBlocks = Math.max(1, Math.min(options.maxTransferBlocks ?? 32, slots, 0xffff));
  }

  /** The disk's capacity in 512-byte sectors: 0 until the storage info is ready. */
  get capacity(): number {
    if (!this.info.ready) return 0;
    const blocks = this.info.read().capacity;
    const sectors = blocks * SECTORS_PER_BLOCK;
    return Number.isSafeInteger(sectors) && sectors >= 0 ? sectors : 0;
  }

  get readOnly(): boolean {
    return this.info.ready && this.info.read().readOnly;
  }

  get serial(): string {
    return this.info.ready ? this.info.read().serialNumber.slice(0, 20) : "";
  }

  /** Operations not finished yet. */
  get pending(): number {
    return this.ops.length;
  }

  read(sector: number, into: Uint8Array, done: BlockDone): void {
    if (into.length === 0) return done();
    const op = this.operation("read", sector, into.length, done);
    op.todo = this.split(op, BlkReqCode.READ, op.first, op.end);
    op.next = () => {
      const skip = (sector - op.first * SECTORS_PER_BLOCK) * SECTOR;
      into.set(op.blocks.subarray(skip, skip + into.length));
    };
    this.pump();
  }

  write(sector: number, data: Uint8Array, done: BlockDone): void {
    if (data.length === 0) return done();
    const op = this.operation("write", sector, data.length, done);
    const skip = (sector - op.first * SECTORS_PER_BLOCK) * SECTOR;
    const writeAll = () => {
      op.blocks.set(data, skip);
      op.todo = this.split(op, BlkReqCode.WRITE, op.first, op.end);
      op.next = undefined;
    };
    const headPartial = skip !== 0;
    const tailPartial = (skip + data.length) % BLK_TRANSFER_SIZE !== 0;
    if (!headPartial && !tailPartial) {
      writeAll();
    } else {
      // Read-modify-write: fetch the edge blocks the write covers only in part.
      const last = op.end - 1;
      op.todo = [];
      if (headPartial) op.todo.push(...this.split(op, BlkReqCode.READ, op.first, op.first + 1));
      if (tailPartial && (last !== op.first || !headPartial))
        op.todo.push(...this.split(op, BlkReqCode.READ, last, last + 1));
      op.next = writeAll;
    }
    this.pump();
  }

  flush(done: BlockDone): void {
    const op = this.newOp("flush", 0, 0, new Uint8Array(0), done);
    op.todo = [{ op, code: BlkReqCode.FLUSH, block: 0, count: 0, at: 0, slot: -1, id: 0 }];
    this.pump();
  }

  /** The virtualiser notified: take its responses and carry on. */
  handleResponses(): void {
    for (;;) {
      const response = this.queue.dequeueResp();
      if (!response) break;
      const chunk = this.chunks.get(response.id);
      if (!chunk) {
        this.report(
          `the block virtualiser answered request id ${response.id}, which is not outstanding; ignored`,
        );
        continue;
      }
      this.chunks.delete(response.id);
      const { op } = chunk;
      if (response.status !== BlkRespStatus.OK) {
        op.error ??= `the block virtualiser answered ${statusName(response.status)} for a ${codeName(chunk.code)} of ${chunk.count} blocks at block ${chunk.block}`;
      } else if (chunk.code === BlkReqCode.READ) {
        const from = chunk.slot * BLK_TRANSFER_SIZE;
        op.blocks.set(this.data.subarray(from, from + chunk.count * BLK_TRANSFER_SIZE), chunk.at);
      }
      this.release(chunk);
      op.inFlight--;
      if (op.inFlight === 0 && op.todo.length === 0) this.advance(op);
    }
    this.pump();
  }

  // ---- operations --------------------------------------------------------------------------------

  private operation(kind: "read" | "write", sector: number, length: number, done: BlockDone): Operation {
    const first = Math.floor(sector / SECTORS_PER_BLOCK);
    const end = Math.ceil((sector + length / SECTOR) / SECTORS_PER_BLOCK);
    return this.newOp(kind, first, end, new Uint8Array((end - first) * BLK_TRANSFER_SIZE), done);
  }

  private newOp(
    kind: Operation["kind"],
    first: number,
    end: number,
    blocks: Uint8Array,
    done: BlockDone,
  ): Operation {
    const op: Operation = {
      kind,
      first,
      end,
      blocks,
      todo: [],
      inFlight: 0,
      next: undefined,
      error: undefined,
      done,
      finished: false,
    };
    this.ops.push(op);
    return op;
  }

  /** Chunks of at most maxBlocks for blocks [from, to). */
  private split(op: Operation, code: number, from: number, to: number): Chunk[] {
    const chunks: Chunk[] = [];
    for (let block = from; block < to; block += this.maxBlocks) {
      const count = Math.min(this.maxBlocks, to - block);
      chunks.push({ op, code, block, count, at: (block - op.first) * BLK_TRANSFER_SIZE, slot: -1, id: 0 });
    }
    return chunks;
  }

  /** An operation's phase is back: run the next phase or finish it. */
  private advance(op: Operation): void {
    if (op.error === undefined && op.next) {
      const next = op.next;
      op.next = undefined;
      next();
      if (op.todo.length > 0) return; // a second phase (the RMW's writes) to issue
    }
    op.finished = true;
    this.ops = this.ops.filter((o) => o !== op);
    try {
      op.done(op.error);
    } catch (e) {
      this.report(`the device's completion threw: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Whether `later` must wait for `earlier` (unfinished): same blocks and one writes, or a flush after a write. */
  private conflicts(earlier: Operation, later: Operation): boolean {
    if (later.kind === "flush") return earlier.kind !== "read";
    if (earlier.kind === "flush") return false;
    if (earlier.kind === "read" && later.kind === "read") return false;
    return earlier.first < later.end && later.first < earlier.end;
  }

  /** Issues what can go now, in order: an operation waits for earlier ones it conflicts with, and for resources. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    let issued = 0;
    try {
      outer: for (let i = 0; i < this.ops.length; i++) {
        const op = this.ops[i]!;
        if (op.todo.length === 0) continue;
        for (let j = 0; j < i; j++) if (this.conflicts(this.ops[j]!, op)) continue outer;
        while (op.todo.length > 0) {
          const chunk = op.todo[0]!;
          if (this.queue.fullReq()) break outer;
          if (chunk.count > 0) {
            const slot = this.allocate(chunk.count);
            if (slot < 0) break outer; // the data region is busy: later operations do not overtake
            chunk.slot = slot;
            if (chunk.code === BlkReqCode.WRITE) {
              this.data.set(
                op.blocks.subarray(chunk.at, chunk.at + chunk.count * BLK_TRANSFER_SIZE),
                slot * BLK_TRANSFER_SIZE,
              );
            }
          }
          chunk.id = this.nextId;
          this.nextId = this.nextId >= 0xffff_fffe ? 1 : this.nextId + 1;
          this.queue.enqueueReq({
            code: chunk.code,
            ioOrOffset: chunk.count > 0 ? chunk.slot * BLK_TRANSFER_SIZE : 0,
            blockNumber: chunk.block,
            count: chunk.count,
            id: chunk.id,
          });
          this.chunks.set(chunk.id, chunk);
          op.todo.shift();
          op.inFlight++;
          issued++;
        }
      }
    } finally {
      this.pumping = false;
    }
    if (issued > 0) this.notifyVirt();
  }

  /** First fit: `count` free consecutive data-region blocks, marked used; -1 if there are none. */
  private allocate(count: number): number {
    let run = 0;
    for (let i = 0; i < this.slots.length; i++) {
      run = this.slots[i] ? 0 : run + 1;
      if (run === count) {
        const start = i - count + 1;
        for (let k = start; k <= i; k++) this.slots[k] = true;
        return start;
      }
    }
    return -1;
  }

  private release(chunk: Chunk): void {
    if (chunk.slot < 0) return;
    for (let k = chunk.slot; k < chunk.slot + chunk.count; k++) this.slots[k] = false;
  }

  private report(message: string): void {
    if (this.reports > 16) return;
    this.reports++;
    this.log?.error(
      `${this.name}: ${this.reports > 16 ? "more bad responses from the block virtualiser; no further reports" : message}`,
    );
  }
}

function codeName(code: number): string {
  return ["READ", "WRITE", "FLUSH", "BARRIER"][code] ?? `request ${code}`;
}

function statusName(status: number): string {
  return (
    ["OK", "ERR_UNSPEC", "ERR_INVALID_PARAM", "ERR_IO", "ERR_NO_DEVICE"][status] ?? `status ${hex(status)}`
  );
}

export type VirtioBlkOptions = VirtioPlacement & {
  /** The client's request/response queues to the block virtualiser. */
  queue: BlkQueueHandle;
  /** The client's storage-info page. */
  storageInfo: BlkStorageInfo;
  /** The client's data region. */
  data: Uint8Array;
  /** The channel to the block virtualiser. */
  channel: number;
  /** microkit_notify. */
  notify(channel: number): void;
  /** QueueNumMax of the request queue (default 128). */
  queueSize?: number;
  /** The most transfer blocks per sDDF request (default 32). */
  maxTransferBlocks?: number;
};

/** A virtio-blk disk wired to an sDDF block client. */
export interface VmmVirtioBlk {
  readonly device: VirtioBlk;
  readonly backend: SddfBlockBackend;
  /** For the VMM's `notified(ch)`: true when the channel was the disk's (now handled). */
  handleNotification(channel: number): boolean;
}

/** Creates the disk at `options.base` with its SPI and connects it to the client's block queues. */
export function virtioBlk(host: VirtioVmm, options: VirtioBlkOptions): VmmVirtioBlk {
  const name = virtioDeviceName(host, "virtio-blk", options);
  const backend = new SddfBlockBackend({
    queue: options.queue,
    storageInfo: options.storageInfo,
    data: options.data,
    notify: () => options.notify(options.channel),
    maxTransferBlocks: options.maxTransferBlocks,
    log: host.log,
    name,
  });
  const device = addVirtioDevice(
    host,
    "virtio-blk",
    options,
    (wiring) => new VirtioBlk({ ...wiring, backend, queueSize: options.queueSize }),
  );
  let lastCapacity = backend.capacity;
  return {
    device,
    backend,
    handleNotification(channel) {
      if (channel !== options.channel) return false;
      backend.handleResponses();
      // The storage info may have become ready (or changed) since the driver last looked.
      const capacity = backend.capacity;
      if (capacity !== lastCapacity) {
        lastCapacity = capacity;
        device.capacityChanged();
      }
      return true;
    },
  };
}
