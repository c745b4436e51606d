// A vCPU's four list registers as the VMM tracks them, and the queue of interrupts waiting for one.
// The VMM cannot read list registers back (seL4 only lets it write one with InjectIRQ); it learns
// that an entry has gone when the guest's EOI raises a maintenance fault for that index.

export const LIST_REGISTER_COUNT = 4;

/** microkit_vcpu_arm_inject_irq: write list register `lrIndex` with a pending virtual interrupt. */
export interface VirtualIrqSink {
  /** `priority` is the 5-bit list-register priority (the top 5 bits of the 8-bit GIC priority). */
  injectIrq(vcpuId: number, intid: number, priority: number, group: number, lrIndex: number): void;
}

export interface ListedIrq {
  intid: number;
  /** 8-bit GIC priority, lower is more urgent. */
  priority: number;
  group: number;
}

export class ListRegisters {
  private readonly slots: (ListedIrq | undefined)[] = new Array(LIST_REGISTER_COUNT).fill(undefined);
  private readonly queue: ListedIrq[] = [];

  constructor(
    private readonly vcpuId: number,
    private readonly sink: VirtualIrqSink,
  ) {}

  /** Writes the interrupt into a free list register, or queues it when all four are in use. */
  add(irq: ListedIrq): "listed" | "queued" {
    const free = this.slots.indexOf(undefined);
    if (free < 0) {
      this.queue.push(irq);
      return "queued";
    }
    this.write(free, irq);
    return "listed";
  }

  /** Drops every queued interrupt (a distributor reset). */
  clearQueue(): void {
    this.queue.length = 0;
  }

  /** Withdraws a queued interrupt (one already in a list register stays there). */
  unqueue(intid: number): void {
    const at = this.queue.findIndex((q) => q.intid === intid);
    if (at >= 0) this.queue.splice(at, 1);
  }

  /** The guest has EOI'd list register `lrIndex`: frees it and returns what it held. */
  release(lrIndex: number): ListedIrq | undefined {
    if (!Number.isInteger(lrIndex) || lrIndex < 0 || lrIndex >= LIST_REGISTER_COUNT) {
      throw new RangeError(`maintenance for list register ${lrIndex}: a vCPU has list registers 0 to 3`);
    }
    const irq = this.slots[lrIndex];
    this.slots[lrIndex] = undefined;
    return irq;
  }

  /** Moves queued interrupts into free list registers, most urgent first (FIFO among equals). */
  refill(): void {
    for (let free = this.slots.indexOf(undefined); free >= 0 && this.queue.length > 0;) {
      let best = 0;
      for (let i = 1; i < this.queue.length; i++)
        if (this.queue[i]!.priority < this.queue[best]!.priority) best = i;
      const [irq] = this.queue.splice(best, 1);
      this.write(free, irq!);
      free = this.slots.indexOf(undefined);
    }
  }

  get queued(): readonly ListedIrq[] {
    return this.queue;
  }

  get listed(): readonly (ListedIrq | undefined)[] {
    return this.slots;
  }

  private write(lrIndex: number, irq: ListedIrq): void {
    this.slots[lrIndex] = irq;
    this.sink.injectIrq(this.vcpuId, irq.intid, irq.priority >> 3, irq.group, lrIndex);
  }
}
