/*
 * A tiny guest for the C libvmm test, at EL1 with the MMU off: PSCI and SMCCC calls over SMC, the
 * emulated GICv2 distributor read and written in words and bytes, stores and a load in a region the
 * VMM emulates itself, an HVC #1 that asks the VMM to print the results (x19-x25), then a load from
 * an address no <map> covers.
 */
.global _start
_start:
    movz w0, #0x8400, lsl #16       /* PSCI_VERSION */
    smc #0
    mov x19, x0
    movz w0, #0xc200, lsl #16       /* a SiP call nobody answers */
    movk w0, #1
    smc #0
    mov x20, x0
    movz x1, #0x800, lsl #16        /* the distributor, 0x08000000 */
    ldr w21, [x1, #0x4]             /* GICD_TYPER */
    mov w2, #2
    str w2, [x1, #0x104]            /* GICD_ISENABLER1: enable INTID 33 */
    ldr w22, [x1, #0x104]
    mov w2, #0xa5
    strb w2, [x1, #0x421]           /* GICD_IPRIORITYR, INTID 33's byte */
    ldrb w23, [x1, #0x421]
    ldrsb x24, [x1, #0x421]
    movz x1, #0x5000, lsl #16       /* the VMM's own region: a byte store, a halfword store, a load */
    mov x2, #0x1234
    movk x2, #0x5a, lsl #16
    strb w2, [x1, #3]
    strh w2, [x1, #6]
    ldr x25, [x1, #8]
    hvc #1
    movz x1, #0x2000, lsl #16
    ldr w3, [x1]                    /* nothing at 0x20000000 */
    b .
