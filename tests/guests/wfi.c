// WFI wake-up: with nothing pending the guest's WFI exits to the host, which injects a virtual SPI
// through a list register and resumes after the WFI; the guest takes the interrupt. With IRQs masked,
// an interrupt already pending makes WFI complete at once (no exit), and it is taken as soon as the
// mask is lifted. A WFI resumed with an interrupt pending and unmasked takes the interrupt first.
#include "lib/gicv.h"

#define INJECTED_SPI 40

static volatile u32 irqs, last_id;

static int irq_hook(struct frame *f, unsigned vector) {
  (void)f;
  if (vector != VEC_EL1_IRQ) return 0;
  u32 iar = gicv_read(GICV_IAR);
  last_id = iar & 0x3ff;
  irqs++;
  gicv_write(GICV_EOIR, iar);
  return 1;
}

int main(void) {
  on_exception = irq_hook;
  gicv_write(GICV_PMR, 0xf8);
  gicv_write(GICV_CTLR, 1);
  irqs_on();
  asm volatile("wfi" ::: "memory"); /* the host injects SPI 40 on this WFI's exit */
  CHECK_EQ(1, irqs, 1);
  CHECK_EQ(2, last_id, INJECTED_SPI);

  irqs_off();
  CHECK_EQ(7, host_request(1, INJECTED_SPI + 1), 0); /* the host makes SPI 41 pending now */
  asm volatile("wfi" ::: "memory"); /* pending but masked: WFI completes without an exit */
  CHECK_EQ(3, irqs, 1);
  CHECK_EQ(4, gicv_read(GICV_HPPIR) & 0x3ff, INJECTED_SPI + 1);
  irqs_on();
  asm volatile("isb" ::: "memory");
  CHECK_EQ(5, irqs, 2);
  CHECK_EQ(6, last_id, INJECTED_SPI + 1);

  /* The host injects SPI 42 on this WFI's exit but resumes at the WFI itself: the pending, unmasked
     interrupt must be taken before the WFI runs again; the WFI's second exit then moves on. */
  asm volatile("wfi" ::: "memory");
  CHECK_EQ(8, irqs, 3);
  CHECK_EQ(9, last_id, INJECTED_SPI + 2);
  console_puts("wfi: done\n");
  return 0;
}
