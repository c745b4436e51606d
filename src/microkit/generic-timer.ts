// The core's EL1 physical timer as Microkit's seL4 exports it to PDs (KernelArmExportPCNTUser and
// KernelArmExportPTMRUser): CNTPCT_EL0, CNTFRQ_EL0, CNTP_CVAL_EL0 and CNTP_CTL_EL0, and its PPI 30,
// which a PD that wants it takes with <irq irq="30" .../> (sDDF's ARM timer driver does).

import { NS_PER_COUNTER_TICK, type Kernel } from "../kernel/index.ts";

/** The non-secure EL1 physical timer's interrupt (CNTPNSIRQ), a level-triggered PPI. */
export const PHYSICAL_TIMER_PPI = 30;
/** CNTP_CTL_EL0 bits. */
export const TimerControl = { ENABLE: 1, IMASK: 2, ISTATUS: 4 } as const;

const MAX_U64 = (1n << 64n) - 1n;

/**
 * One core, one physical timer, shared by every PD as the hardware register is. The counter is the
 * kernel's virtual time in 62.5 MHz ticks, the clock vCPUs see too. The interrupt line is high
 * while the timer is enabled, unmasked and the counter has reached the compare value.
 */
export class PhysicalTimer {
  /** CNTFRQ_EL0 in Hz. */
  readonly frequency = 1_000_000_000 / NS_PER_COUNTER_TICK;
  private cval = MAX_U64;
  private ctl = 0;
  private cancel: (() => void) | undefined;
  private lineHigh = false;

  constructor(private readonly kernel: Kernel) {}

  /** CNTPCT_EL0. */
  counter(): bigint {
    return BigInt(Math.floor(this.kernel.clock.nowNs / NS_PER_COUNTER_TICK));
  }

  /** CNTP_CVAL_EL0. */
  get compare(): bigint {
    return this.cval;
  }
  set compare(value: bigint) {
    this.cval = BigInt.asUintN(64, value);
    this.update();
  }

  /** CNTP_CTL_EL0; ISTATUS is read-only and reports whether the condition is met. */
  get control(): number {
    return this.ctl | (this.counter() >= this.cval ? TimerControl.ISTATUS : 0);
  }
  set control(value: number) {
    this.ctl = value & (TimerControl.ENABLE | TimerControl.IMASK);
    this.update();
  }

  private update(): void {
    this.cancel?.();
    this.cancel = undefined;
    const armed = (this.ctl & (TimerControl.ENABLE | TimerControl.IMASK)) === TimerControl.ENABLE;
    const due = this.counter() >= this.cval;
    this.setLine(armed && due);
    if (armed && !due) {
      // The deadline in nanoseconds; a compare value beyond the reach of a double never fires.
      const at = Number(this.cval) * NS_PER_COUNTER_TICK;
      if (Number.isFinite(at) && this.cval < MAX_U64) {
        this.cancel = this.kernel.clock.at(at, () => {
          this.cancel = undefined;
          this.update();
        });
      }
    }
  }

  private setLine(high: boolean): void {
    if (high === this.lineHigh) return;
    this.lineHigh = high;
    this.kernel.setIrqLine(PHYSICAL_TIMER_PPI, high);
  }
}
