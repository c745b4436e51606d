// Virtual timer interrupts through the GIC virtual CPU interface, seL4's VPPI flow: the guest arms
// CNTV and waits in WFI; the host skips idle time to the deadline, gets a "vtimer" exit, masks the
// timer and puts PPI 27 in a list register with the EOI bit; the guest acknowledges it at GICV_IAR,
// silences the timer and EOIs, which gives the host its "maintenance" exit to unmask the timer.
#include "lib/gicv.h"

static volatile u32 irqs, last_id, istatus_seen;
static volatile u32 running_priority;

static int irq_hook(struct frame *f, unsigned vector) {
  (void)f;
  if (vector != VEC_EL1_IRQ) return 0;
  u32 iar = gicv_read(GICV_IAR);
  last_id = iar & 0x3ff;
  running_priority = gicv_read(GICV_RPR);
  if (last_id == VTIMER_PPI) {
    istatus_seen = (read_sysreg(cntv_ctl_el0) >> 2) & 1;
    write_sysreg(cntv_ctl_el0, 0); /* the condition stays true: turn the timer off before EOI */
  }
  irqs++;
  gicv_write(GICV_EOIR, iar);
  return 1;
}

int main(void) {
  on_exception = irq_hook;
  CHECK_EQ(1, read_sysreg(cntfrq_el0), 62500000);
  gicv_write(GICV_PMR, 0xf8);
  gicv_write(GICV_CTLR, 1);
  CHECK_EQ(2, gicv_read(GICV_IAR) & 0x3ff, SPURIOUS); /* nothing pending yet */

  u64 start = read_sysreg(cntvct_el0);
  u64 deadline = start + 1000;
  write_sysreg(cntv_cval_el0, deadline);
  write_sysreg(cntv_ctl_el0, 1); /* ENABLE, IMASK clear */
  CHECK_EQ(3, read_sysreg(cntv_ctl_el0) & 4, 0); /* ISTATUS: not yet */
  irqs_on();
  while (irqs == 0) asm volatile("wfi" ::: "memory");
  irqs_off();
  CHECK_EQ(4, last_id, VTIMER_PPI);
  CHECK_EQ(5, istatus_seen, 1);
  CHECK_EQ(6, read_sysreg(cntvct_el0) >= deadline, 1);
  CHECK_EQ(7, running_priority, 0xa0); /* the LR's priority while active */
  CHECK_EQ(8, gicv_read(GICV_RPR), 0xff); /* idle again after EOI */
  checkpoint(1, read_sysreg(cntvct_el0) - start);

  /* TVAL counts down from the value written: a second, relative deadline. */
  write_sysreg(cntv_tval_el0, 500);
  write_sysreg(cntv_ctl_el0, 1);
  irqs_on();
  while (irqs == 1) asm volatile("wfi" ::: "memory");
  irqs_off();
  CHECK_EQ(10, last_id, VTIMER_PPI);
  CHECK_EQ(11, irqs, 2);
  console_puts("timer: done\n");
  return 0;
}
