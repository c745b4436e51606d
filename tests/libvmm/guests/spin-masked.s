// A bare-metal guest that masks every interrupt and spins forever, counting in x1: the host must keep
// running its other PDs, and the VM must keep executing (nothing in the architecture stops it).
    .global _start
_start:
    msr     daifset, #0xf
    mov     x1, #0
1:  add     x1, x1, #1
    b       1b
