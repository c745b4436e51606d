// A bare-metal guest for libvmm's integration test: with x0 = 0 it stores to the unmapped UART address,
// with x0 = 1 it loads a pair from the emulated distributor (no syndrome: ISV = 0), and with x0 = 2 it
// jumps to an address with no memory.
    .global _start
_start:
    cmp     x0, #2
    b.eq    2f
    cbnz    x0, 1f
    movz    x1, #0x0900, lsl #16
    mov     w2, #0x41
    str     w2, [x1]
    b       .
1:  movz    x1, #0x0800, lsl #16
    ldp     x2, x3, [x1]
    b       .
2:  movz    x1, #0x6000, lsl #16
    br      x1
