/* Answers a PPC with label + 1, the product of MR0 and MR1 in MR0, and 99 in MR5 (from the IPC buffer). */
#include <microkit.h>

void init(void)
{
    microkit_dbg_puts("server: ready\n");
}

void notified(microkit_channel ch)
{
    (void)ch;
}

microkit_msginfo protected(microkit_channel ch, microkit_msginfo msginfo)
{
    microkit_dbg_puts("server: called on channel ");
    microkit_dbg_putc('0' + ch);
    microkit_dbg_puts("\n");
    seL4_Word product = microkit_mr_get(0) * microkit_mr_get(1);
    microkit_mr_set(0, product);
    for (int i = 1; i < 5; i++) microkit_mr_set(i, 0);
    microkit_mr_set(5, 99);
    return microkit_msginfo_new(microkit_msginfo_get_label(msginfo) + 1, 6);
}
