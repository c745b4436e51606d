// Virtual time: nanoseconds that advance only when threads consume them or when the
// system is idle and the next deadline is skipped to. Same inputs, same timeline.
// In realtime mode the event loop sets a horizon (the wall clock) that timeouts may not
// pass, and moves idle time up to the wall clock instead of to the next deadline.

export const NS_PER_US = 1000;

interface Timeout {
  at: number;
  seq: number;
  fire: () => void;
}

export class VirtualClock {
  private now = 0;
  private seq = 0;
  private timeouts: Timeout[] = [];
  /** Latest time a timeout may fire (the wall clock in realtime mode); unlimited when undefined. */
  horizon: (() => number) | undefined;

  get nowNs(): number {
    return this.now;
  }

  advance(ns: number): void {
    this.now += ns;
  }

  /** Runs `fire` once virtual time reaches `at` (ties fire in the order they were added). */
  at(at: number, fire: () => void): () => void {
    const timeout = { at, seq: this.seq++, fire };
    this.timeouts.push(timeout);
    this.timeouts.sort((a, b) => a.at - b.at || a.seq - b.seq);
    return () => {
      this.timeouts = this.timeouts.filter((t) => t !== timeout);
    };
  }

  nextDeadline(): number | undefined {
    return this.timeouts[0]?.at;
  }

  /** Fires every timeout that is due now; returns how many fired. */
  fireDue(): number {
    let fired = 0;
    const limit = this.horizon ? Math.min(this.now, this.horizon()) : this.now;
    while (this.timeouts.length > 0 && this.timeouts[0]!.at <= limit) {
      this.timeouts.shift()!.fire();
      fired++;
    }
    return fired;
  }

  /** Moves time forward to `ns` (idle time that passed on the wall clock); never backwards. */
  catchUp(ns: number): void {
    if (ns > this.now) this.now = ns;
  }

  /** Idle: jump to the next deadline and fire what is due. */
  skipToNextDeadline(): boolean {
    const next = this.nextDeadline();
    if (next === undefined) return false;
    if (next > this.now) this.now = next;
    this.fireDue();
    return true;
  }
}
