// Split virtqueues (virtio 1.2 §2.7), device side: checked descriptor chains in, used-ring entries out.

import {
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_SIZE,
  VIRTQ_MAX_SIZE,
  VIRTQ_USED_ELEM_SIZE,
  splitRingSizes,
} from "./constants.ts";
import { hex } from "../../../util/hex.ts";
import { DmaRangeError, type DeviceDma } from "./dma.ts";

/** Where a split virtqueue's three parts are, as the transport learnt them from the driver. */
export interface SplitRingAddresses {
  /** Queue size: the number of entries of each part, a power of two. */
  size: number;
  /** Descriptor table (the descriptor area). */
  desc: number;
  /** Available ring (the driver area). */
  avail: number;
  /** Used ring (the device area). */
  used: number;
}

/**
 * The driver broke a rule of the queue. The transport reports it (naming the device and queue),
 * sets DEVICE_NEEDS_RESET and stops the queue; nothing in the host is wrong.
 */
export class VirtqueueFault extends Error {
  constructor(
    /** The descriptor or ring entry at fault ("descriptor 3"), if there is one. */
    readonly where: string | undefined,
    /** What is wrong, as a clause: "points at [0x10000000, +1526), outside guest RAM". */
    readonly problem: string,
    /** What the driver must do instead. */
    readonly remedy: string,
  ) {
    super(`${where ? `${where} ` : ""}${problem}`);
  }
}

/** One descriptor's buffer within a chain. */
export interface BufferSegment {
  addr: number;
  len: number;
  /** Index of the descriptor in its table. */
  index: number;
  /** Index of the main-table descriptor whose indirect table holds this one, or -1. */
  indirectFrom: number;
}

/** A chain of descriptors taken from the available ring: device-readable buffers, then device-writable ones. */
export interface DescriptorChain {
  /** The head descriptor's index: what goes back in the used ring. */
  head: number;
  readable: BufferSegment[];
  writable: BufferSegment[];
  readableBytes: number;
  writableBytes: number;
}

/** How a descriptor is named in messages. */
export function describeDescriptor(index: number, indirectFrom: number): string {
  return indirectFrom < 0
    ? `descriptor ${index}`
    : `entry ${index} of the indirect table in descriptor ${indirectFrom}`;
}

export function describeSegment(segment: BufferSegment): string {
  return describeDescriptor(segment.index, segment.indirectFrom);
}

/** The most descriptors one indirect table may hold: the largest queue size, as QEMU allows. */
const MAX_INDIRECT_DESCRIPTORS = VIRTQ_MAX_SIZE;
const MAX_CHAIN_BYTES = 0xffff_ffff;
const RAM_REMEDY =
  "Give the device buffers in guest RAM (for a passed-through device guest-physical addresses are physical ones).";

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/**
 * Checks a queue's size and ring placement before the device uses it: a power-of-two size (split
 * rings index their entries modulo the size with 16-bit free-running counters, so nothing else
 * wraps correctly), each part aligned as §2.7 requires, and each part wholly in RAM.
 */
export function checkSplitRing(
  dma: DeviceDma,
  ring: SplitRingAddresses,
  sizeMax: number,
): VirtqueueFault | undefined {
  if (!isPowerOfTwo(ring.size) || ring.size > sizeMax) {
    return new VirtqueueFault(
      undefined,
      `has size ${ring.size}`,
      `Write a power of two between 1 and QueueNumMax (${sizeMax}) to QueueNum before enabling the queue.`,
    );
  }
  const sizes = splitRingSizes(ring.size);
  const parts = [
    ["descriptor table", ring.desc, sizes.desc, 16],
    ["available ring", ring.avail, sizes.avail, 2],
    ["used ring", ring.used, sizes.used, 4],
  ] as const;
  for (const [name, addr, size, align] of parts) {
    if (addr % align !== 0) {
      return new VirtqueueFault(
        undefined,
        `has its ${name} at ${hex(addr)}, not ${align}-byte aligned`,
        `Align the ${name} to ${align} bytes (virtio 1.2 §2.7).`,
      );
    }
    if (!dma.isRam(addr, size)) {
      return new VirtqueueFault(
        undefined,
        `has its ${name} at [${hex(addr)}, +${size}), outside guest RAM ${dma.describeRam()}`,
        `Place the queue's rings in guest RAM.`,
      );
    }
  }
  return undefined;
}

