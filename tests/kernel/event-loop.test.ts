import { describe, expect, test } from "vitest";
import { HostEvents, runEventLoop } from "../../src/kernel/index.ts";
import { TestSystem } from "./helpers.ts";

describe("the event loop", () => {
  test("ends at once when nothing can happen: no thread, no deadline, no open host source", async () => {
    const sys = new TestSystem();
    await runEventLoop(sys.kernel, new HostEvents());
  });

  test("sleeps while idle with an open source, and runs what a host event makes ready", async () => {
    const sys = new TestSystem();
    const driver = sys.thread("driver", { priority: 10 });
    sys.start(driver);
    const host = new HostEvents();
    const close = host.openSource();
    let turns = 0;
    const runReady = sys.kernel.runReady.bind(sys.kernel);
    sys.kernel.runReady = (...args) => {
      turns++;
      return runReady(...args);
    };
    const loop = runEventLoop(sys.kernel, host);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(turns).toBe(1); // no busy-waiting
    host.post(() => sys.kernel.signal(driver.notification!, 1n));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sys.log).toEqual(["driver:signal(1)", "driver:end"]);
    close();
    await loop;
  });

  test("skips idle virtual time to the next deadline", async () => {
    const sys = new TestSystem();
    const fired: number[] = [];
    sys.kernel.clock.at(5_000_000, () => fired.push(sys.kernel.clock.nowNs));
    sys.kernel.clock.at(2_000_000, () => fired.push(sys.kernel.clock.nowNs));
    await runEventLoop(sys.kernel, new HostEvents());
    expect(fired).toEqual([2_000_000, 5_000_000]);
  });

  test("stop() ends the loop even with a source open", async () => {
    const sys = new TestSystem();
    const host = new HostEvents();
    host.openSource();
    const loop = runEventLoop(sys.kernel, host);
    host.stop();
    await loop;
    expect(host.stopRequested).toBe(true);
  });
});
