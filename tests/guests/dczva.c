// DC ZVA zeroes exactly the naturally aligned block DCZID_EL0 names, wherever in the block the address
// points; on Device memory (MMU off) it takes an alignment fault instead.
#include "lib/mmu.h"

static u8 buffer[1024] __attribute__((aligned(1024)));

int main(void) {
  u64 dczid = read_sysreg(dczid_el0);
  CHECK_EQ(1, (dczid >> 4) & 1, 0); /* DZP: DC ZVA permitted */
  u64 block = 4UL << (dczid & 0xf);
  checkpoint(1, block);
  CHECK_EQ(2, block >= 16 && block <= 256, 1);

  on_exception = record_and_skip;
  memset(buffer, 0xaa, sizeof buffer);
  asm volatile("dc zva, %0" ::"r"(buffer + block + 5) : "memory");
  CHECK_EQ(3, last_exception.count, 1);
  CHECK_EQ(4, ESR_EC(last_exception.esr), 0x25);
  CHECK_EQ(5, last_exception.esr & 0x3f, 0x21); /* alignment fault */
  CHECK_EQ(6, buffer[block + 5], 0xaa);

  mmu_init();
  mmu_enable();
  asm volatile("dc zva, %0" ::"r"(buffer + block + 5) : "memory");
  CHECK_EQ(10, last_exception.count, 1);
  for (u64 i = 0; i < sizeof buffer; i++) {
    u8 want = (i >= block && i < 2 * block) ? 0 : 0xaa;
    CHECK_EQ(0x1000 + i, buffer[i], want);
  }
  console_puts("dczva: done\n");
  return 0;
}
