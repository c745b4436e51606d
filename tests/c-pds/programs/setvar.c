/* Prints the setvars the tool patched in and the first bytes of its prefilled region. */
#include <microkit.h>

uintptr_t shared_vaddr;
uintptr_t shared_size;
uintptr_t data_vaddr;

static void put_hex(seL4_Word n)
{
    int started = 0;
    microkit_dbg_puts("0x");
    for (int shift = 60; shift >= 0; shift -= 4) {
        int digit = (n >> shift) & 0xf;
        started |= digit != 0 || shift == 0;
        if (started) microkit_dbg_putc(digit < 10 ? '0' + digit : 'a' + digit - 10);
    }
}

void init(void)
{
    microkit_dbg_puts("setvar: shared at ");
    put_hex(shared_vaddr);
    microkit_dbg_puts(" size ");
    put_hex(shared_size);
    microkit_dbg_puts("\nsetvar: prefill says ");
    const char *text = (const char *)data_vaddr;
    for (int i = 0; text[i] && text[i] != '\n'; i++) microkit_dbg_putc(text[i]);
    microkit_dbg_puts("\n");
    *(volatile seL4_Word *)shared_vaddr = 0x1234;
}

void notified(microkit_channel ch)
{
    (void)ch;
}
