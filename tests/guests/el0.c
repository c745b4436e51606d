// EL0 tasks: EL1 drops to EL0 with ERET, the task makes SVC calls the EL1 handler answers, EL0
// faults on an EL1-only page and on a privileged register, and an exit call returns to EL1.
#include "lib/mmu.h"

extern char __user_text[], __user_data[];

#define SYS_ADD 1
#define SYS_EXIT 2

static u64 el1_secret = 0x5ec7e7;

__attribute__((section(".user_data"))) volatile u64 user_results[8];
__attribute__((section(".user_data"), aligned(16))) u64 user_stack[256];

static inline u64 user_svc(u64 nr, u64 a, u64 b) {
  register u64 x8 asm("x8") = nr;
  register u64 x0 asm("x0") = a;
  register u64 x1 asm("x1") = b;
  asm volatile("svc #0" : "+r"(x0) : "r"(x1), "r"(x8) : "memory");
  return x0;
}

__attribute__((section(".user_text"), noinline)) void user_main(u64 *secret) {
  user_results[0] = user_svc(SYS_ADD, 40, 2);
  u64 v = 0;
  asm volatile("ldr %0, [%1]" : "+r"(v) : "r"(secret) : "memory"); /* EL1-only: faults, handler skips */
  user_results[1] = v;
  asm volatile("mrs %0, sctlr_el1" : "=r"(v)::"memory"); /* privileged: UNDEFINED at EL0 */
  user_results[2] = read_sysreg(cntvct_el0) != 0;
  user_svc(SYS_EXIT, 7, 0);
}

/* run_user keeps the EL1 callee-saved registers here and resumes at resume_el1 after the exit call. */
u64 el0_saved_regs[12];
static u64 resume_el1;
static u64 exit_value;
static u64 fault_esr[4];
static unsigned el0_faults;

static int el0_hook(struct frame *f, unsigned vector) {
  if (vector != VEC_EL0_SYNC) return 0;
  if (ESR_EC(f->esr) == 0x15) {
    if (f->x[8] == SYS_ADD) {
      f->x[0] = f->x[0] + f->x[1];
    } else if (f->x[8] == SYS_EXIT) {
      exit_value = f->x[0];
      f->elr = resume_el1;
      f->spsr = 0x3c5; /* EL1h; SP_EL1 is back where run_user left it */
    }
    return 1;
  }
  if (el0_faults < 4) fault_esr[el0_faults] = f->esr;
  el0_faults++;
  f->elr += 4;
  return 1;
}

/* Enters `entry(arg)` at EL0t and returns when the task makes the exit call. */
static void __attribute__((noinline)) run_user(void (*entry)(u64 *), u64 *arg, u64 *stack_top) {
  asm volatile("adrp x9, el0_saved_regs\n add x9, x9, :lo12:el0_saved_regs\n"
               "stp x19, x20, [x9, #0]\n stp x21, x22, [x9, #16]\n stp x23, x24, [x9, #32]\n"
               "stp x25, x26, [x9, #48]\n stp x27, x28, [x9, #64]\n stp x29, x30, [x9, #80]\n"
               "adr x10, 1f\n str x10, [%0]\n"
               "msr sp_el0, %3\n msr elr_el1, %1\n msr spsr_el1, xzr\n mov x0, %2\n eret\n"
               "1:\n adrp x9, el0_saved_regs\n add x9, x9, :lo12:el0_saved_regs\n"
               "ldp x19, x20, [x9, #0]\n ldp x21, x22, [x9, #16]\n ldp x23, x24, [x9, #32]\n"
               "ldp x25, x26, [x9, #48]\n ldp x27, x28, [x9, #64]\n ldp x29, x30, [x9, #80]\n"
               :
               : "r"(&resume_el1), "r"(entry), "r"(arg), "r"(stack_top)
               : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14",
                 "x15", "x16", "x17", "x18", "memory");
}

int main(void) {
  mmu_init();
  u64 user_code = PTE_ATTR(ATTR_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_AP_EL0 | PTE_AP_RO;
  u64 user_rw = PTE_ATTR(ATTR_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_AP_EL0 | PTE_UXN | PTE_PXN;
  map_page((u64)__user_text, (u64)__user_text, user_code);
  for (u64 p = (u64)__user_data; p < (u64)__user_data + 0x1000 * 3; p += 0x1000) map_page(p, p, user_rw);
  write_sysreg(cntkctl_el1, 1UL << 1); /* EL0VCTEN */
  mmu_enable();
  on_exception = el0_hook;
  run_user(user_main, &el1_secret, &user_stack[256]);
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
