// virtio-blk (virtio 1.2 §5.2): requests from the request queue go to a BlockBackend, which may complete
// them at once or later; the status byte and the used-ring entry follow each completion.

import type { AccessSize, MmioDevice } from "../mmio.ts";
import {
  VIRTIO_BLK_CONFIG_SIZE,
  VIRTIO_BLK_HEADER_SIZE,
  VIRTIO_BLK_ID_BYTES,
  VIRTIO_BLK_REQUEST_QUEUE,
  VIRTIO_BLK_SECTOR_SIZE,
  VirtioBlkConfig,
  VirtioBlkFeature,
  VirtioBlkRequest,
  VirtioBlkStatus,
  VirtioDeviceId,
  VirtioFeature,
  featureBits,
} from "./constants.ts";
import { gather, scatter } from "./buffers.ts";
import { VirtioMmioTransport } from "./mmio-transport.ts";
import { errorText, type VirtioDevice, type VirtioDeviceOptions, type VirtioTransport } from "./transport.ts";
import { VirtqueueFault, type DescriptorChain, type SplitVirtqueue } from "./virtqueue.ts";

/** A back-end's answer to one operation: nothing for success, or what went wrong (the request fails with IOERR). */
export type BlockDone = (error?: string) => void;

/**
 * The storage behind a virtio-blk device: a disk-image file, sDDF block queues, memory. Operations run
 * in the order they are made (a read after a write sees the write; a flush covers every write made
 * before it); each calls `done` once, at once or later.
 */
export interface BlockBackend {
  /**
   * Capacity in 512-byte sectors. Read whenever the driver reads the configuration or a request is
   * checked, so a back-end that learns its size later (sDDF's storage info becoming ready) may change
   * it; call `VirtioBlk.capacityChanged()` then to tell a running driver.
   */
  readonly capacity: number;
  /** Writes are refused (VIRTIO_BLK_F_RO). */
  readonly readOnly?: boolean;
  /**
   * The back-end's own transfer unit in bytes, a power of two from 512 (sDDF's is 4096): the driver
   * learns it as the physical block size (VIRTIO_BLK_F_TOPOLOGY) and aligns its requests to it. Default 512.
   */
  readonly physicalBlockSize?: number;
  /** What GET_ID answers: up to 20 bytes of ASCII (default "virtkit"). */
  readonly serial?: string;
  /** Reads `into.length` bytes (whole sectors) from `sector` into `into`, which is the back-end's until `done`. */
  read(sector: number, into: Uint8Array, done: BlockDone): void;
  /** Writes `data` (whole sectors, the back-end's to keep) at `sector`. */
  write(sector: number, data: Uint8Array, done: BlockDone): void;
  /** Makes every write made before it durable. */
  flush(done: BlockDone): void;
}

export interface VirtioBlkOptions extends VirtioDeviceOptions {
  backend: BlockBackend;
  /** QueueNumMax of the request queue (default 128, as libvmm). */
  queueSize?: number;
  /** The largest buffer of a request's data (VIRTIO_BLK_F_SIZE_MAX; default 64 KiB). */
  sizeMax?: number;
  /** The most data buffers in a request (VIRTIO_BLK_F_SEG_MAX; default queueSize - 2, as QEMU). */
  segMax?: number;
  /** The logical block size the driver uses (VIRTIO_BLK_F_BLK_SIZE; default 512). */
  blockSize?: number;
}

export interface VirtioBlkStats {
  reads: number;
  writes: number;
  flushes: number;
  bytesRead: number;
  bytesWritten: number;
  /** Requests answered IOERR: out of range, malformed, refused, or failed in the back-end. */
  ioErrors: number;
  /** Requests of types the device does not implement, answered UNSUPP. */
  unsupported: number;
}

/** Reports of failed requests after which further ones are only counted, until the driver resets the device. */
const REQUEST_REPORT_LIMIT = 16;

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** A request taken from the queue, waiting for its back-end operation. */
interface Pending {
  queue: SplitVirtqueue;
  generation: number;
  chain: DescriptorChain;
}

