// Unaligned accesses: allowed on Normal memory with SCTLR_EL1.A = 0 (plain loads, stores and pairs),
// alignment faults for exclusives and load-acquire anywhere, for anything with SCTLR_EL1.A = 1, for
// Device memory mapped by stage 1 and for every data access with the MMU off.
#include "lib/mmu.h"

static u8 buffer[64] __attribute__((aligned(64)));
static u8 device_page[4096] __attribute__((aligned(4096)));

static u64 load64(const void *p) {
  u64 v;
  asm volatile("ldr %0, [%1]" : "=r"(v) : "r"(p) : "memory");
  return v;
}

static void expect_alignment_fault(u32 code, unsigned before, const void *at) {
  CHECK_EQ(code, last_exception.count, before + 1);
  CHECK_EQ(code + 1, ESR_EC(last_exception.esr), 0x25);
  CHECK_EQ(code + 2, last_exception.esr & 0x3f, 0x21);
  CHECK_EQ(code + 3, last_exception.far, (u64)at);
}

int main(void) {
  for (int i = 0; i < 64; i++) buffer[i] = (u8)i;
  on_exception = record_and_skip;

  (void)load64(buffer + 1);
  expect_alignment_fault(1, 0, buffer + 1); /* MMU off: Device-nGnRnE */

  mmu_init();
  mmu_enable();
  CHECK_EQ(10, load64(buffer + 1), 0x0807060504030201UL);
  asm volatile("str %w0, [%1]" ::"r"(0xdeadbeef), "r"(buffer + 3) : "memory");
  CHECK_EQ(11, load64(buffer), 0x07deadbeef020100UL);
  u64 a, b;
  asm volatile("ldp %0, %1, [%2]" : "=r"(a), "=r"(b) : "r"(buffer + 9) : "memory");
  CHECK_EQ(12, a, 0x100f0e0d0c0b0a09UL);
  CHECK_EQ(13, b, 0x1817161514131211UL);
  CHECK_EQ(14, last_exception.count, 1);

  asm volatile("ldxr %0, [%1]" : "=r"(a) : "r"(buffer + 4) : "memory");
  expect_alignment_fault(20, 1, buffer + 4);
  asm volatile("ldar %w0, [%1]" : "=r"(a) : "r"(buffer + 2) : "memory");
  expect_alignment_fault(30, 2, buffer + 2);

  write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | 2); /* A: check alignment */
  isb();
  asm volatile("ldr %w0, [%1]" : "=r"(a) : "r"(buffer + 2) : "memory");
  expect_alignment_fault(40, 3, buffer + 2);
  CHECK_EQ(44, load64(buffer + 8), 0x0f0e0d0c0b0a0908UL);
  write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) & ~2UL);
  isb();

  map_page((u64)device_page, (u64)device_page, PTE_ATTR(ATTR_DEVICE) | PTE_AF | PTE_PXN | PTE_UXN);
  (void)load64(device_page + 4);
  expect_alignment_fault(50, 4, device_page + 4);
  CHECK_EQ(54, load64(device_page + 8), 0);
  console_puts("unaligned: done\n");
  return 0;
}
