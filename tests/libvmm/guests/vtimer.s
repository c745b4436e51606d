// A bare-metal guest for libvmm's integration test: arms the EL1 virtual timer, sleeps in WFI until
// its interrupt (PPI 27) arrives through the VMM, disables the timer in the handler, and powers off.
    .global _start
_start:
    adr     x0, vectors
    msr     vbar_el1, x0
    isb
    movz    x1, #0x0800, lsl #16        // GICD
    mov     w2, #1
    str     w2, [x1]                    // GICD_CTLR
    mov     w2, #(1 << 27)
    str     w2, [x1, #0x100]            // GICD_ISENABLER0: PPI 27
    movz    x1, #0x0801, lsl #16        // GICC
    mov     w2, #0xff
    str     w2, [x1, #4]                // GICC_PMR
    mov     w2, #1
    str     w2, [x1]                    // GICC_CTLR
    mov     x19, #0
    mov     x0, #1000
    msr     cntv_tval_el0, x0
    mov     x0, #1
    msr     cntv_ctl_el0, x0            // enabled, not masked
1:  cbnz    x19, 2f
    wfi
    msr     daifclr, #2
    isb
    msr     daifset, #2
    b       1b
2:  movz    w0, #0x8400, lsl #16
    movk    w0, #0x8                    // SYSTEM_OFF
    hvc     #0
    b       .

    .balign 0x800
vectors:
    .skip   0x280
    movz    x1, #0x0801, lsl #16        // current EL, SPx, IRQ
    ldr     w2, [x1, #0xc]              // GICC_IAR
    mov     x19, x2
    msr     cntv_ctl_el0, xzr           // the timer's line is level: stop it before EOI
    str     w2, [x1, #0x10]             // GICC_EOIR
    eret
