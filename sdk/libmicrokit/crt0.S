/* The PD's entry point: the kernel starts the thread here with its stack pointer set. */
    .section .text.start
    .global _start
    .type _start, %function
_start:
    bl microkit_virtkit_main
1:  b 1b