/** The device's side of one split virtqueue whose placement checkSplitRing accepted. */
export class SplitVirtqueue {
  /** Free-running index of the next available-ring entry the device takes. */
  private nextAvail = 0;
  /** Free-running index of the next used-ring entry the device writes. */
  private nextUsed = 0;
  private readonly mask: number;

  constructor(
    private readonly dma: DeviceDma,
    readonly ring: SplitRingAddresses,
    /** VIRTIO_F_INDIRECT_DESC was negotiated. */
    private readonly indirect: boolean,
  ) {
    this.mask = ring.size - 1;
  }

  /** Chains the driver has made available and the device has not taken yet. */
  availableCount(): number {
    const idx = this.dma.u16(this.ring.avail + 2);
    const count = (idx - this.nextAvail) & 0xffff;
    if (count > this.ring.size) {
      throw new VirtqueueFault(
        undefined,
        `has available-ring idx ${idx} while the device has taken ${this.nextAvail}: ${count} new buffers in a queue of ${this.ring.size}`,
        "Never make more buffers available than the queue size, and never move idx backwards.",
      );
    }
    return count;
  }

  /** The next available chain, walked and checked, without taking it; undefined when there is none. */
  peek(): DescriptorChain | undefined {
    if (this.availableCount() === 0) return undefined;
    const entry = this.nextAvail & this.mask;
    const head = this.dma.u16(this.ring.avail + 4 + 2 * entry);
    if (head >= this.ring.size) {
      throw new VirtqueueFault(
        `available-ring entry ${entry}`,
        `names descriptor ${head}, but the queue has ${this.ring.size} descriptors`,
        "Put only indices of the descriptor table in the available ring.",
      );
    }
    try {
      return this.walk(head);
    } catch (e) {
      // The walk checks ranges before loading, so this is only a safety net against a bad table address.
      if (e instanceof DmaRangeError) {
        throw new VirtqueueFault(`the chain at descriptor ${head}`, `reaches ${e.message}`, RAM_REMEDY);
      }
      throw e;
    }
  }

  /** Takes the chain peek() returned: the device now owns it until pushUsed. */
  take(): void {
    this.nextAvail = (this.nextAvail + 1) & 0xffff;
  }

  /** Returns chain `head` to the driver, `written` bytes of its device-writable buffers filled. */
  pushUsed(head: number, written: number): void {
    const entry = this.nextUsed & this.mask;
    const at = this.ring.used + 4 + VIRTQ_USED_ELEM_SIZE * entry;
    this.dma.setU32(at, head);
    this.dma.setU32(at + 4, written);
    // The element is complete before idx exposes it, as the driver may look at any time on real hardware.
    this.nextUsed = (this.nextUsed + 1) & 0xffff;
    this.dma.setU16(this.ring.used + 2, this.nextUsed);
  }

