// A bare-metal guest for libvmm's integration test: enables SPI 40 in the virtual distributor and the
// GICv2 virtual CPU interface, sleeps in WFI, takes the interrupt, EOIs it and powers off.
    .global _start
_start:
    adr     x0, vectors
    msr     vbar_el1, x0
    isb
    movz    x0, #0x0800, lsl #16        // GICD
    mov     w1, #1
    str     w1, [x0]                    // GICD_CTLR.EnableGrp0
    mov     w1, #0x100
    str     w1, [x0, #0x104]            // GICD_ISENABLER1: SPI 40
    movz    x1, #0x0801, lsl #16        // GICC (the virtual CPU interface)
    mov     w2, #0xff
    str     w2, [x1, #4]                // GICC_PMR
    mov     w2, #1
    str     w2, [x1]                    // GICC_CTLR
    mov     x19, #0
    msr     daifclr, #2
1:  wfi
    cbz     x19, 1b
    movz    w0, #0x8400, lsl #16
    movk    w0, #0x8                    // PSCI SYSTEM_OFF
    hvc     #0
    b       .

    .balign 0x800
vectors:
    .skip   0x280
irq:                                    // current EL, SPx, IRQ
    movz    x1, #0x0801, lsl #16
    ldr     w2, [x1, #0xc]              // GICC_IAR
    mov     x19, x2
    str     w2, [x1, #0x10]             // GICC_EOIR
    eret
