// EL1 boot: the guest starts at EL1h with the MMU off and sees the ID registers of an ARMv8.0 core
// without LSE, pointer authentication, SVE or MTE.
#include "lib/runtime.h"

static volatile u64 words[16];

int main(void) {
  console_puts("boot: hello from EL1\n");
  CHECK_EQ(1, (read_sysreg(CurrentEL) >> 2) & 3, 1);
  CHECK_EQ(2, read_sysreg(SPSel) & 1, 1);
  CHECK_EQ(3, read_sysreg(sctlr_el1) & 1, 0);
  u64 isar0 = read_sysreg(ID_AA64ISAR0_EL1);
  CHECK_EQ(4, (isar0 >> 20) & 0xf, 0); /* Atomic: no LSE */
  u64 isar1 = read_sysreg(ID_AA64ISAR1_EL1);
  CHECK_EQ(5, (isar1 >> 4) & 0xff, 0); /* APA, API: no pointer authentication */
  CHECK_EQ(6, (isar1 >> 24) & 0xff, 0); /* GPA, GPI */
  u64 pfr0 = read_sysreg(ID_AA64PFR0_EL1);
  CHECK_EQ(7, (pfr0 >> 16) & 0xf, 0); /* FP implemented */
  CHECK_EQ(8, (pfr0 >> 20) & 0xf, 0); /* AdvSIMD implemented */
  CHECK_EQ(9, (pfr0 >> 32) & 0xf, 0); /* no SVE */
  u64 pfr1 = read_sysreg(s3_0_c0_c4_1); /* ID_AA64PFR1_EL1 */
  CHECK_EQ(11, (pfr1 >> 8) & 0xf, 0);  /* no MTE */
  u64 mmfr0 = read_sysreg(ID_AA64MMFR0_EL1);
  CHECK_EQ(12, (mmfr0 >> 28) & 0xf, 0); /* 4 KiB granule supported */
  checkpoint(1, read_sysreg(midr_el1));
  checkpoint(2, read_sysreg(mpidr_el1));
  for (int i = 0; i < 16; i++) words[i] = 0x0101010101010101UL * (u64)i;
  for (int i = 0; i < 16; i++) CHECK_EQ(20 + i, words[i], 0x0101010101010101UL * (u64)i);
  write_sysreg(tpidr_el1, 0x1234567890abcdefUL);
  CHECK_EQ(40, read_sysreg(tpidr_el1), 0x1234567890abcdefUL);
  /* Hint-space PAC and BTI instructions execute as NOPs. */
  asm volatile("hint #25\n hint #29\n hint #34" ::: "memory"); /* paciasp, autiasp, bti c */
  console_puts("boot: done\n");
  return 0;
}
