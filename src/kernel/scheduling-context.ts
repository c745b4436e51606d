// An MCS scheduling context: a budget that may be consumed once per period.
// budget == period is a round-robin context: on exhaustion it is refilled at once and its
// thread goes to the back of its priority's queue. budget < period is a sporadic server:
// on exhaustion the thread waits for the next period.

import { NS_PER_US } from "./time.ts";

export class SchedulingContext {
  readonly budgetNs: number;
  readonly periodNs: number;
  private remaining: number;
  private windowStart = 0;

  constructor(budgetUs: number, periodUs: number) {
    if (!(budgetUs > 0) || periodUs < budgetUs) {
      throw new RangeError(
        `scheduling context needs 0 < budget <= period (budget ${budgetUs}, period ${periodUs})`,
      );
    }
    this.budgetNs = budgetUs * NS_PER_US;
    this.periodNs = periodUs * NS_PER_US;
    this.remaining = this.budgetNs;
  }

  get roundRobin(): boolean {
    return this.budgetNs === this.periodNs;
  }

  /** Budget left in the current period at time `now`. */
  available(now: number): number {
    this.replenish(now);
    return this.remaining;
  }

  /** Consumes `ns`; returns true when the budget is exhausted. */
  charge(now: number, ns: number): boolean {
    this.replenish(now);
    this.remaining -= ns;
    if (this.remaining > 0) return false;
    if (this.roundRobin) this.remaining = this.budgetNs;
    return true;
  }

  /** When a throttled (sporadic) context gets its budget back. */
  get nextRelease(): number {
    return this.windowStart + this.periodNs;
  }

  private replenish(now: number): void {
    if (now >= this.windowStart + this.periodNs) {
      this.windowStart = now - ((now - this.windowStart) % this.periodNs);
      this.remaining = this.budgetNs;
    }
  }
}
