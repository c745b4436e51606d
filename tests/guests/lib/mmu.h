/*
 * Stage-1 translation for the test guests: 4 KiB granule, 39-bit VAs in both halves.
 * TTBR0: VA = PA for the first 2 GiB (0..1 GiB Device-nGnRnE, 1..2 GiB Normal write-back, which holds
 * guest RAM). TTBR1: the same RAM again at HIGH_ALIAS. Pages inside RAM can be remapped one by one.
 */
#ifndef GUEST_MMU_H
#define GUEST_MMU_H
#include "runtime.h"

#define HIGH_ALIAS 0xffffff8000000000UL /* TTBR1 VA of physical address 0: the bottom of the 39-bit upper range */

/* MAIR_EL1 attribute indices. */
#define ATTR_DEVICE 0
#define ATTR_NORMAL 1
#define ATTR_NORMAL_NC 2

/* Descriptor fields. */
#define PTE_ATTR(i) ((u64)(i) << 2)
#define PTE_AP_EL0 (1UL << 6)      /* AP[1]: EL0 may access */
#define PTE_AP_RO (1UL << 7)       /* AP[2]: read-only */
#define PTE_SH_INNER (3UL << 8)
#define PTE_AF (1UL << 10)
#define PTE_NG (1UL << 11)
#define PTE_PXN (1UL << 53)
#define PTE_UXN (1UL << 54)

/** Builds the tables and writes MAIR, TCR, TTBR0/1 (MMU still off). */
void mmu_init(void);
/** Turns the MMU and caches on (SCTLR_EL1.M, C, I), keeping the other SCTLR bits. */
void mmu_enable(void);
void mmu_disable(void);
/** Maps one 4 KiB page of the RAM gigabyte at `va` to `pa` with descriptor bits `flags` (no AF implied). */
void map_page(u64 va, u64 pa, u64 flags);
/** Removes the translation of one RAM page. */
void unmap_page(u64 va);
/** TLBI VAE1 for one page (all ASIDs: VAAE1) followed by the barriers. */
void tlb_flush_page(u64 va);
void tlb_flush_all(void);

#endif
