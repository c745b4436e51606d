// A two-vCPU bare-metal guest for libvmm's integration test. vCPU 0 starts vCPU 1 with PSCI CPU_ON
// (over HVC) and sleeps in WFI; vCPU 1 checks its context argument, sends SGI 3 to vCPU 0 through
// GICD_SGIR and turns itself off; vCPU 0 takes the SGI, asks AFFINITY_INFO about vCPU 1 and powers off.
    .global _start
_start:
    adr     x0, vectors
    msr     vbar_el1, x0
    isb
    movz    x1, #0x0800, lsl #16        // GICD
    mov     w2, #1
    str     w2, [x1]                    // GICD_CTLR
    movz    x1, #0x0801, lsl #16        // GICC (virtual CPU interface)
    mov     w2, #0xff
    str     w2, [x1, #4]                // GICC_PMR
    mov     w2, #1
    str     w2, [x1]                    // GICC_CTLR
    mov     x19, #0
    movz    x0, #0xc400, lsl #16
    movk    x0, #0x3                    // CPU_ON (SMC64 ID)
    mov     x1, #1                      // target: MPIDR Aff0 = 1
    adr     x2, secondary
    movz    x3, #0x1234                 // context
    hvc     #0
    mov     x21, x0                     // CPU_ON result
1:  cbnz    x19, 2f                     // WFI with IRQs masked, then take the IRQ: no lost wake-up
    wfi
    msr     daifclr, #2
    isb
    msr     daifset, #2
    b       1b
2:  movz    x0, #0xc400, lsl #16
    movk    x0, #0x4                    // AFFINITY_INFO(1, level 0)
    mov     x1, #1
    mov     x2, #0
    hvc     #0
    cmp     x0, #1                      // wait until vCPU 1 is off
    b.ne    2b
    mov     x22, x0
    movz    w0, #0x8400, lsl #16
    movk    w0, #0x8                    // SYSTEM_OFF
    hvc     #0
    b       .

secondary:
    mov     x20, x0                     // the context from CPU_ON
    mrs     x23, mpidr_el1
    movz    x1, #0x0800, lsl #16
    movz    w2, #0x0001, lsl #16        // GICD_SGIR: target list CPU 0, filter 0
    orr     w2, w2, #3                  // SGI 3
    str     w2, [x1, #0xf00]
    movz    w0, #0x8400, lsl #16
    movk    w0, #0x2                    // CPU_OFF
    hvc     #0
    b       .

    .balign 0x800
vectors:
    .skip   0x280
    movz    x1, #0x0801, lsl #16        // current EL, SPx, IRQ
    ldr     w2, [x1, #0xc]              // GICC_IAR
    mov     x19, x2
    str     w2, [x1, #0x10]             // GICC_EOIR
    eret