export class VirtioBlk implements MmioDevice, VirtioDevice {
  readonly name: string;
  readonly deviceId = VirtioDeviceId.BLOCK;
  readonly queueCount = 1;
  readonly queueSizeMax: number;
  readonly configSize = VIRTIO_BLK_CONFIG_SIZE;
  readonly stats: VirtioBlkStats = {
    reads: 0,
    writes: 0,
    flushes: 0,
    bytesRead: 0,
    bytesWritten: 0,
    ioErrors: 0,
    unsupported: 0,
  };
  readonly transport: VirtioTransport;
  private readonly backend: BlockBackend;
  private readonly sizeMax: number;
  private readonly segMax: number;
  private readonly blockSize: number;
  private readonly physicalBlockSize: number;
  /** Requests handed to the back-end and not completed. */
  private inFlight = 0;
  /** Bumped by every reset: completions of requests from before it touch nothing. */
  private generation = 0;
  private processing = false;
  /** A completion arrived while processing: interrupt once at the end. */
  private deferredInterrupt = false;
  private requestReports = 0;

  constructor(options: VirtioBlkOptions) {
    this.name = options.name ?? "virtio-blk";
    this.backend = options.backend;
    this.queueSizeMax = options.queueSize ?? 128;
    if (!isPowerOfTwo(this.queueSizeMax) || this.queueSizeMax > 32768) {
      throw new Error(`${this.name}: queue size ${this.queueSizeMax} is not a power of two up to 32768`);
    }
    this.sizeMax = options.sizeMax ?? 0x10000;
    this.segMax = options.segMax ?? Math.max(1, this.queueSizeMax - 2);
    this.blockSize = options.blockSize ?? VIRTIO_BLK_SECTOR_SIZE;
    this.physicalBlockSize = Math.max(this.backend.physicalBlockSize ?? this.blockSize, this.blockSize);
    if (!isPowerOfTwo(this.blockSize) || this.blockSize < VIRTIO_BLK_SECTOR_SIZE) {
      throw new Error(`${this.name}: block size ${this.blockSize} is not a power of two from 512`);
    }
    if (!isPowerOfTwo(this.physicalBlockSize)) {
      throw new Error(`${this.name}: physical block size ${this.physicalBlockSize} is not a power of two`);
    }
    if (!Number.isInteger(this.sizeMax) || this.sizeMax < 512 || !Number.isInteger(this.segMax)) {
      throw new Error(
        `${this.name}: size_max ${this.sizeMax} and seg_max ${this.segMax} must be whole, size_max from 512`,
      );
    }
    checkCapacity(this.name, this.backend.capacity);
    const transport = options.transport ?? ((o) => new VirtioMmioTransport(o));
    this.transport = transport({
      name: this.name,
      memory: options.memory,
      irq: options.irq,
      legacy: options.legacy,
      device: this,
      onError: options.onError,
    });
  }

  read(offset: number, size: AccessSize, cpu = 0): bigint {
    return this.transport.read(offset, size, cpu);
  }

  write(offset: number, size: AccessSize, value: bigint, cpu = 0): void {
    this.transport.write(offset, size, value, cpu);
  }

  /** Capacity in 512-byte sectors, as the driver reads it (0 while the back-end reports none that is valid). */
  get capacity(): number {
    const sectors = this.backend.capacity;
    return Number.isSafeInteger(sectors) && sectors >= 0 ? sectors : 0;
  }

  /** The back-end's capacity changed (an sDDF device became ready, an image grew): the driver is told. */
  capacityChanged(): void {
    this.transport.configChanged();
  }

  /** Requests the back-end has not completed yet. */
  get pendingRequests(): number {
    return this.inFlight;
  }

  /** The most data bytes one request may carry: what the driver's SEG_MAX and SIZE_MAX allow. */
  get maxRequestBytes(): number {
    return this.segMax * this.sizeMax;
  }

  // ---- VirtioDevice ----------------------------------------------------------------------------

  queueName(index: number): string {
    return index === VIRTIO_BLK_REQUEST_QUEUE ? "requestq" : "none";
  }

