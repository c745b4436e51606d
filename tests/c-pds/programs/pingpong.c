/*
 * Notify ping-pong between two copies of this PD: PING starts, each bounces the notification back
 * until ROUNDS notifications have been seen, printing each one.
 */
#include <microkit.h>

#define PEER 0
#define ROUNDS 3

static unsigned count;

void init(void)
{
#ifdef PING
    microkit_dbg_puts("ping: start\n");
    microkit_notify(PEER);
#endif
}

void notified(microkit_channel ch)
{
    count++;
    microkit_dbg_puts(microkit_name);
    microkit_dbg_puts(": notified on ");
    microkit_dbg_putc('0' + ch);
    microkit_dbg_puts(", round ");
    microkit_dbg_putc('0' + count);
    microkit_dbg_puts("\n");
    if (count < ROUNDS) microkit_notify(PEER);
}
