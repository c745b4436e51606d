// sDDF serial queues (include/sddf/serial/queue.h, sDDF 0.7): a ring of bytes in a data region, indexed by a shared queue region.

import type { Pd } from "../../microkit/index.ts";
import {
  SharedFields,
  checkCapacity,
  checkRegion,
  distance32,
  mapSizeFrom,
  regionBytes,
  setvarAddress,
} from "../shared.ts";

/**
 * serial_queue_t, the queue region: the producer's `tail` (next index to write), the consumer's
 * `head` (next index to read), both free-running uint32, and `producer_signalled`, which the
 * producer clears when it wants the consumer to notify it once space frees up. The bytes live in
 * a separate data region of `capacity` bytes; the capacity is never in shared memory.
 */
export const SERIAL_QUEUE = { tail: 0, head: 4, producerSignalled: 8, size: 12 } as const;

/** Largest capacity: uint32 indices wrap at 2^32, so any power of two up to 2^31 divides it. */
export const SERIAL_MAX_CAPACITY = 2 ** 31;

/** The regions of one serial queue as a PD's setvars name them. */
export interface SerialQueueConfig {
  /** setvar_vaddr of the queue region (serial_queue_t). */
  queue: string;
  /** setvar_vaddr of the data region. */
  data: string;
  /** Bytes in the data region; default: the size of the data region's map. A power of two. */
  capacity?: number;
}

/**
 * One side's handle on a serial queue (serial_queue_handle_t). The capacity is kept here, never
 * read from shared memory, so a peer cannot make this side index outside the data region.
 *
 * Producer: `enqueue`, `enqueueBatch`, `enqueueLocal` + `publishTail`, `free`, `full`, and
 * `requestSignal`/`cancelSignal` on its own flag. Consumer: `dequeue`, `dequeueBatch`, `length`,
 * `empty`, and `requireSignal`/`signalIfRequired` after making space.
 *
 * A peer that breaks the protocol (indices further apart than the capacity) makes the queue
 * `corrupt()`: nothing is read or written until the peer puts its index back, and `violation()`
 * says what is wrong.
 */
export class SerialQueueHandle {
  readonly capacity: number;
  private readonly queue: SharedFields;
  private readonly data: Uint8Array;
  /** The producer's tail for enqueueLocal, ahead of the shared tail until publishTail. */
  private localTail: number | undefined;

  constructor(queue: Uint8Array, data: Uint8Array, capacity: number) {
    this.capacity = checkCapacity("serial queue", capacity, SERIAL_MAX_CAPACITY);
    this.queue = new SharedFields(checkRegion("serial queue region", queue, SERIAL_QUEUE.size));
    this.data = checkRegion("serial data region", data, capacity).subarray(0, capacity);
  }

  /** The handle on a PD's queue, its regions named by setvar (`component` names the PD's role in errors). */
  static fromPd(pd: Pd, config: SerialQueueConfig, component = "serial"): SerialQueueHandle {
    const queue = regionBytes(pd, config.queue, component, SERIAL_QUEUE.size);
    const capacity = config.capacity ?? mapSizeFrom(pd, setvarAddress(pd, config.data, component));
    return new SerialQueueHandle(queue, regionBytes(pd, config.data, component, capacity), capacity);
  }

  get tail(): number {
    return this.queue.u32(SERIAL_QUEUE.tail);
  }
  get head(): number {
    return this.queue.u32(SERIAL_QUEUE.head);
  }

  /** Why the shared indices are impossible, or undefined when they are fine. */
  violation(): string | undefined {
    const used = distance32(this.tail, this.head);
    if (used <= this.capacity) return undefined;
    return `serial queue indices are corrupt: tail ${this.tail} is ${used} ahead of head ${this.head}, more than the capacity ${this.capacity}`;
  }

  corrupt(): boolean {
    return distance32(this.tail, this.head) > this.capacity;
  }

  // ---- consumer ----

  /** Bytes waiting (serial_queue_length); 0 while the queue is corrupt. */
  length(): number {
    const used = distance32(this.tail, this.head);
    return used > this.capacity ? 0 : used;
  }

  empty(): boolean {
    return this.length() === 0;
  }

  /** Removes one byte (serial_dequeue), or undefined when empty. */
  dequeue(): number | undefined {
    if (this.empty()) return undefined;
    const head = this.head;
    const byte = this.data[head % this.capacity]!;
    this.queue.setU32(SERIAL_QUEUE.head, head + 1);
    return byte;
  }

