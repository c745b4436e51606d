// The sDDF timer protocol (include/sddf/timer/{protocol,client}.h): clients PPC the timer driver.

import type { Pd } from "../../microkit/index.ts";

/** PPC label: reply MR0 = the time now in nanoseconds. */
export const SDDF_TIMER_GET_TIME = 0;
/** PPC label: MR0 = nanoseconds from now; the driver notifies the caller's channel once they pass. */
export const SDDF_TIMER_SET_TIMEOUT = 1;

export const NS_IN_US = 1_000n;
export const NS_IN_MS = 1_000_000n;
export const NS_IN_S = 1_000_000_000n;

/** sddf_timer_time_now: the timer driver's time in nanoseconds. */
export function sddfTimerTimeNow(pd: Pd, channel: number): bigint {
  pd.ppcall(channel, pd.msginfoNew(SDDF_TIMER_GET_TIME, 0));
  return pd.mrGet(0);
}

/**
 * sddf_timer_set_timeout: asks for a notification on `channel` after `timeoutNs` nanoseconds.
 * One timeout per client: a new one replaces the one pending.
 */
export function sddfTimerSetTimeout(pd: Pd, channel: number, timeoutNs: number | bigint): void {
  pd.mrSet(0, BigInt(timeoutNs));
  pd.ppcall(channel, pd.msginfoNew(SDDF_TIMER_SET_TIMEOUT, 1));
}
