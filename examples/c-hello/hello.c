/* A C protection domain: prints from init, built with virtkit's Microkit SDK (see docs/c-pds.md). */
#include <stdint.h>
#include <microkit.h>

void init(void)
{
    microkit_dbg_puts("hello, world from C\n");
}

void notified(microkit_channel ch)
{
    (void)ch;
}
