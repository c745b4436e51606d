import { describe, expect, test } from "vitest";
import {
  HostEvents,
  runEventLoop,
  type ComputeBody,
  type Kernel,
  type WallClock,
} from "../../src/kernel/index.ts";
import { TestSystem } from "./helpers.ts";

const MS = 1_000_000;

/** A wall clock that moves only when the loop sleeps (or a test moves it), so pacing is exact. */
class ManualWallClock implements WallClock {
  now = 1000; // any origin: the loop measures from where it starts
  readonly sleeps: number[] = [];

  nowMs(): number {
    return this.now;
  }

  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.now += ms;
    return Promise.resolve();
  }

  get elapsedMs(): number {
    return this.now - 1000;
  }
}

/** A compute thread that always uses 1 ms slices; `onSlice` sees the virtual time each starts at. */
function spinner(kernel: Kernel, onSlice: (nowNs: number) => void): void {
  const body: ComputeBody = {
    kind: "compute",
    run: (maxNs, nowNs) => {
      onSlice(nowNs);
      return { usedNs: Math.min(maxNs, MS) };
    },
  };
  const thread = kernel.createThread({ name: "spinner", priority: 10, budgetUs: 1000, periodUs: 1000, body });
  kernel.resume(thread);
}

describe("the realtime event loop (injected wall clock)", () => {
  test("an idle deadline is delivered once the wall clock reaches it, not skipped to", async () => {
    const sys = new TestSystem();
    const wall = new ManualWallClock();
    const fired: { virtualMs: number; wallMs: number }[] = [];
    for (const at of [5 * MS, 2 * MS]) {
      sys.kernel.clock.at(at, () =>
        fired.push({ virtualMs: sys.kernel.clock.nowNs / MS, wallMs: wall.elapsedMs }),
      );
    }
    await runEventLoop(sys.kernel, new HostEvents(), { clock: "realtime", wallClock: wall });
    expect(fired).toEqual([
      { virtualMs: 2, wallMs: 2 },
      { virtualMs: 5, wallMs: 5 },
    ]);
    expect(wall.sleeps).toEqual([2, 3]);
  });

  test("a thread computing faster than real time is held back; its timeouts wait for the wall clock", async () => {
    const sys = new TestSystem();
    const wall = new ManualWallClock();
    const host = new HostEvents();
    let firedAt: { virtualMs: number; wallMs: number } | undefined;
    let aheadMs = 0;
    spinner(sys.kernel, (nowNs) => (aheadMs = Math.max(aheadMs, nowNs / MS - wall.elapsedMs)));
    sys.kernel.clock.at(20 * MS, () => {
      firedAt = { virtualMs: sys.kernel.clock.nowNs / MS, wallMs: wall.elapsedMs };
      host.stop();
    });
    await runEventLoop(sys.kernel, host, { clock: "realtime", wallClock: wall });
    expect(firedAt!.wallMs).toBeGreaterThanOrEqual(20);
    expect(firedAt!.virtualMs).toBeGreaterThanOrEqual(20);
    // Never more than the pacing slack (2 ms) plus one slice ahead of the wall clock.
    expect(aheadMs).toBeLessThanOrEqual(3);
    expect(wall.sleeps.length).toBeGreaterThan(0);
  });

  test("a host slower than real time lets virtual time follow execution, slice by slice", async () => {
    const sys = new TestSystem();
    const wall = new ManualWallClock();
    const host = new HostEvents();
    const starts: number[] = [];
    spinner(sys.kernel, (nowNs) => {
      starts.push(nowNs / MS);
      wall.now += 3; // each 1 ms slice takes 3 ms of host time
      if (starts.length === 10) host.stop();
    });
    await runEventLoop(sys.kernel, host, { clock: "realtime", wallClock: wall });
    // The loop notices stop() at its next turn, so a few more slices may run.
    expect(starts.length).toBeGreaterThanOrEqual(10);
    expect(starts).toEqual(starts.map((_, i) => i));
    expect(wall.sleeps).toEqual([]);
  });

  test("idle time before a host event passes on the wall clock: the event sees it", async () => {
    const sys = new TestSystem();
    const wall = new ManualWallClock();
    const host = new HostEvents();
    const close = host.openSource();
    const loop = runEventLoop(sys.kernel, host, { clock: "realtime", wallClock: wall });
    await new Promise((resolve) => setImmediate(resolve));
    wall.now += 250;
    let seenMs: number | undefined;
    host.post(() => {
      seenMs = sys.kernel.clock.nowNs / MS;
      close();
    });
    await loop;
    expect(seenMs).toBe(250);
  });
});

describe("the realtime event loop (host clock)", () => {
  test("a deadline 40 ms ahead is not delivered before 40 ms of wall time have passed", async () => {
    const sys = new TestSystem();
    const start = performance.now();
    let elapsedMs: number | undefined;
    sys.kernel.clock.at(40 * MS, () => (elapsedMs = performance.now() - start));
    await runEventLoop(sys.kernel, new HostEvents(), { clock: "realtime" });
    expect(elapsedMs).toBeGreaterThanOrEqual(40);
  });

  test("virtual mode still skips the same deadline at once", async () => {
    const sys = new TestSystem();
    const start = performance.now();
    let elapsedMs: number | undefined;
    sys.kernel.clock.at(40_000 * MS, () => (elapsedMs = performance.now() - start));
    await runEventLoop(sys.kernel, new HostEvents());
    expect(elapsedMs).toBeLessThan(1000);
  });
});

describe("the virtual event loop once no host source is open", () => {
  test("idle skips wait for the wall clock, and the timeline stays exactly the virtual one", async () => {
    const run = async (closeInputAt: number | undefined) => {
      const sys = new TestSystem();
      const wall = new ManualWallClock();
      const host = new HostEvents();
      const closeInput = host.openSource();
      const fired: number[] = [];
      // A guest's periodic tick: every 10 ms of virtual time, 20 times.
      const tick = (n: number): void => {
        fired.push(sys.kernel.clock.nowNs / MS);
        if (n < 20) sys.kernel.clock.at(sys.kernel.clock.nowNs + 10 * MS, () => tick(n + 1));
      };
      sys.kernel.clock.at(10 * MS, () => tick(1));
      if (closeInputAt === undefined) closeInput();
      else sys.kernel.clock.at(closeInputAt * MS, closeInput);
      await runEventLoop(sys.kernel, host, { clock: "virtual", wallClock: wall });
      return { fired, wallMs: wall.elapsedMs };
    };
    const orphaned = await run(undefined);
    expect(orphaned.fired).toEqual(Array.from({ length: 20 }, (_, i) => 10 * (i + 1)));
    // 200 ms of guest time took (at least) 190 ms of wall time: the first skip only starts the pacing.
    expect(orphaned.wallMs).toBeGreaterThanOrEqual(190);
    // With input open until 100 ms, the first half races ahead and only the rest is paced.
    const late = await run(100);
    expect(late.fired).toEqual(orphaned.fired);
    expect(late.wallMs).toBeGreaterThanOrEqual(90);
    expect(late.wallMs).toBeLessThan(orphaned.wallMs);
  });
});
