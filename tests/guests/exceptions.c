// Exception round trips at EL1: BRK, UDF, SVC and an EL2-only MRS each reach the EL1 vector with the
// right ESR_EL1, ELR_EL1 and SPSR_EL1, and ERET resumes where the handler says. SMC and HVC go to the
// host instead (see the test's host side), which answers and resumes after them.
#include "lib/runtime.h"

static int svc_hook(struct frame *f, unsigned vector) {
  last_exception.esr = f->esr;
  last_exception.elr = f->elr;
  last_exception.spsr = f->spsr;
  last_exception.vector = vector;
  last_exception.count++;
  /* SVC's preferred return address is already past it; the result travels back in x0. */
  if (ESR_EC(f->esr) == 0x15) f->x[0] = f->x[0] * 3 + ESR_ISS(f->esr);
  else f->elr += 4;
  return 1;
}

int main(void) {
  on_exception = svc_hook;
  u64 here;

  asm volatile("adr %0, 1f\n1: brk #0x123" : "=r"(here)::"memory");
  CHECK_EQ(1, last_exception.count, 1);
  CHECK_EQ(2, last_exception.vector, VEC_EL1_SYNC);
  CHECK_EQ(3, ESR_EC(last_exception.esr), 0x3c);
  CHECK_EQ(4, ESR_ISS(last_exception.esr), 0x123);
  CHECK_EQ(5, last_exception.elr, here);
  CHECK_EQ(6, last_exception.spsr & 0x3cf, 0x3c5); /* EL1h, DAIF masked as at reset */

  asm volatile("adr %0, 1f\n1: udf #7" : "=r"(here)::"memory");
  CHECK_EQ(10, ESR_EC(last_exception.esr), 0x00);
  CHECK_EQ(11, (last_exception.esr >> 25) & 1, 1); /* IL: 32-bit instruction */
  CHECK_EQ(12, last_exception.elr, here);

  register u64 x0 asm("x0") = 5;
  asm volatile("adr %1, 1f\n svc #0x42\n1:" : "+r"(x0), "=r"(here)::"memory");
  CHECK_EQ(20, ESR_EC(last_exception.esr), 0x15);
  CHECK_EQ(21, ESR_ISS(last_exception.esr), 0x42);
  CHECK_EQ(22, last_exception.elr, here);
  CHECK_EQ(23, x0, 5 * 3 + 0x42);

  /* HCR_EL2 does not exist for EL1: the access is UNDEFINED. */
  asm volatile("adr %0, 1f\n1: mrs x1, hcr_el2" : "=r"(here)::"x1", "memory");
  CHECK_EQ(30, ESR_EC(last_exception.esr), 0x00);
  CHECK_EQ(31, last_exception.elr, here);

  /* Interrupt masks survive the round trip: SPSR_EL1 carries the DAIF the code ran with. */
  asm volatile("msr daifclr, #4\n brk #1\n msr daifset, #4" ::: "memory");
  CHECK_EQ(40, (last_exception.spsr >> 6) & 0xf, 0xb);
  CHECK_EQ(41, (read_sysreg(daif) >> 6) & 0xf, 0xf);

  /* SMC and HVC leave to the host with their immediate; it answers in x0 and resumes after them. */
  register u64 a0 asm("x0") = 5;
  asm volatile("smc #0x77" : "+r"(a0)::"memory");
  CHECK_EQ(45, a0, 5 + 0x77);
  a0 = 6;
  asm volatile("hvc #0x55" : "+r"(a0)::"memory");
  CHECK_EQ(46, a0, 6 * 0x55);

  /* ELR_EL1 and SPSR_EL1 are plain read/write registers at EL1. */
  write_sysreg(elr_el1, 0x40001234UL);
  CHECK_EQ(50, read_sysreg(elr_el1), 0x40001234UL);
  CHECK_EQ(51, last_exception.count, 5);
  return 0;
}
