/* Takes one exception of the kind FAULT selects, after saying which. */
#include <microkit.h>

void init(void)
{
#if FAULT == 1
    microkit_dbg_puts("faults: brk\n");
    __asm__ volatile("brk #0x7");
#elif FAULT == 2
    microkit_dbg_puts("faults: undefined instruction\n");
    __asm__ volatile(".word 0x00000000");
#elif FAULT == 3
    microkit_dbg_puts("faults: a system register EL0 may not write\n");
    __asm__ volatile("msr sctlr_el1, xzr");
#elif FAULT == 4
    microkit_dbg_puts("faults: a syscall seL4 does not have\n");
    register seL4_Word number __asm__("x7") = (seL4_Word)-99;
    __asm__ volatile("svc #0" : : "r"(number) : "memory");
#elif FAULT == 5
    microkit_dbg_puts("faults: jump into data\n");
    static uint32_t data[2] = { 0xd503201f, 0xd503201f };
    ((void (*)(void))data)();
#endif
    microkit_dbg_puts("faults: not reached\n");
}

void notified(microkit_channel ch)
{
    (void)ch;
}
