// An IRQ handler capability bound to a notification. seL4 masks the interrupt when it
// delivers it and unmasks it on Ack; a level interrupt still asserted at Ack fires again,
// an edge that arrived while masked stays pending until the Ack.

import type { Notification } from "./notification.ts";

export type IrqTrigger = "level" | "edge";

export class IrqHandler {
  /** Masked until the first Ack, as seL4 leaves a newly bound IRQ. */
  masked = true;
  /** Current level of the interrupt line. */
  lineHigh = false;
  /** An edge seen and not yet delivered. */
  edgePending = false;

  constructor(
    readonly irq: number,
    readonly trigger: IrqTrigger,
    readonly notification: Notification,
    readonly badge: bigint,
  ) {}

  /** Records a new line level; returns true if the interrupt should be delivered now. */
  setLine(high: boolean): boolean {
    if (this.trigger === "edge" && high && !this.lineHigh) this.edgePending = true;
    this.lineHigh = high;
    return this.deliverable();
  }

  /** Unmasks; returns true if the interrupt should be delivered now. */
  ack(): boolean {
    this.masked = false;
    return this.deliverable();
  }

  /** Marks the interrupt delivered: masked until the next Ack. */
  take(): void {
    this.masked = true;
    this.edgePending = false;
  }

  private deliverable(): boolean {
    if (this.masked) return false;
    return this.trigger === "level" ? this.lineHigh : this.edgePending;
  }
}
