// The physical generic timer PDs see, and the sDDF timer driver over it: GET_TIME, SET_TIMEOUT, notifications in deadline order.

import { describe, expect, test } from "vitest";
import { PHYSICAL_TIMER_PPI, TimerControl, type Pd } from "../../src/microkit/index.ts";
import { NS_IN_MS, sddfTimerSetTimeout, sddfTimerTimeNow, timerDriver } from "../../src/sddf/index.ts";
import { boot, channel, end, pd } from "../microkit/harness.ts";

describe("the physical timer PDs see (CNTPCT/CNTP_CVAL/CNTP_CTL, PPI 30)", () => {
  test("the counter follows virtual time; the PPI fires at the compare value and stays high until moved", async () => {
    const events: string[] = [];
    let armedAt = 0n;
    const { done } = await boot(
      pd("ticker", 'priority="100"', `<irq irq="${PHYSICAL_TIMER_PPI}" id="3" />`),
      {
        ticker: {
          init(p: Pd) {
            expect(p.armTimer.frequency).toBe(62_500_000);
            armedAt = p.armTimer.counter();
            p.armTimer.compare = armedAt + 62_500n; // 1 ms
            p.armTimer.control = TimerControl.ENABLE;
            expect(p.armTimer.control & TimerControl.ISTATUS).toBe(0);
          },
          notified(p: Pd, ch: number) {
            const now = p.armTimer.counter();
            events.push(`irq on ${ch} after ${now - armedAt >= 62_500n ? "at least" : "less than"} 1 ms`);
            expect(p.armTimer.control & TimerControl.ISTATUS).toBe(TimerControl.ISTATUS);
            if (events.length === 1) {
              p.armTimer.compare = now + 625n; // 10 us later: a second interrupt
            } else {
              p.armTimer.control = TimerControl.ENABLE | TimerControl.IMASK; // masked: no more
            }
            p.irqAck(ch);
          },
        },
      },
    );
    await done;
    expect(events).toEqual(["irq on 3 after at least 1 ms", "irq on 3 after at least 1 ms"]);
  });
});

describe("the sDDF timer driver", () => {
  const xml =
    pd("timer", 'priority="254" passive="true"', `<irq irq="${PHYSICAL_TIMER_PPI}" id="0" />`) +
    pd("alpha", 'priority="100"') +
    pd("beta", 'priority="100"') +
    channel(end("alpha", 1, 'pp="true"'), end("timer", 1)) +
    channel(end("beta", 1, 'pp="true"'), end("timer", 2));

  test("GET_TIME is monotonic; each client is notified once its own timeout has passed, earliest first", async () => {
    const log: string[] = [];
    const client = (name: string, ms: bigint) => ({
      start: 0n,
      init(p: Pd) {
        const t0 = sddfTimerTimeNow(p, 1);
        const t1 = sddfTimerTimeNow(p, 1);
        expect(t1).toBeGreaterThanOrEqual(t0);
        this.start = t1;
        sddfTimerSetTimeout(p, 1, ms * NS_IN_MS);
      },
      notified(p: Pd, ch: number) {
        const elapsed = sddfTimerTimeNow(p, 1) - this.start;
        log.push(
          `${name} on ${ch}: ${elapsed >= ms * NS_IN_MS ? "late enough" : `early by ${ms * NS_IN_MS - elapsed} ns`}`,
        );
      },
    });
    const { done } = await boot(xml, {
      timer: timerDriver({ irq: 0 }),
      alpha: client("alpha", 5n),
      beta: client("beta", 2n),
    });
    await done;
    expect(log).toEqual(["beta on 1: late enough", "alpha on 1: late enough"]);
  });

  test("a new timeout replaces the pending one; an unknown label is logged and answered", async () => {
    const log: string[] = [];
    let start = 0n;
    const { console, done } = await boot(xml, {
      timer: timerDriver({ irq: 0 }),
      alpha: {
        init(p: Pd) {
          start = sddfTimerTimeNow(p, 1);
          sddfTimerSetTimeout(p, 1, 50n * NS_IN_MS);
          sddfTimerSetTimeout(p, 1, 1n * NS_IN_MS);
          const reply = p.ppcall(1, p.msginfoNew(7, 0));
          expect(reply).toEqual({ label: 0, count: 0 });
        },
        notified(p: Pd) {
          log.push(`after ${(sddfTimerTimeNow(p, 1) - start) / NS_IN_MS} ms`);
        },
      },
      beta: { init() {}, notified() {} },
    });
    await done;
    expect(log).toEqual(["after 1 ms"]);
    expect(console.output).toContain("TIMER DRIVER|LOG: Unknown request 7 to timer from channel 1\n");
  });
});
