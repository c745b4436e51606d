// Stage-2 aborts: every access size and sign extension to an IPA without a stage-2 mapping exits to
// the host with a full syndrome (ISV, SAS, SSE, SRT, SF, AR, WnR); the host emulates the access
// (tests/guests/guests.test.ts lists the syndrome it expects for each step, in order). Loads read a
// device whose byte at offset i is 0xf0 + i, so sign extension shows in the upper bits.
#include "lib/runtime.h"

#define DEV TEST_DEVICE_IPA
/* A page the host maps read-only at stage 2, holding 0x0123456789abcdef at offset 0. */
#define READ_ONLY_IPA 0x0b000000UL

int main(void) {
  register u64 base asm("x20") = DEV;
  register u64 x1 asm("x1") = 0x11;
  register u64 x2 asm("x2") = 0x2233;
  register u64 x3 asm("x3") = 0x44556677;
  register u64 x4 asm("x4") = 0x8899aabbccddeeffUL;
  asm volatile("strb w1, [x20, #0]\n"
               "strh w2, [x20, #2]\n"
               "str w3, [x20, #4]\n"
               "str x4, [x20, #8]\n"
               "str xzr, [x20, #16]\n"
               "stlr w3, [x20]\n" ::"r"(base),
               "r"(x1), "r"(x2), "r"(x3), "r"(x4)
               : "memory");
  u64 r[10];
  asm volatile("ldrb w5, [x20, #1]\n mov %0, x5\n"
               "ldrh w5, [x20, #2]\n mov %1, x5\n"
               "ldr w5, [x20, #4]\n mov %2, x5\n"
               "ldr x5, [x20, #8]\n mov %3, x5\n"
               "ldrsb w5, [x20, #1]\n mov %4, x5\n"
               "ldrsb x5, [x20, #1]\n mov %5, x5\n"
               "ldrsh w5, [x20, #2]\n mov %6, x5\n"
               "ldrsh x5, [x20, #2]\n mov %7, x5\n"
               "ldrsw x5, [x20, #4]\n mov %8, x5\n"
               "ldar x30, [x20]\n mov %9, x30\n"
               : "=&r"(r[0]), "=&r"(r[1]), "=&r"(r[2]), "=&r"(r[3]), "=&r"(r[4]), "=&r"(r[5]), "=&r"(r[6]),
                 "=&r"(r[7]), "=&r"(r[8]), "=&r"(r[9])
               : "r"(base)
               : "x5", "x30", "memory");
  CHECK_EQ(1, r[0], 0xf1);
  CHECK_EQ(2, r[1], 0xf3f2);
  CHECK_EQ(3, r[2], 0xf7f6f5f4);
  CHECK_EQ(4, r[3], 0xfffefdfcfbfaf9f8UL);
  CHECK_EQ(5, r[4], 0xfffffff1);
  CHECK_EQ(6, r[5], 0xfffffffffffffff1UL);
  CHECK_EQ(7, r[6], 0xfffff3f2);
  CHECK_EQ(8, r[7], 0xfffffffffffff3f2UL);
  CHECK_EQ(9, r[8], 0xfffffffff7f6f5f4UL);
  CHECK_EQ(10, r[9], 0xf7f6f5f4f3f2f1f0UL);
  /* A pair and a writeback form carry no instruction syndrome (ISV = 0); the host skips them. */
  asm volatile("ldp x6, x7, [x20]\n ldr x6, [x20, #8]!" : "+r"(base)::"x6", "x7", "memory");
  /* An instruction fetch from the device page is a stage-2 instruction abort; the host returns to x30. */
  void (*jump)(void) = (void (*)(void))(DEV + 0x800);
  jump();
  /* Reading a read-only stage-2 page works; writing it is a stage-2 permission fault. */
  volatile u64 *ro = (volatile u64 *)READ_ONLY_IPA;
  CHECK_EQ(20, *ro, 0x0123456789abcdefUL);
  register u64 value asm("x9") = 0x55;
  register volatile u64 *target asm("x10") = ro;
  asm volatile("str x9, [x10]" ::"r"(value), "r"(target) : "memory");
  CHECK_EQ(21, *ro, 0x0123456789abcdefUL);
  console_puts("stage2: done\n");
  return 0;
}
