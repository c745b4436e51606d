// A bare-metal GICv3 guest for libvmm's integration test: wakes its redistributor, enables SGI 5 and
// group 1, sends SGI 5 to itself with ICC_SGI1R_EL1 (trapped to the VMM), takes it through the ICC
// system registers, and powers off.
    .global _start
_start:
    adr     x0, vectors
    msr     vbar_el1, x0
    isb
    movz    x1, #0x3880, lsl #16        // GICD
    mov     w2, #0x12                   // ARE | EnableGrp1
    str     w2, [x1]
    movz    x1, #0x3888, lsl #16        // GICR of vCPU 0
    str     wzr, [x1, #0x14]            // GICR_WAKER: wake up
    add     x1, x1, #0x10000            // SGI_base
    mov     w2, #0xffffffff
    str     w2, [x1, #0x80]             // GICR_IGROUPR0: all group 1
    mov     w2, #(1 << 5)
    str     w2, [x1, #0x100]            // GICR_ISENABLER0: SGI 5
    mov     x2, #1
    msr     icc_sre_el1, x2
    isb
    mov     x2, #0xff
    msr     icc_pmr_el1, x2
    mov     x2, #1
    msr     icc_igrpen1_el1, x2
    isb
    mov     x19, #0
    movz    x2, #0x0500, lsl #16        // INTID 5 (bits 27:24)
    orr     x2, x2, #1                  // target list: Aff0 = 0
    msr     icc_sgi1r_el1, x2
    isb
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
    mrs     x2, icc_iar1_el1            // current EL, SPx, IRQ
    mov     x19, x2
    msr     icc_eoir1_el1, x2
    eret