  offeredFeatures(legacy: boolean): bigint {
    return featureBits(
      VirtioBlkFeature.SIZE_MAX,
      VirtioBlkFeature.SEG_MAX,
      VirtioBlkFeature.BLK_SIZE,
      VirtioBlkFeature.FLUSH,
      VirtioBlkFeature.TOPOLOGY,
      ...(this.backend.readOnly ? [VirtioBlkFeature.RO] : []),
      VirtioFeature.INDIRECT_DESC,
      legacy ? VirtioFeature.ANY_LAYOUT : VirtioFeature.VERSION_1,
    );
  }

  readConfig(offset: number, size: 1 | 2 | 4): number {
    const config = this.config();
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = value * 256 + config[offset + i]!;
    return value;
  }

  writeConfig(): void {
    // Nothing is writable without VIRTIO_BLK_F_CONFIG_WCE, which is not offered.
  }

  queueNotify(index: number): void {
    if (index === VIRTIO_BLK_REQUEST_QUEUE) this.process();
  }

  reset(): void {
    // Requests in flight still reach the back-end (they were the old driver's), but their completions
    // no longer touch guest memory or the (new) queue.
    this.generation++;
    this.inFlight = 0;
    this.requestReports = 0;
  }

  // ---- requests --------------------------------------------------------------------------------

  private config(): Uint8Array {
    const config = new Uint8Array(VIRTIO_BLK_CONFIG_SIZE);
    const view = new DataView(config.buffer);
    view.setUint32(VirtioBlkConfig.capacity, this.capacity % 0x1_0000_0000, true);
    view.setUint32(VirtioBlkConfig.capacity + 4, Math.floor(this.capacity / 0x1_0000_0000), true);
    view.setUint32(VirtioBlkConfig.size_max, this.sizeMax, true);
    view.setUint32(VirtioBlkConfig.seg_max, this.segMax, true);
    view.setUint32(VirtioBlkConfig.blk_size, this.blockSize, true);
    const perPhysical = this.physicalBlockSize / this.blockSize;
    config[VirtioBlkConfig.physical_block_exp] = 31 - Math.clz32(perPhysical);
    config[VirtioBlkConfig.alignment_offset] = 0;
    view.setUint16(VirtioBlkConfig.min_io_size, Math.min(perPhysical, 0xffff), true);
    view.setUint32(VirtioBlkConfig.opt_io_size, 0, true);
    return config;
  }

  /** Takes every available request (up to one queue's worth in flight) and hands it to the back-end. */
  private process(): void {
    const queue = this.transport.queue(VIRTIO_BLK_REQUEST_QUEUE);
    if (!queue || this.processing) return;
    this.processing = true;
    try {
      this.transport.runQueue(VIRTIO_BLK_REQUEST_QUEUE, () => {
        // Never more requests in flight than the queue has entries: a driver that reuses descriptors
        // it does not own cannot make the host hold unbounded work.
        while (this.inFlight < queue.ring.size) {
          const chain = queue.peek();
          if (!chain) return;
          if (chain.readableBytes < VIRTIO_BLK_HEADER_SIZE) {
            throw new VirtqueueFault(
              `descriptor ${chain.head}`,
              `starts a request whose device-readable part is ${chain.readableBytes} bytes, shorter than the ${VIRTIO_BLK_HEADER_SIZE}-byte request header`,
              "Start every request with struct virtio_blk_req's header (type, reserved, sector) in device-readable buffers.",
            );
          }
          if (chain.writableBytes < 1) {
            throw new VirtqueueFault(
              `descriptor ${chain.head}`,
              "starts a request with no device-writable byte for its status",
              "End every request with a device-writable status byte.",
            );
          }
          queue.take();
          this.inFlight++;
          this.start({ queue, generation: this.generation, chain });
        }
      });
    } finally {
      this.processing = false;
    }
    if (this.deferredInterrupt) {
      this.deferredInterrupt = false;
      this.transport.usedBuffers(VIRTIO_BLK_REQUEST_QUEUE);
    }
  }

