// The sDDF timer driver for the ARM generic timer (drivers/timer/arm): answers GET_TIME and SET_TIMEOUT PPCs, notifies clients at their timeouts.

import { TimerControl, definePd, type Pd, type PdProgramDefinition } from "../../microkit/index.ts";
import { SDDF_TIMER_GET_TIME, SDDF_TIMER_SET_TIMEOUT } from "./protocol.ts";

export interface TimerDriverConfig {
  /** The channel id of the PD's `<irq irq="30" .../>` (the physical timer's PPI). */
  irq: number;
}

const NEVER = (1n << 64n) - 1n;
const NS_PER_S = 1_000_000_000n;

/**
 * A PD program: the timer driver. Clients PPC it on their channel (priority above theirs, `pp` on
 * the client's end): label SDDF_TIMER_GET_TIME replies MR0 = now in ns; SDDF_TIMER_SET_TIMEOUT
 * takes MR0 = ns from now and notifies that same channel once the time has passed (one timeout
 * per client, a new one replaces the old). Time is the kernel's virtual time.
 */
export function timerDriver(config: TimerDriverConfig): PdProgramDefinition {
  return definePd(() => {
    /** Absolute deadlines in ns, by client channel. */
    const timeouts = new Map<number, bigint>();

    const nowNs = (pd: Pd): bigint => (pd.armTimer.counter() * NS_PER_S) / BigInt(pd.armTimer.frequency);

    /** ns to counter ticks, rounded up so that the interrupt never comes before the deadline. */
    const ticksFor = (pd: Pd, ns: bigint): bigint => {
      const freq = BigInt(pd.armTimer.frequency);
      return (ns * freq + NS_PER_S - 1n) / NS_PER_S;
    };

    function processTimeouts(pd: Pd, now: bigint): void {
      for (const [channel, at] of [...timeouts]) {
        if (at <= now) {
          timeouts.delete(channel);
          pd.notify(channel);
        }
      }
      let next = NEVER;
      for (const at of timeouts.values()) if (at < next) next = at;
      pd.armTimer.compare = next === NEVER ? NEVER : ticksFor(pd, next);
    }

    return {
      init(pd) {
        pd.armTimer.compare = NEVER;
        pd.armTimer.control = TimerControl.ENABLE;
      },

      notified(pd, channel) {
        if (channel !== config.irq) {
          pd.dbgPuts(`TIMER DRIVER|LOG: unexpected notification on channel ${channel}\n`);
          return;
        }
        pd.deferredIrqAck(channel);
        pd.armTimer.compare = NEVER;
        processTimeouts(pd, nowNs(pd));
      },

      protected(pd, channel, msginfo) {
        switch (pd.msginfoGetLabel(msginfo)) {
          case SDDF_TIMER_GET_TIME:
            pd.mrSet(0, nowNs(pd));
            return pd.msginfoNew(0, 1);
          case SDDF_TIMER_SET_TIMEOUT: {
            const now = nowNs(pd);
            timeouts.set(channel, now + pd.mrGet(0));
            processTimeouts(pd, now);
            return pd.msginfoNew(0, 0);
          }
          default:
            pd.dbgPuts(
              `TIMER DRIVER|LOG: Unknown request ${pd.msginfoGetLabel(msginfo)} to timer from channel ${channel}\n`,
            );
            return pd.msginfoNew(0, 0);
        }
      },
    };
  });
}
