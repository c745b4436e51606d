/*
 * EL0 tasks for the test guests: code and data in the .user_text/.user_data pages (mapped for EL0 by
 * el0_map_user_pages), entered with run_user and left with the SYS_EXIT call.
 */
#ifndef GUEST_EL0_H
#define GUEST_EL0_H
#include "mmu.h"

#define SYS_EXIT 2
#define USER_TEXT __attribute__((section(".user_text"), noinline))
#define USER_DATA __attribute__((section(".user_data")))

static inline u64 user_svc(u64 nr, u64 a, u64 b) {
  register u64 x8 asm("x8") = nr;
  register u64 x0 asm("x0") = a;
  register u64 x1 asm("x1") = b;
  asm volatile("svc #0" : "+r"(x0) : "r"(x1), "r"(x8) : "memory");
  return x0;
}

/** Maps the .user_text page for EL0 (read-only, executable) and three .user_data pages (RW, XN). */
void el0_map_user_pages(void);
/** Runs `entry(arg)` at EL0t with SP_EL0 = stack_top; returns the value the task passed to SYS_EXIT. */
u64 run_user(void (*entry)(u64 *), u64 *arg, u64 *stack_top);
/** For exception hooks: turns an EL0 SYS_EXIT call into run_user's return. Returns 1 when it was one. */
int el0_handle_exit(struct frame *f, unsigned vector);

#endif