  /** Removes up to `max` bytes (all waiting by default) and returns a copy of them. */
  dequeueBatch(max = Infinity): Uint8Array {
    const count = Math.min(this.length(), max);
    const out = new Uint8Array(count);
    const head = this.head;
    for (let i = 0; i < count; i++) out[i] = this.data[(head + i) % this.capacity]!;
    this.queue.setU32(SERIAL_QUEUE.head, head + count);
    return out;
  }

  /**
   * Consumer, after dequeuing: notifies the producer if it asked to be (its flag is clear), and
   * marks it signalled so it is not notified again until it asks again. True if it notified.
   */
  signalIfRequired(notify: () => void): boolean {
    if (!this.requireSignal()) return false;
    this.cancelSignal();
    notify();
    return true;
  }

  /** serial_require_consumer_signal: the producer wants a notification when space frees up. */
  requireSignal(): boolean {
    return this.queue.u32(SERIAL_QUEUE.producerSignalled) === 0;
  }

  // ---- producer ----

  /** Bytes that can still be enqueued (serial_queue_free); 0 while the queue is corrupt. */
  free(): number {
    const used = distance32(this.tail, this.head);
    return used > this.capacity ? 0 : this.capacity - used;
  }

  full(): boolean {
    return this.free() === 0;
  }

  /** Adds one byte and publishes it (serial_enqueue); false when full. */
  enqueue(byte: number): boolean {
    if (this.full()) return false;
    const tail = this.tail;
    this.data[tail % this.capacity] = byte;
    this.queue.setU32(SERIAL_QUEUE.tail, tail + 1);
    return true;
  }

  /** Adds as many of `bytes` as fit and publishes them (serial_enqueue_batch); returns how many. */
  enqueueBatch(bytes: Uint8Array | string): number {
    const source = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
    const count = Math.min(source.length, this.free());
    const tail = this.tail;
    for (let i = 0; i < count; i++) this.data[(tail + i) % this.capacity] = source[i]!;
    this.queue.setU32(SERIAL_QUEUE.tail, tail + count);
    return count;
  }

  /**
   * Adds one byte without publishing it (serial_enqueue_local), so a client can hand over a
   * whole line at once with `publishTail`; false when full.
   */
  enqueueLocal(byte: number): boolean {
    const tail = this.localTail ?? this.tail;
    const used = distance32(tail, this.head);
    if (used >= this.capacity) return false;
    this.data[tail % this.capacity] = byte;
    this.localTail = tail + 1;
    return true;
  }

  /** Publishes bytes added with enqueueLocal (serial_update_shared_tail); true if there were any. */
  publishTail(): boolean {
    if (this.localTail === undefined) return false;
    this.queue.setU32(SERIAL_QUEUE.tail, this.localTail);
    this.localTail = undefined;
    return true;
  }

  /**
   * serial_request_consumer_signal: the producer asks to be notified when space frees up. Per the
   * signalling protocol it must then check `full()` again before it waits.
   */
  requestSignal(): void {
    this.queue.setU32(SERIAL_QUEUE.producerSignalled, 0);
  }

  /** serial_cancel_consumer_signal: no notification wanted (the consumer sets it after notifying). */
  cancelSignal(): void {
    this.queue.setU32(SERIAL_QUEUE.producerSignalled, 1);
  }
}

/**
 * Moves every byte waiting in `from` into `to` (serial_transfer_all[_colour]), wrapped in
 * `colour.start`/`colour.end` when given. All or nothing: when `to` lacks room for the whole run
 * nothing moves and 0 is returned, so a client's line is never split between two transfers.
 * Returns the bytes taken from `from`.
 */
export function serialTransferAll(
  to: SerialQueueHandle,
  from: SerialQueueHandle,
  colour?: { start: Uint8Array; end: Uint8Array },
): number {
  const waiting = from.length();
  if (waiting === 0) return 0;
  const extra = colour ? colour.start.length + colour.end.length : 0;
  if (waiting + extra > to.free()) return 0;
  if (colour) to.enqueueBatch(colour.start);
  to.enqueueBatch(from.dequeueBatch(waiting));
  if (colour) to.enqueueBatch(colour.end);
  return waiting;
}