  private start(request: Pending): void {
    const { chain } = request;
    const dma = this.transport.dma;
    const header = new DataView(gather(dma, chain.readable, 0, VIRTIO_BLK_HEADER_SIZE).buffer);
    const type = header.getUint32(0, true);
    const sector = header.getUint32(8, true) + header.getUint32(12, true) * 0x1_0000_0000;
    const where = `descriptor ${chain.head}`;
    switch (type) {
      case VirtioBlkRequest.IN: {
        const length = chain.writableBytes - 1;
        const bad =
          chain.readableBytes > VIRTIO_BLK_HEADER_SIZE
            ? `has ${chain.readableBytes - VIRTIO_BLK_HEADER_SIZE} device-readable bytes after the header; a read's data buffers must be device-writable`
            : this.checkRange("read", sector, length);
        if (bad) return this.fail(request, `${where}: a read (VIRTIO_BLK_T_IN) ${bad}`);
        const into = new Uint8Array(length);
        this.stats.reads++;
        this.call(
          request,
          "read",
          (done) => this.backend.read(sector, into, done),
          () => {
            scatter(dma, chain.writable, into);
            this.stats.bytesRead += length;
            return length;
          },
        );
        return;
      }
      case VirtioBlkRequest.OUT: {
        const length = chain.readableBytes - VIRTIO_BLK_HEADER_SIZE;
        const bad = this.backend.readOnly
          ? "is refused: the device is read-only (VIRTIO_BLK_F_RO)"
          : this.checkRange("write", sector, length);
        if (bad) return this.fail(request, `${where}: a write (VIRTIO_BLK_T_OUT) ${bad}`);
        const data = gather(dma, chain.readable, VIRTIO_BLK_HEADER_SIZE, length);
        this.stats.writes++;
        this.stats.bytesWritten += length;
        this.call(
          request,
          "write",
          (done) => this.backend.write(sector, data, done),
          () => 0,
        );
        return;
      }
      case VirtioBlkRequest.FLUSH:
        this.stats.flushes++;
        this.call(
          request,
          "flush",
          (done) => this.backend.flush(done),
          () => 0,
        );
        return;
      case VirtioBlkRequest.GET_ID: {
        const id = new Uint8Array(VIRTIO_BLK_ID_BYTES);
        const text = new TextEncoder().encode(this.backend.serial ?? "virtkit");
        id.set(text.subarray(0, VIRTIO_BLK_ID_BYTES));
        const n = scatter(
          dma,
          chain.writable,
          id.subarray(0, Math.min(VIRTIO_BLK_ID_BYTES, chain.writableBytes - 1)),
        );
        this.complete(request, VirtioBlkStatus.OK, n);
        return;
      }
      default:
        this.stats.unsupported++;
        this.complete(request, VirtioBlkStatus.UNSUPP, 0);
    }
  }

  /** Why a transfer of `length` bytes at `sector` cannot be done, or undefined. */
  private checkRange(what: string, sector: number, length: number): string | undefined {
    if (length % VIRTIO_BLK_SECTOR_SIZE !== 0) {
      return `carries ${length} bytes of data, not a whole number of 512-byte sectors`;
    }
    if (length > this.maxRequestBytes) {
      return `carries ${length} bytes of data, more than seg_max × size_max (${this.segMax} × ${this.sizeMax} = ${this.maxRequestBytes})`;
    }
    const count = length / VIRTIO_BLK_SECTOR_SIZE;
    if (!Number.isSafeInteger(sector) || sector + count > this.capacity) {
      return `of ${count} sectors at sector ${sector > Number.MAX_SAFE_INTEGER ? ">= 2^53" : sector} goes beyond the capacity of ${this.capacity} sectors (${what}s must end by sector ${this.capacity})`;
    }
    return undefined;
  }

