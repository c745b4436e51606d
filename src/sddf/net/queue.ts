// sDDF network queues (include/sddf/network/{queue,constants}.h, sDDF 0.7): free/active pairs of buffer descriptors.

import type { Pd } from "../../microkit/index.ts";
import { SharedFields, checkCapacity, checkRegion, distance16, regionBytes } from "../shared.ts";

/** NET_BUFFER_SIZE: every buffer a descriptor names is this long. */
export const NET_BUFFER_SIZE = 2048;

/**
 * net_buff_desc_t (16 bytes): io_or_offset u64 @0, len u16 @8, oid (6 bits) @10. `oid` only
 * matters between a vswitch and its copiers; every other component leaves it 0.
 */
export const NET_BUFF_DESC = { ioOrOffset: 0, len: 8, oid: 10, size: 16 } as const;
/**
 * net_queue_t: tail u16 @0 (the producer's), head u16 @2 (the consumer's), consumer_signalled
 * u32 @4 (cleared by a consumer that wants a notification on the next enqueue), descriptors from 8.
 */
export const NET_QUEUE = { tail: 0, head: 2, consumerSignalled: 4, entries: 8 } as const;

/** uint16 indices: a power-of-two capacity up to 2^15 keeps `tail - head == capacity` meaning full. */
export const NET_MAX_CAPACITY = 2 ** 15;

/** Bytes one queue region (free or active) needs for `capacity` descriptors. */
export function netQueueSize(capacity: number): number {
  return NET_QUEUE.entries + capacity * NET_BUFF_DESC.size;
}

/** A buffer descriptor: an offset into the data region (or an I/O address between driver and virtualiser) and the frame length. */
export interface NetBuffDesc {
  ioOrOffset: number;
  len: number;
  oid?: number;
}

/** The regions of one net queue pair as a PD's setvars name them. */
export interface NetQueueConfig {
  /** setvar_vaddr of the free queue region. */
  free: string;
  /** setvar_vaddr of the active queue region. */
  active: string;
  /** Descriptors in each queue (a power of two), kept privately by each side. */
  capacity: number;
}

type Which = "free" | "active";

/**
 * One side's handle on a free/active queue pair (net_queue_handle_t). On RX the driver (or
 * virtualiser) produces into `active` and consumes `free`; on TX the other way round. Each queue
 * has one producer and one consumer, and a `consumer_signalled` flag for the signalling protocol:
 * a consumer about to wait calls `requestSignal(q)` then re-checks `empty(q)`; a producer that
 * enqueued calls `signalIfRequired(q, notify)`.
 *
 * Descriptors read from shared memory are the peer's word, unchecked: the component that owns
 * the buffers validates offsets and lengths before touching memory.
 */
export class NetQueueHandle {
  readonly capacity: number;
  private readonly queues: Record<Which, SharedFields>;

  constructor(free: Uint8Array, active: Uint8Array, capacity: number) {
    this.capacity = checkCapacity("net queue", capacity, NET_MAX_CAPACITY);
    this.queues = {
      free: new SharedFields(checkRegion("net free queue", free, netQueueSize(capacity))),
      active: new SharedFields(checkRegion("net active queue", active, netQueueSize(capacity))),
    };
  }

  static fromPd(pd: Pd, config: NetQueueConfig, component = "net"): NetQueueHandle {
    return new NetQueueHandle(
      regionBytes(pd, config.free, component, netQueueSize(config.capacity)),
      regionBytes(pd, config.active, component, netQueueSize(config.capacity)),
      config.capacity,
    );
  }

  /** Descriptors waiting in queue `q` (net_queue_length); 0 while its indices are corrupt. */
  length(q: Which): number {
    const used = this.rawLength(q);
    return used > this.capacity ? 0 : used;
  }
  empty(q: Which): boolean {
    return this.length(q) === 0;
  }
  /** True when full, and when the indices are corrupt (nothing may be written then). */
  full(q: Which): boolean {
    return this.rawLength(q) >= this.capacity;
  }

