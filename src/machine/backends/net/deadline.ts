// A restartable timer on the machine clock.
//
// Protocol timers move on almost every segment, so a deadline that moves later is not cancelled and
// re-added; the scheduled timeout notices when it fires and reschedules itself, keeping the clock's
// queue short.

import type { MachineClock } from "../../clock.ts";

export class Deadline {
  private due: number | undefined;
  private scheduledAt: number | undefined;
  private cancel: (() => void) | undefined;

  constructor(
    private readonly clock: MachineClock,
    private readonly fire: () => void,
  ) {}

  get armed(): boolean {
    return this.due !== undefined;
  }

  /** Fires at `atNs` (replacing any earlier setting). */
  set(atNs: number): void {
    this.due = atNs;
    if (this.scheduledAt !== undefined && this.scheduledAt <= atNs) return;
    this.cancel?.();
    this.schedule(atNs);
  }

  /** Fires `delayNs` from now, unless it is already armed. */
  ensure(delayNs: number): void {
    if (this.due === undefined) this.set(this.clock.nowNs + delayNs);
  }

  clear(): void {
    this.due = undefined;
  }

  /** Clears it and removes its timeout from the clock: for good, when the owner goes away. */
  dispose(): void {
    this.due = undefined;
    this.cancel?.();
    this.cancel = undefined;
    this.scheduledAt = undefined;
  }

  private schedule(atNs: number): void {
    this.scheduledAt = atNs;
    this.cancel = this.clock.at(atNs, () => {
      this.scheduledAt = undefined;
      this.cancel = undefined;
      const due = this.due;
      if (due === undefined) return;
      if (due > this.clock.nowNs) return this.schedule(due);
      this.due = undefined;
      this.fire();
    });
  }
}