  /** Runs one back-end operation; `finish` (on success) fills the guest's buffers and says how many bytes it wrote. */
  private call(request: Pending, what: string, run: (done: BlockDone) => void, finish: () => number): void {
    let called = false;
    const done: BlockDone = (error) => {
      if (called) return;
      called = true;
      if (!this.current(request)) {
        this.settle(request);
        return;
      }
      if (error !== undefined) {
        this.report(
          `${this.name}: queue 0 (requestq): descriptor ${request.chain.head}: the back-end failed a ${what}: ${error}`,
        );
        this.stats.ioErrors++;
        this.complete(request, VirtioBlkStatus.IOERR, 0);
        return;
      }
      let written: number;
      try {
        written = finish();
      } catch (e) {
        this.report(`${this.name}: internal error finishing a ${what}: ${errorText(e)}`);
        this.complete(request, VirtioBlkStatus.IOERR, 0);
        return;
      }
      this.complete(request, VirtioBlkStatus.OK, written);
    };
    try {
      run(done);
    } catch (e) {
      done(`the back-end threw: ${errorText(e)}`);
    }
  }

  private fail(request: Pending, why: string): void {
    this.stats.ioErrors++;
    this.report(`${this.name}: queue 0 (requestq): ${why}; answered VIRTIO_BLK_S_IOERR`);
    this.complete(request, VirtioBlkStatus.IOERR, 0);
  }

  /** The request belongs to the driver instance and queue that are running now. */
  private current(request: Pending): boolean {
    return (
      request.generation === this.generation &&
      this.transport.queue(VIRTIO_BLK_REQUEST_QUEUE) === request.queue
    );
  }

  /** A request from before a reset (or on a broken queue) finished: nothing to return. */
  private settle(request: Pending): void {
    if (request.generation === this.generation) this.inFlight--;
  }

  /** Writes the status byte after `written` data bytes and returns the chain to the driver. */
  private complete(request: Pending, status: number, written: number): void {
    if (!this.current(request)) {
      this.settle(request);
      return;
    }
    const { queue, chain } = request;
    scatter(this.transport.dma, chain.writable, Uint8Array.of(status), chain.writableBytes - 1);
    queue.pushUsed(chain.head, written + 1);
    this.inFlight--;
    if (this.processing) {
      this.deferredInterrupt = true;
      return;
    }
    this.transport.usedBuffers(VIRTIO_BLK_REQUEST_QUEUE);
    // A full queue's worth was in flight: a slot is free now.
    this.process();
  }

  private report(message: string): void {
    if (this.requestReports > REQUEST_REPORT_LIMIT) return;
    this.requestReports++;
    this.transport.report(
      this.requestReports > REQUEST_REPORT_LIMIT
        ? `${this.name}: more failed requests; they are answered without reports until the driver resets the device`
        : message,
    );
  }
}

function checkCapacity(name: string, sectors: number): number {
  if (!Number.isSafeInteger(sectors) || sectors < 0) {
    throw new Error(`${name}: capacity ${sectors} is not a whole, non-negative number of 512-byte sectors`);
  }
  return sectors;
}

/**
 * A disk in memory (tests, scratch disks): `bytes` is the medium, a whole number of sectors; every
 * operation completes at once.
 */
export function memoryBlockBackend(
  bytes: Uint8Array,
  options: { readOnly?: boolean; serial?: string } = {},
): BlockBackend & { flushes: number } {
  if (bytes.length % VIRTIO_BLK_SECTOR_SIZE !== 0) {
    throw new Error(`a memory disk of ${bytes.length} bytes is not a whole number of 512-byte sectors`);
  }
  const backend = {
    capacity: bytes.length / VIRTIO_BLK_SECTOR_SIZE,
    readOnly: options.readOnly,
    serial: options.serial,
    flushes: 0,
    read(sector: number, into: Uint8Array, done: BlockDone) {
      const at = sector * VIRTIO_BLK_SECTOR_SIZE;
      into.set(bytes.subarray(at, at + into.length));
      done();
    },
    write(sector: number, data: Uint8Array, done: BlockDone) {
      bytes.set(data, sector * VIRTIO_BLK_SECTOR_SIZE);
      done();
    },
    flush(done: BlockDone) {
      backend.flushes++;
      done();
    },
  };
  return backend;
}
