// The generic timer: a machine-wide counter that advances with retired
// instructions (deterministic) and the per-vCPU virtual timer. The count is
// kept in "instruction time": CNTPCT = instruction time / instructionsPerTick.
import {
  instret,
  requestEventCheck,
  sr,
  CNTV_CTL_EL0,
  CNTV_CVAL_EL0,
  CNTVOFF_EL2,
  HOST_VTIMER_MASKED,
} from "./state";

export const CNTFRQ: u64 = 62_500_000;

/** Retired instructions per counter tick (the guest sees CNTFRQ * this instructions per second). */
export let instructionsPerTick: u64 = 4;
/** Instruction time when the current slice started. */
let sliceTime: u64 = 0;
/** instret of the running vCPU when the current slice started. */
let sliceInstret: u64 = 0;

export function setInstructionsPerTick(n: u64): void {
  instructionsPerTick = n == 0 ? 1 : n;
}

/** Called when a slice starts: the counter continues from `time` at the vCPU's instret. */
export function startSliceClock(): void {
  sliceInstret = instret;
}

/** Called when a slice ends: machine time moves on by the instructions it ran. */
export function endSliceClock(): void {
  sliceTime += instret - sliceInstret;
  sliceInstret = instret;
}

export function physicalCount(): u64 {
  return (sliceTime + (instret - sliceInstret)) / instructionsPerTick;
}

/** Sets the machine counter (host: realtime mode or idle skipping). */
export function setPhysicalCount(ticks: u64): void {
  sliceTime = ticks * instructionsPerTick;
  sliceInstret = instret;
}

export function virtualCount(): u64 {
  return physicalCount() - sr(CNTVOFF_EL2);
}

/** CNTV_CTL_EL0.ISTATUS: the timer condition is met. */
export function virtualTimerCondition(): bool {
  return (sr(CNTV_CTL_EL0) & 1) != 0 && virtualCount() >= sr(CNTV_CVAL_EL0);
}

/** The timer asserts its output: condition met, not masked by the guest or the host. */
export function virtualTimerFiring(): bool {
  return (sr(CNTV_CTL_EL0) & 2) == 0 && sr(HOST_VTIMER_MASKED) == 0 && virtualTimerCondition();
}

/** instret at which the virtual timer will fire, or u64.MAX_VALUE if it cannot. */
export function virtualTimerDeadline(): u64 {
  const ctl = sr(CNTV_CTL_EL0);
  if ((ctl & 3) != 1 || sr(HOST_VTIMER_MASKED)) return u64.MAX_VALUE;
  const ticks = sr(CNTV_CVAL_EL0) + sr(CNTVOFF_EL2);
  if (ticks < sr(CNTV_CVAL_EL0) || ticks > u64.MAX_VALUE / instructionsPerTick) return u64.MAX_VALUE;
  const target = ticks * instructionsPerTick;
  const now = sliceTime + (instret - sliceInstret);
  return target <= now ? instret : instret + (target - now);
}

export function readCntvCtl(): u64 {
  return (sr(CNTV_CTL_EL0) & 3) | (virtualTimerCondition() ? 4 : 0);
}

export function writeCntvCtl(v: u64): void {
  store<u64>(CNTV_CTL_EL0, v & 3);
  requestEventCheck();
}

export function writeCntvCval(v: u64): void {
  store<u64>(CNTV_CVAL_EL0, v);
  requestEventCheck();
}

/** CNTV_TVAL_EL0 reads CVAL - count as a signed 32-bit value. */
export function readCntvTval(): u64 {
  return <u64>(<u32>(sr(CNTV_CVAL_EL0) - virtualCount()));
}

export function writeCntvTval(v: u64): void {
  writeCntvCval(virtualCount() + <u64>(<i64>(<i32>v)));
}
