// A bare-metal guest for libvmm's integration test: touches the virtual distributor, an emulated
// device at every access size (with sign extension), and calls PSCI over HVC and SMC. With x0 != 0 at
// entry it skips the SMC PSCI_VERSION call (x10, x11 stay 0) and goes straight to SYSTEM_OFF.
    .global _start
_start:
    mov     x12, x0
    movz    x0, #0x0800, lsl #16        // GICD at 0x08000000
    mov     w1, #1
    str     w1, [x0]                    // GICD_CTLR = 1
    ldr     w2, [x0, #4]                // GICD_TYPER
    movz    x3, #0x5000, lsl #16        // the test device at 0x50000000
    mov     w4, #0x68
    strb    w4, [x3, #1]
    mov     w4, #0x6869
    strh    w4, [x3, #2]
    movz    x4, #0x4444
    movk    x4, #0x3333, lsl #16
    str     w4, [x3, #4]
    movk    x4, #0x2222, lsl #32
    movk    x4, #0x1111, lsl #48
    str     x4, [x3, #8]
    str     xzr, [x3, #16]
    ldrsb   x5, [x3, #32]               // device byte 0x80
    ldrsh   w6, [x3, #32]               // device halfword 0xff80
    ldrb    w7, [x3, #32]
    ldr     x8, [x3, #40]
    movz    w0, #0x8400, lsl #16        // PSCI_VERSION over HVC
    hvc     #0
    mov     x9, x0
    cbnz    x12, 1f
    movz    w0, #0x8400, lsl #16        // PSCI_VERSION over SMC
    smc     #0
    mov     x10, x0
    mov     x11, #0x11                  // runs once: the SMC is stepped over exactly
1:  movz    w0, #0x8400, lsl #16
    movk    w0, #0x8                    // PSCI SYSTEM_OFF
    smc     #0
    b       .