  /** The driver wants a used-buffer notification (VIRTQ_AVAIL_F_NO_INTERRUPT clear; no EVENT_IDX here). */
  wantsInterrupt(): boolean {
    return (this.dma.u16(this.ring.avail) & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
  }

  private walk(head: number): DescriptorChain {
    const chain: DescriptorChain = { head, readable: [], writable: [], readableBytes: 0, writableBytes: 0 };
    let table = this.ring.desc;
    let tableSize = this.ring.size;
    let indirectFrom = -1;
    let index = head;
    let visited = 0;
    for (;;) {
      const fault = (problem: string, remedy: string) =>
        new VirtqueueFault(describeDescriptor(index, indirectFrom), problem, remedy);
      // A chain can hold each descriptor of its table at most once: one more means `next` loops.
      if (++visited > tableSize) {
        throw fault(
          `is visited again: the chain from descriptor ${head} has more than the ${tableSize} descriptors of its table, so its next fields form a loop`,
          "End every chain with a descriptor without VIRTQ_DESC_F_NEXT and never link back into the same chain.",
        );
      }
      const at = table + VIRTQ_DESC_SIZE * index;
      const addr = this.dma.u64(at);
      const len = this.dma.u32(at + 8);
      const flags = this.dma.u16(at + 12);
      const next = this.dma.u16(at + 14);
      if (flags & VIRTQ_DESC_F_INDIRECT) {
        if (!this.indirect) {
          throw fault(
            "sets VIRTQ_DESC_F_INDIRECT, but VIRTIO_F_INDIRECT_DESC was not negotiated",
            "Use indirect tables only after accepting VIRTIO_F_INDIRECT_DESC.",
          );
        }
        if (indirectFrom >= 0) {
          throw fault(
            "sets VIRTQ_DESC_F_INDIRECT inside an indirect table",
            "An indirect table must not refer to another table.",
          );
        }
        if (flags & VIRTQ_DESC_F_NEXT) {
          throw fault(
            "sets both VIRTQ_DESC_F_INDIRECT and VIRTQ_DESC_F_NEXT",
            "A descriptor that refers to an indirect table must end its chain.",
          );
        }
        if (len === 0 || len % VIRTQ_DESC_SIZE !== 0 || len / VIRTQ_DESC_SIZE > MAX_INDIRECT_DESCRIPTORS) {
          throw fault(
            `refers to an indirect table of ${len} bytes`,
            `Make an indirect table's length a multiple of ${VIRTQ_DESC_SIZE}, from 1 to ${MAX_INDIRECT_DESCRIPTORS} descriptors.`,
          );
        }
        if (addr % VIRTQ_DESC_SIZE !== 0 || !this.dma.isRam(addr, len)) {
          throw fault(
            `refers to an indirect table at [${hex(addr)}, +${len}), which is not 16-byte aligned guest RAM ${this.dma.describeRam()}`,
            "Put indirect tables in guest RAM, 16-byte aligned.",
          );
        }
        indirectFrom = index;
        table = addr;
        tableSize = len / VIRTQ_DESC_SIZE;
        index = 0;
        visited = 0;
        continue;
      }
      if (len > 0 && !this.dma.isRam(addr, len)) {
        throw fault(
          `points at [${hex(addr)}, +${len}), outside guest RAM ${this.dma.describeRam()}`,
          RAM_REMEDY,
        );
      }
      const segment: BufferSegment = { addr, len, index, indirectFrom };
      if (flags & VIRTQ_DESC_F_WRITE) {
        chain.writable.push(segment);
        chain.writableBytes += len;
      } else {
        if (chain.writable.length > 0) {
          throw fault(
            "is device-readable but follows a device-writable descriptor",
            "Put every device-readable descriptor of a chain before the device-writable ones.",
          );
        }
        chain.readable.push(segment);
        chain.readableBytes += len;
      }
      if (chain.readableBytes + chain.writableBytes > MAX_CHAIN_BYTES) {
        throw fault(
          `makes the chain from descriptor ${head} longer than 4 GiB`,
          "Keep a chain's buffers below 4 GiB in total.",
        );
      }
      if (!(flags & VIRTQ_DESC_F_NEXT)) return chain;
      if (next >= tableSize) {
        throw fault(
          `continues (VIRTQ_DESC_F_NEXT) to descriptor ${next}, beyond the ${tableSize} descriptors of its table`,
          "Link only to descriptors inside the table.",
        );
      }
      index = next;
    }
  }
}
