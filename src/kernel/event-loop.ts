// The one loop that interleaves threads, host events (terminal input, later sockets and
// files) and virtual-time deadlines. When nothing is runnable it skips virtual time to the
// next deadline; with no deadline it sleeps until a host event arrives; when no host
// source is open either, nothing can ever happen again and the loop ends. Once no host source
// is open, idle skips wait for the wall clock (OrphanPacing), so a guest idling after its
// script's input ended does not spin a host core.
//
// In realtime mode virtual time is paced by the wall clock instead: idle time passes as
// wall time (the loop sleeps until the next deadline or a host event), and threads that
// compute faster than real time are held back until the wall clock catches up. A host
// slower than real time lets virtual time lag, following execution; it catches up at the
// next idle moment, so time never goes backwards and no instruction is skipped.

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

  /** Resolves when an event is posted, a source closes or stop() is called. */
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

/** How virtual time relates to the host's: see the top of this file. */
export type ClockMode = "virtual" | "realtime";

/** The host's wall clock, injectable so realtime pacing can be tested without waiting. */
export interface WallClock {
  /** Milliseconds from an arbitrary origin, never decreasing. */
  nowMs(): number;
  /** Resolves after `ms` milliseconds, or early (without error) when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const hostWallClock: WallClock = {
  nowMs: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
    }),
};

export interface EventLoopOptions {
  /** Default "virtual": deterministic. */
  clock?: ClockMode;
  /** The wall clock realtime mode follows (default: the host's). */
  wallClock?: WallClock;
}

const NS_PER_MS = 1_000_000;
/** How far computing threads may run ahead of the wall clock before the loop sleeps. */
const PACING_SLACK_MS = 2;

export async function runEventLoop(
  kernel: Kernel,
  host: HostEvents,
  options: EventLoopOptions = {},
): Promise<void> {
  const wall = options.wallClock ?? hostWallClock;
  if (options.clock === "realtime") return runRealtimeLoop(kernel, host, wall);
  const pace = new OrphanPacing(kernel, host, wall);
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
      await (host.sourcesOpen ? yieldToHost() : pace.idle());
      continue;
    }
    if (!host.sourcesOpen) return;
    await host.wait();
  }
}

/**
 * Virtual time with no host source left (the console's input has ended, nothing else is open) can
 * still have a future: a guest's timers keep it alive, and it may yet print or power off. Skipping
 * from deadline to deadline as fast as the host allows would then spin a core for ever for an idle
 * guest, so from that moment virtual time may not run ahead of the wall clock: each idle skip waits
 * until the wall clock has caught up. The timeline, and so the output, is exactly the virtual one;
 * only its pace changes.
 */
class OrphanPacing {
  private origin: { virtualNs: number; wallMs: number } | undefined;

  constructor(
    private readonly kernel: Kernel,
    private readonly host: HostEvents,
    private readonly wall: WallClock,
  ) {}

  async idle(): Promise<void> {
    const nowNs = this.kernel.clock.nowNs;
    if (!this.origin) {
      this.origin = { virtualNs: nowNs, wallMs: this.wall.nowMs() };
      return yieldToHost();
    }
    const aheadMs = (nowNs - this.origin.virtualNs) / NS_PER_MS - (this.wall.nowMs() - this.origin.wallMs);
    if (aheadMs < PACING_SLACK_MS) return yieldToHost();
    // Wakes early only for stop(): no source is open, so nothing else can post.
    const stop = new AbortController();
    const slept = this.wall.sleep(aheadMs, stop.signal);
    await Promise.race([slept, this.host.wait()]);
    stop.abort();
    await slept;
  }
}

async function runRealtimeLoop(kernel: Kernel, host: HostEvents, wall: WallClock): Promise<void> {
  const clock = kernel.clock;
  // Wall time in the kernel's frame: virtual time and the wall clock agree when the loop starts.
  const origin = clock.nowNs - wall.nowMs() * NS_PER_MS;
  const wallNs = (): number => origin + wall.nowMs() * NS_PER_MS;
  /** Sleeps until the wall clock reaches `ns` or a host event arrives. */
  const sleepUntil = async (ns: number): Promise<void> => {
    const wakeOnHost = new AbortController();
    const slept = wall.sleep((ns - wallNs()) / NS_PER_MS, wakeOnHost.signal);
    await Promise.race([slept, host.wait()]);
    wakeOnHost.abort();
    await slept;
  };
  // Timeouts never fire before their wall time (the horizon); the slack only saves sleeps
  // too short for the host's timers.
  const aheadOfWall = (): boolean => clock.nowNs > wallNs() + PACING_SLACK_MS * NS_PER_MS;
  clock.horizon = wallNs;
  try {
    for (;;) {
      if (host.stopRequested) return;
      host.drain();
      // Threads ran ahead of the wall clock: let it catch up before they run on.
      if (aheadOfWall()) {
        await sleepUntil(clock.nowNs);
        continue;
      }
      clock.fireDue();
      const turnEnds = wall.nowMs() + TURN_MS;
      const yieldNow = (): boolean => wall.nowMs() > turnEnds || aheadOfWall();
      if (kernel.runReady(DISPATCHES_PER_TURN, yieldNow)) {
        await yieldToHost();
        continue;
      }
      if (host.pending) continue;
      // Idle: the time since the last thread ran passed on the wall clock.
      clock.catchUp(wallNs());
      if (clock.fireDue() > 0) continue;
      const next = clock.nextDeadline();
      if (next === undefined && !host.sourcesOpen) return;
      if (next === undefined) await host.wait();
      else await sleepUntil(next);
      clock.catchUp(wallNs());
    }
  } finally {
    clock.horizon = undefined;
  }
}
