// Translation tables of the test guests (see mmu.h). Tables come from a static pool; RAM starts as
// 2 MiB blocks and a block is split into a level-3 table the first time one of its pages is remapped.
#include "mmu.h"

#define ENTRIES 512
#define DESC_BLOCK 1UL
#define DESC_TABLE 3UL
#define DESC_PAGE 3UL
#define ADDRESS_MASK 0x0000fffffffff000UL

static u64 pool[8][ENTRIES] __attribute__((aligned(4096)));
static unsigned pool_used;

static u64 *new_table(void) {
  if (pool_used == sizeof pool / sizeof pool[0]) check_failed(0xf001, pool_used, 0, "mmu: table pool exhausted");
  return pool[pool_used++];
}

static u64 *ttbr0_l1, *ttbr1_l1, *ram_l2;
static const u64 normal_block = DESC_BLOCK | PTE_ATTR(ATTR_NORMAL) | PTE_SH_INNER | PTE_AF;

void mmu_init(void) {
  ttbr0_l1 = new_table();
  ttbr1_l1 = new_table();
  ram_l2 = new_table();
  ttbr0_l1[0] = 0x0UL | DESC_BLOCK | PTE_ATTR(ATTR_DEVICE) | PTE_AF | PTE_PXN | PTE_UXN;
  for (u64 i = 0; i < ENTRIES; i++) ram_l2[i] = (0x40000000UL + (i << 21)) | normal_block;
  ttbr0_l1[1] = (u64)ram_l2 | DESC_TABLE;
  ttbr1_l1[1] = 0x40000000UL | normal_block;
  write_sysreg(mair_el1, (0xffUL << (8 * ATTR_NORMAL)) | (0x44UL << (8 * ATTR_NORMAL_NC)));
  /* T0SZ = T1SZ = 25 (39-bit), write-back walks, inner shareable, TG0 = 4K, TG1 = 4K, IPS = 36 bits. */
  u64 tcr = 25UL | (1UL << 8) | (1UL << 10) | (3UL << 12) | (25UL << 16) | (1UL << 24) | (1UL << 26) |
            (3UL << 28) | (2UL << 30) | (1UL << 32);
  write_sysreg(tcr_el1, tcr);
  write_sysreg(ttbr0_el1, (u64)ttbr0_l1);
  write_sysreg(ttbr1_el1, (u64)ttbr1_l1);
  isb();
}

void mmu_enable(void) {
  dsb();
  write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | 1UL | (1UL << 2) | (1UL << 12));
  isb();
}

void mmu_disable(void) {
  write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) & ~1UL);
  isb();
}

static u64 *l3_for(u64 va) {
  if (va < 0x40000000UL || va >= 0x80000000UL) check_failed(0xf002, va, 0, "mmu: map_page outside RAM");
  u64 *slot = &ram_l2[(va >> 21) & 511];
  if ((*slot & 3) == DESC_BLOCK) {
    u64 *l3 = new_table();
    u64 base = *slot & ADDRESS_MASK & ~0x1fffffUL;
    u64 attrs = *slot & ~ADDRESS_MASK & ~3UL;
    for (u64 i = 0; i < ENTRIES; i++) l3[i] = (base + (i << 12)) | attrs | DESC_PAGE;
    dsb();
    *slot = (u64)l3 | DESC_TABLE;
  }
  return (u64 *)(*slot & ADDRESS_MASK);
}

void map_page(u64 va, u64 pa, u64 flags) {
  l3_for(va)[(va >> 12) & 511] = (pa & ADDRESS_MASK) | flags | DESC_PAGE;
  tlb_flush_page(va);
}

void unmap_page(u64 va) {
  l3_for(va)[(va >> 12) & 511] = 0;
  tlb_flush_page(va);
}

void tlb_flush_page(u64 va) {
  dsb();
  asm volatile("tlbi vaae1, %0" ::"r"(va >> 12) : "memory");
  dsb();
  isb();
}

void tlb_flush_all(void) {
  dsb();
  asm volatile("tlbi vmalle1" ::: "memory");
  dsb();
  isb();
}
