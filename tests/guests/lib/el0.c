// EL0 task entry and exit (see el0.h). run_user saves the EL1 callee-saved registers, ERETs to EL0t,
// and the SYS_EXIT handler returns to the label after the ERET at EL1h: SP_EL1 is already where
// run_user left it, because the exception frame was popped before that ERET.
#include "el0.h"

extern char __user_text[], __user_data[];

u64 el0_saved_regs[12];
static u64 resume_el1;
static u64 exit_value;

void el0_map_user_pages(void) {
  u64 code = PTE_ATTR(ATTR_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_AP_EL0 | PTE_AP_RO;
  u64 data = PTE_ATTR(ATTR_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_AP_EL0 | PTE_UXN | PTE_PXN;
  map_page((u64)__user_text, (u64)__user_text, code);
  for (u64 p = (u64)__user_data; p < (u64)__user_data + 0x1000 * 3; p += 0x1000) map_page(p, p, data);
}

int el0_handle_exit(struct frame *f, unsigned vector) {
  if (vector != VEC_EL0_SYNC || ESR_EC(f->esr) != 0x15 || f->x[8] != SYS_EXIT) return 0;
  exit_value = f->x[0];
  f->elr = resume_el1;
  f->spsr = 0x3c5; /* EL1h, DAIF masked */
  return 1;
}

/* After the ERET every register holds the task's values, so the label reloads what EL1 needs. */
static void __attribute__((noinline)) enter_el0(void (*entry)(u64 *), u64 *arg, u64 *stack_top) {
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

u64 run_user(void (*entry)(u64 *), u64 *arg, u64 *stack_top) {
  enter_el0(entry, arg, stack_top);
  return exit_value;
}
