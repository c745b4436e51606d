/* Drives the board's PL011 directly through an uncached device map: writes a line to its data register. */
#include <microkit.h>

uintptr_t uart_base;

#define UARTDR 0x000
#define UARTFR 0x018
#define UARTFR_TXFF (1 << 5)

static void put(char c)
{
    volatile uint32_t *regs = (volatile uint32_t *)uart_base;
    while (regs[UARTFR / 4] & UARTFR_TXFF) {
    }
    regs[UARTDR / 4] = (uint32_t)c;
}

void init(void)
{
    for (const char *s = "uart: written to the PL011 by a C PD\n"; *s; s++) put(*s);
}

void notified(microkit_channel ch)
{
    (void)ch;
}
