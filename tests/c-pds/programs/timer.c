/*
 * Uses the ARM generic timer as Microkit's seL4 exports it to EL0 (CNTPCT_EL0, CNTFRQ_EL0,
 * CNTP_TVAL/CTL_EL0, PPI 30 as <irq id="0">): three 1 ms timeouts, each checked against the counter.
 */
#include <microkit.h>

#define TIMER_IRQ 0
#define ROUNDS 3

static uint64_t armed_at;
static unsigned fired;

static uint64_t counter(void)
{
    uint64_t value;
    __asm__ volatile("isb; mrs %0, cntpct_el0" : "=r"(value));
    return value;
}

static uint64_t frequency(void)
{
    uint64_t value;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(value));
    return value;
}

static void arm_timer(void)
{
    armed_at = counter();
    __asm__ volatile("msr cntp_tval_el0, %0" : : "r"(frequency() / 1000));
    __asm__ volatile("msr cntp_ctl_el0, %0" : : "r"((uint64_t)1));
}

void init(void)
{
    microkit_dbg_puts("timer: ");
    microkit_dbg_put32((seL4_Uint32)(frequency() / 1000000));
    microkit_dbg_puts(" MHz\n");
    arm_timer();
}

void notified(microkit_channel ch)
{
    if (ch != TIMER_IRQ) return;
    uint64_t ctl;
    __asm__ volatile("mrs %0, cntp_ctl_el0" : "=r"(ctl));
    uint64_t elapsed = counter() - armed_at;
    fired++;
    microkit_dbg_puts(elapsed >= frequency() / 1000 && (ctl & 4) ? "timer: fired after 1 ms\n" : "timer: fired EARLY\n");
    /* Masked until re-armed: the interrupt line is level-triggered. */
    __asm__ volatile("msr cntp_ctl_el0, %0" : : "r"((uint64_t)0));
    microkit_irq_ack(ch);
    if (fired < ROUNDS) arm_timer();
}
