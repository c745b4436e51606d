/* A C PD that prints from init, as Microkit's hello example does. */
#include <microkit.h>

void init(void)
{
    microkit_dbg_puts("hello, world\n");
}

void notified(microkit_channel ch)
{
    (void)ch;
}