  /** Why queue `q`'s indices are impossible, or undefined. */
  violation(q: Which): string | undefined {
    const used = this.rawLength(q);
    if (used <= this.capacity) return undefined;
    const f = this.queues[q];
    return `net ${q} queue indices are corrupt: tail ${f.u16(NET_QUEUE.tail)} is ${used} ahead of head ${f.u16(NET_QUEUE.head)}, more than the capacity ${this.capacity}`;
  }

  /** net_enqueue_free / net_enqueue_active: false when full. */
  enqueue(q: Which, desc: NetBuffDesc): boolean {
    if (this.full(q)) return false;
    const f = this.queues[q];
    const tail = f.u16(NET_QUEUE.tail);
    const at = NET_QUEUE.entries + (tail % this.capacity) * NET_BUFF_DESC.size;
    f.setU64(at + NET_BUFF_DESC.ioOrOffset, desc.ioOrOffset);
    f.setU16(at + NET_BUFF_DESC.len, desc.len);
    f.setU8(at + NET_BUFF_DESC.oid, (desc.oid ?? 0) & 0x3f);
    f.setU16(NET_QUEUE.tail, tail + 1);
    return true;
  }

  /** net_dequeue_free / net_dequeue_active: undefined when empty. */
  dequeue(q: Which): Required<NetBuffDesc> | undefined {
    if (this.empty(q)) return undefined;
    const f = this.queues[q];
    const head = f.u16(NET_QUEUE.head);
    const at = NET_QUEUE.entries + (head % this.capacity) * NET_BUFF_DESC.size;
    const desc = {
      ioOrOffset: f.u64(at + NET_BUFF_DESC.ioOrOffset),
      len: f.u16(at + NET_BUFF_DESC.len),
      oid: f.u8(at + NET_BUFF_DESC.oid) & 0x3f,
    };
    f.setU16(NET_QUEUE.head, head + 1);
    return desc;
  }

  enqueueFree(desc: NetBuffDesc): boolean {
    return this.enqueue("free", desc);
  }
  enqueueActive(desc: NetBuffDesc): boolean {
    return this.enqueue("active", desc);
  }
  dequeueFree(): Required<NetBuffDesc> | undefined {
    return this.dequeue("free");
  }
  dequeueActive(): Required<NetBuffDesc> | undefined {
    return this.dequeue("active");
  }

  /**
   * net_buffers_init: fills the free queue with every buffer, `capacity` buffers of
   * NET_BUFFER_SIZE from `base` (0 for offsets into a data region, an I/O address for a driver).
   */
  buffersInit(base = 0): void {
    for (let i = 0; i < this.capacity; i++) {
      this.enqueue("free", { ioOrOffset: base + i * NET_BUFFER_SIZE, len: 0 });
    }
  }

  // ---- signalling (on the consumer's flag of each queue) ----

  /** net_request_signal_*: the consumer of `q` wants a notification on the next enqueue. */
  requestSignal(q: Which): void {
    this.queues[q].setU32(NET_QUEUE.consumerSignalled, 0);
  }
  /** net_cancel_signal_*: no notification wanted (the producer sets it when it notifies). */
  cancelSignal(q: Which): void {
    this.queues[q].setU32(NET_QUEUE.consumerSignalled, 1);
  }
  /** net_require_signal_*: the consumer of `q` asked to be notified. */
  requireSignal(q: Which): boolean {
    return this.queues[q].u32(NET_QUEUE.consumerSignalled) === 0;
  }
  /** Producer of `q`, after enqueuing: notify if asked, and mark the consumer signalled. True if it notified. */
  signalIfRequired(q: Which, notify: () => void): boolean {
    if (!this.requireSignal(q)) return false;
    this.cancelSignal(q);
    notify();
    return true;
  }

  private rawLength(q: Which): number {
    const f = this.queues[q];
    return distance16(f.u16(NET_QUEUE.tail), f.u16(NET_QUEUE.head));
  }
}
