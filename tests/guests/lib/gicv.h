/*
 * The GICv2 virtual CPU interface as the test guests see it: the host maps the VM's GICV frame at
 * GICV_IPA (QEMU virt's GICC address, as libvmm does) and injects interrupts through list registers.
 */
#ifndef GUEST_GICV_H
#define GUEST_GICV_H
#include "runtime.h"

#define GICV_IPA 0x08010000UL
#define GICV_CTLR 0x000
#define GICV_PMR 0x004
#define GICV_IAR 0x00c
#define GICV_EOIR 0x010
#define GICV_RPR 0x014
#define GICV_HPPIR 0x018

#define VTIMER_PPI 27
#define SPURIOUS 1023

static inline u32 gicv_read(u64 offset) {
  return *(volatile u32 *)(GICV_IPA + offset);
}

static inline void gicv_write(u64 offset, u32 v) {
  *(volatile u32 *)(GICV_IPA + offset) = v;
}

static inline void irqs_on(void) {
  asm volatile("msr daifclr, #2" ::: "memory");
}

static inline void irqs_off(void) {
  asm volatile("msr daifset, #2" ::: "memory");
}

#endif
