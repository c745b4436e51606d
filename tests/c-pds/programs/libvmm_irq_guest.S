/*
 * An interrupt-taking guest for the C libvmm test: enables the emulated distributor and SPIs 32-63,
 * the virtual CPU interface (GICV, mapped at 0x08010000), asks the VMM for eight SPIs at once (HVC
 * #2), more than the list registers hold, and takes them: x19 counts them, x20 has a bit per
 * INTID - 32. Then it prints its registers (HVC #1) and waits for interrupts that never come.
 */
.global _start
_start:
    adr x0, vectors
    msr vbar_el1, x0
    movz x1, #0x800, lsl #16        /* GICD */
    mov w2, #1
    str w2, [x1]                    /* GICD_CTLR: enable */
    movn w2, #0
    str w2, [x1, #0x104]            /* GICD_ISENABLER1: INTIDs 32-63 */
    movz x3, #0x801, lsl #16        /* GICC (the virtual CPU interface) */
    mov w2, #0xf0
    str w2, [x3, #0x4]              /* GICC_PMR */
    mov w2, #1
    str w2, [x3]                    /* GICC_CTLR: enable */
    mov x19, #0
    mov x20, #0
    hvc #2
    /* Wait with IRQs masked (WFI wakes for a pending one all the same), then take it. */
1:  msr daifset, #2
    cmp x19, #8
    b.ge 3f
    wfi
    msr daifclr, #2
    isb
    b 1b
3:  hvc #1
2:  wfi
    b 2b

irq:
    ldr w4, [x3, #0xc]              /* GICC_IAR */
    and w5, w4, #0x3ff
    add x19, x19, #1
    sub w6, w5, #32
    mov x7, #1
    lsl x7, x7, x6
    orr x20, x20, x7
    str w4, [x3, #0x10]             /* GICC_EOIR */
    eret

/* Exception vectors: IRQ from the current EL with SP_ELx at 0x280; anything else stops the guest. */
.balign 0x800
vectors:
    .rept 0x280 / 4
    brk #0
    .endr
    b irq
