/* Writes through a read-only map. */
#include <microkit.h>

uintptr_t table;

void init(void)
{
    microkit_dbg_puts("readonly: reading works: ");
    microkit_dbg_putc(*(volatile char *)table);
    microkit_dbg_puts("\n");
    *(volatile char *)table = 'x';
}

void notified(microkit_channel ch)
{
    (void)ch;
}
