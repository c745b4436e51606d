/*
 * The serial server of the Microkit tutorial's Wordle, in C: a PL011 driver on its interrupt. With a
 * channel to the client (parts 2 and 3) it passes each typed character to the client and prints the
 * strings the client leaves in their shared page; without one (part 1) it echoes what is typed.
 */
#include <stdint.h>
#include <microkit.h>

#define UART_IRQ_CHANNEL 1
#define CLIENT_CHANNEL 2

/* PL011 registers (byte offsets) and flags, from the ARM PrimeCell UART (PL011) TRM. */
#define UARTDR 0x000
#define UARTFR 0x018
#define UARTIMSC 0x038
#define UARTICR 0x044
#define UARTFR_RXFE (1 << 4)
#define UARTFR_TXFF (1 << 5)
/* RXIM | RTIM: interrupt on a received character and on the receive timeout. */
#define UARTIMSC_RX_AND_TIMEOUT 0x50
/* Every interrupt the PL011 can raise. */
#define UARTICR_ALL 0x7f0
#define RECEIVE_DATA_MASK 0x1ff

#define SHARED_PAGE_SIZE 0x1000

#define BACKSPACE 0x08
#define DELETE 0x7f

/* Patched by the <map>s' setvar_vaddr; left 0 when a map is missing, so the first access faults. */
uintptr_t uart_base_vaddr;
uintptr_t serial_to_client_vaddr;
uintptr_t client_to_serial_vaddr;

static volatile uint32_t *uart_reg(uintptr_t offset)
{
    return (volatile uint32_t *)(uart_base_vaddr + offset);
}

static void uart_put_char(char c)
{
    while (*uart_reg(UARTFR) & UARTFR_TXFF) {
    }
    *uart_reg(UARTDR) = (uint8_t)c;
    /* A carriage return on its own would leave the cursor on the line it ends. */
    if (c == '\r') uart_put_char('\n');
}

static void uart_put_str(const char *s)
{
    while (*s) uart_put_char(*s++);
}

/* The string the client left in the shared page, NUL-terminated, or the whole page if it is not. */
static void print_client_string(void)
{
    const volatile char *page = (const volatile char *)client_to_serial_vaddr;
    for (int i = 0; i < SHARED_PAGE_SIZE && page[i] != 0; i++) uart_put_char(page[i]);
}

/*
 * The FIFOs stay disabled (LCR_H.FEN is 0), so the UART holds one character per interrupt; 0 when
 * it holds none. Pipes send '\n' for Enter and some terminals ^H for backspace: the client expects
 * '\r' and DEL.
 */
static char uart_get_char(void)
{
    if (*uart_reg(UARTFR) & UARTFR_RXFE) return 0;
    char c = (char)(*uart_reg(UARTDR) & RECEIVE_DATA_MASK);
    if (c == '\n') return '\r';
    if (c == BACKSPACE) return DELETE;
    return c;
}

static int have_client(void)
{
    return (microkit_notifications >> CLIENT_CHANNEL) & 1;
}

void init(void)
{
    *uart_reg(UARTIMSC) = UARTIMSC_RX_AND_TIMEOUT;
    uart_put_str("SERIAL SERVER: starting\n");
}

void notified(microkit_channel ch)
{
    switch (ch) {
    case UART_IRQ_CHANNEL: {
        char c = uart_get_char();
        *uart_reg(UARTICR) = UARTICR_ALL;
        microkit_irq_ack(ch);
        if (!have_client()) {
            if (c != 0) uart_put_char(c);
            break;
        }
        *(volatile char *)serial_to_client_vaddr = c;
        microkit_notify(CLIENT_CHANNEL);
        break;
    }
    case CLIENT_CHANNEL:
        print_client_string();
        break;
    }
}
