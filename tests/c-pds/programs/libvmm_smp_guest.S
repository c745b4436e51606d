/*
 * A two-vCPU guest for the C libvmm test: vCPU 0 asks PSCI about vCPU 1, starts it with CPU_ON, tries
 * again, asks again, and prints its results (HVC #1); vCPU 1 prints the context CPU_ON gave it. Both
 * then wait for interrupts that never come.
 */
.global _start
_start:
    movz w0, #0x8400, lsl #16       /* AFFINITY_INFO (SMC32): Aff3 in x1's upper half is not an argument */
    movk w0, #4
    mov x1, #1
    movk x1, #1, lsl #32
    mov x2, #0
    smc #0
    mov x19, x0
    movz w0, #0xc400, lsl #16       /* CPU_ON (SMC64) */
    movk w0, #3
    mov x1, #1
    adr x2, secondary
    mov x3, #0x1234
    smc #0
    mov x20, x0
    movz w0, #0xc400, lsl #16       /* CPU_ON again */
    movk w0, #3
    mov x1, #1
    adr x2, secondary
    smc #0
    mov x21, x0
    movz w0, #0x8400, lsl #16       /* AFFINITY_INFO again */
    movk w0, #4
    mov x1, #1
    mov x2, #0
    smc #0
    mov x22, x0
    hvc #1
1:  wfi
    b 1b

secondary:
    mov x19, x0
    mrs x20, mpidr_el1
    hvc #1
2:  wfi
    b 2b
