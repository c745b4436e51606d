/* PPCs the server on channel 0 with two message registers and prints the reply. */
#include <microkit.h>

#define SERVER 0

static void put_number(seL4_Word n)
{
    char digits[21];
    int i = 0;
    do {
        digits[i++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (i) microkit_dbg_putc(digits[--i]);
}

void init(void)
{
    microkit_mr_set(0, 6);
    microkit_mr_set(1, 7);
    microkit_msginfo reply = microkit_ppcall(SERVER, microkit_msginfo_new(42, 2));
    microkit_dbg_puts("client: reply label ");
    put_number(microkit_msginfo_get_label(reply));
    microkit_dbg_puts(" count ");
    put_number(microkit_msginfo_get_count(reply));
    microkit_dbg_puts(" mr0 ");
    put_number(microkit_mr_get(0));
    microkit_dbg_puts(" mr5 ");
    put_number(microkit_mr_get(5));
    microkit_dbg_puts("\n");
}

void notified(microkit_channel ch)
{
    (void)ch;
}
