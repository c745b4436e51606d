/* Faults in init: a read through a null pointer. */
#include <microkit.h>

volatile seL4_Word *target;

static seL4_Word __attribute__((noinline)) read_target(void)
{
    return *target;
}

void init(void)
{
    microkit_dbg_puts("crasher: about to fault\n");
    microkit_dbg_putc((int)read_target());
}

void notified(microkit_channel ch)
{
    (void)ch;
}
