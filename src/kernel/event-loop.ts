// The one loop that interleaves threads, host events (terminal input, later sockets and
// files) and virtual-time deadlines. When nothing is runnable it skips virtual time to the
// next deadline; with no deadline it sleeps until a host event arrives; when no host
// source is open either, nothing can ever happen again and the loop ends.

import type { Kernel } from "./kernel.ts";

/** Host-side events, posted from I/O callbacks and run inside the loop. */
export class HostEvents {
  private readonly queue: (() => void)[] = [];
  private openSources = 0;
  private wake: (() => void) | undefined;
  private stopped = false;

  post(event: () => void): void {
    this.queue.push(event);
    this.notify();
  }

  /** Registers a source that may still post events; call the result when it closes. */
  openSource(): () => void {
    this.openSources++;
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      this.openSources--;
      this.notify();
    };
  }

  /** Ends the loop at its next turn (e.g. the user asked to quit). */
  stop(): void {
    this.stopped = true;
    this.notify();
  }

  get stopRequested(): boolean {
    return this.stopped;
  }

  get pending(): boolean {
    return this.queue.length > 0;
  }

  get sourcesOpen(): boolean {
    return this.openSources > 0;
  }

  /** Runs the events posted so far (and those they post). */
  drain(): void {
    let event: (() => void) | undefined;
    while ((event = this.queue.shift())) event();
  }

  wait(): Promise<void> {
    if (this.queue.length > 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

const yieldToHost = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Host I/O gets a turn at least this often (wall-clock ms) while threads compute. */
const TURN_MS = 10;
const DISPATCHES_PER_TURN = 10_000;

export async function runEventLoop(kernel: Kernel, host: HostEvents): Promise<void> {
  for (;;) {
    if (host.stopRequested) return;
    host.drain();
    const turnEnds = performance.now() + TURN_MS;
    if (kernel.runReady(DISPATCHES_PER_TURN, () => performance.now() > turnEnds)) {
      await yieldToHost();
      continue;
    }
    if (host.pending) continue;
    if (kernel.clock.skipToNextDeadline()) {
      await yieldToHost();
      continue;
    }
    if (!host.sourcesOpen) return;
    await host.wait();
  }
}
