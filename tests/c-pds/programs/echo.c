/*
 * A PL011 driver on its interrupt: echoes what is typed in upper case, acking the IRQ after each batch
 * (with -DDEFERRED, by a deferred ack).
 */
#include <microkit.h>

#define UART_IRQ 1

uintptr_t uart_base;

#define UARTDR 0x000
#define UARTFR 0x018
#define UARTIMSC 0x038
#define UARTICR 0x044
#define UARTFR_RXFE (1 << 4)
#define UARTFR_TXFF (1 << 5)
#define UART_RXIM (1 << 4)

static volatile uint32_t *regs(void)
{
    return (volatile uint32_t *)uart_base;
}

static void put(char c)
{
    while (regs()[UARTFR / 4] & UARTFR_TXFF) {
    }
    regs()[UARTDR / 4] = (uint32_t)c;
}

void init(void)
{
    regs()[UARTIMSC / 4] = UART_RXIM;
    microkit_dbg_puts("echo: ready\n");
}

void notified(microkit_channel ch)
{
    if (ch != UART_IRQ) return;
    while (!(regs()[UARTFR / 4] & UARTFR_RXFE)) {
        char c = (char)regs()[UARTDR / 4];
        put(c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c);
    }
    regs()[UARTICR / 4] = UART_RXIM;
#ifdef DEFERRED
    /* Acked with the handler loop's next receive, in the same syscall. */
    microkit_deferred_irq_ack(ch);
#else
    microkit_irq_ack(ch);
#endif
}
