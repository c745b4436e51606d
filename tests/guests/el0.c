// EL0 tasks: EL1 drops to EL0 with ERET, the task makes SVC calls the EL1 handler answers, EL0
// faults on an EL1-only page and on a privileged register, and an exit call returns to EL1.
#include "lib/el0.h"

#define SYS_ADD 1

static u64 el1_secret = 0x5ec7e7;

USER_DATA volatile u64 user_results[8];
USER_DATA __attribute__((aligned(16))) u64 user_stack[256];

USER_TEXT void user_main(u64 *secret) {
  user_results[0] = user_svc(SYS_ADD, 40, 2);
  u64 v = 0;
  asm volatile("ldr %0, [%1]" : "+r"(v) : "r"(secret) : "memory"); /* EL1-only: faults, handler skips */
  user_results[1] = v;
  asm volatile("mrs %0, sctlr_el1" : "=r"(v)::"memory"); /* privileged: UNDEFINED at EL0 */
  user_results[2] = read_sysreg(cntvct_el0) != 0;
  user_svc(SYS_EXIT, 7, 0);
}

static u64 fault_esr[4];
static unsigned el0_faults;

static int el0_hook(struct frame *f, unsigned vector) {
  if (el0_handle_exit(f, vector)) return 1;
  if (vector != VEC_EL0_SYNC) return 0;
  if (ESR_EC(f->esr) == 0x15 && f->x[8] == SYS_ADD) {
    f->x[0] = f->x[0] + f->x[1];
    return 1;
  }
  if (el0_faults < 4) fault_esr[el0_faults] = f->esr;
  el0_faults++;
  f->elr += 4;
  return 1;
}

int main(void) {
  mmu_init();
  el0_map_user_pages();
  write_sysreg(cntkctl_el1, 1UL << 1); /* EL0VCTEN */
  mmu_enable();
  on_exception = el0_hook;
  u64 exit_value = run_user(user_main, &el1_secret, &user_stack[256]);
  console_puts("el0: back at EL1\n");
  CHECK_EQ(1, exit_value, 7);
  CHECK_EQ(2, user_results[0], 42);
  CHECK_EQ(3, el0_faults, 2);
  CHECK_EQ(4, ESR_EC(fault_esr[0]), 0x24);       /* data abort from EL0 */
  CHECK_EQ(5, fault_esr[0] & 0x3c, 0x0c);        /* permission fault */
  CHECK_EQ(6, ESR_EC(fault_esr[1]), 0x00);       /* MRS SCTLR_EL1 at EL0 is UNDEFINED */
  CHECK_EQ(7, user_results[1], 0);               /* the faulting load never completed */
  CHECK_EQ(8, user_results[2], 1);               /* CNTVCT_EL0 readable with CNTKCTL_EL1.EL0VCTEN */
  CHECK_EQ(9, read_sysreg(CurrentEL) >> 2, 1);
  return 0;
}
