// An interrupt while an EL0 task runs: the virtual timer fires during an EL0 busy loop, the IRQ is
// taken from EL0 (vector 0x480, SPSR_EL1 = EL0t with IRQs unmasked, ELR_EL1 in the task's code), the
// EL1 handler acknowledges it at GICV_IAR and sets a flag in the task's memory, and ERET resumes the
// task, which sees the flag and exits.
#include "lib/el0.h"
#include "lib/gicv.h"

extern char __user_text[];

USER_DATA volatile u64 wake_flag;
USER_DATA __attribute__((aligned(16))) u64 user_stack[256];

USER_TEXT void user_spin(u64 *flag) {
  u64 spins = 0;
  while (*(volatile u64 *)flag == 0) spins++;
  user_svc(SYS_EXIT, spins, 0);
}

static volatile u64 irq_spsr, irq_elr;
static volatile u32 irq_vector, irq_id;

static int hook(struct frame *f, unsigned vector) {
  if (el0_handle_exit(f, vector)) return 1;
  if (vector != VEC_EL0_IRQ) return 0;
  u32 iar = gicv_read(GICV_IAR);
  irq_id = iar & 0x3ff;
  irq_vector = vector;
  irq_spsr = f->spsr;
  irq_elr = f->elr;
  write_sysreg(cntv_ctl_el0, 0);
  wake_flag = 1;
  gicv_write(GICV_EOIR, iar);
  return 1;
}

int main(void) {
  mmu_init();
  el0_map_user_pages();
  mmu_enable();
  on_exception = hook;
  gicv_write(GICV_PMR, 0xf8);
  gicv_write(GICV_CTLR, 1);
  write_sysreg(cntv_tval_el0, 2000);
  write_sysreg(cntv_ctl_el0, 1);
  u64 spins = run_user(user_spin, (u64 *)&wake_flag, &user_stack[256]);
  CHECK_EQ(1, irq_vector, VEC_EL0_IRQ);
  CHECK_EQ(2, irq_id, VTIMER_PPI);
  CHECK_EQ(3, irq_spsr & 0x3cf, 0x000); /* EL0t, DAIF clear */
  CHECK_EQ(4, irq_elr - (u64)__user_text < 0x1000, 1);
  CHECK_EQ(5, spins > 0, 1);
  checkpoint(1, spins);
  console_puts("el0_irq: done\n");
  return 0;
}
