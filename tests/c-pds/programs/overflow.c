/* Recurses until the stack runs out. */
#include <microkit.h>

static seL4_Word __attribute__((noinline)) deep(seL4_Word n)
{
    volatile seL4_Word frame[64];
    frame[0] = n;
    return n == 0 ? frame[0] : deep(n - 1) + frame[0];
}

void init(void)
{
    microkit_dbg_putc((int)deep(1000000));
}

void notified(microkit_channel ch)
{
    (void)ch;
}
