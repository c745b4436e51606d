// The GICv3 virtual CPU interface through the ICC system registers (what Linux uses on a GICv3
// board): the virtual timer's PPI 27 arrives as a Group 1 list register entry, acknowledged with
// ICC_IAR1_EL1 and ended with ICC_EOIR1_EL1; the running priority and the priority mask follow it.
// Runs on a GICv3 vCPU only (on GICv2 the ICC registers are UNDEFINED).
#include "lib/gicv.h"

#define icc_iar1() read_sysreg(s3_0_c12_c12_0)
#define icc_eoir1(v) write_sysreg(s3_0_c12_c12_1, v)
#define icc_rpr() read_sysreg(s3_0_c12_c11_3)
#define icc_pmr(v) write_sysreg(s3_0_c4_c6_0, v)
#define icc_igrpen1(v) write_sysreg(s3_0_c12_c12_7, v)
#define icc_sre() read_sysreg(s3_0_c12_c12_5)

static volatile u32 irqs, last_id, rpr_in_handler;

static int irq_hook(struct frame *f, unsigned vector) {
  (void)f;
  if (vector != VEC_EL1_IRQ) return 0;
  u64 iar = icc_iar1();
  last_id = iar & 0xffffff;
  rpr_in_handler = icc_rpr();
  write_sysreg(cntv_ctl_el0, 0);
  irqs++;
  icc_eoir1(iar);
  return 1;
}

int main(void) {
  on_exception = irq_hook;
  CHECK_EQ(1, icc_sre() & 1, 1); /* system register interface enabled */
  icc_pmr(0xf8);
  icc_igrpen1(1);
  CHECK_EQ(2, icc_iar1() & 0xffffff, SPURIOUS);
  write_sysreg(cntv_tval_el0, 800);
  write_sysreg(cntv_ctl_el0, 1);
  irqs_on();
  while (irqs == 0) asm volatile("wfi" ::: "memory");
  irqs_off();
  CHECK_EQ(3, last_id, VTIMER_PPI);
  CHECK_EQ(4, rpr_in_handler, 0xa0);
  CHECK_EQ(5, icc_rpr(), 0xff);
  console_puts("timer_icc: done\n");
  return 0;
}
