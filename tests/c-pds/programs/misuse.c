/*
 * Misuses channels: notify on a channel it lacks, PPC without pp, ack of an IRQ it does not own,
 * and a raw signal on an empty slot.
 */
#include <microkit.h>

void init(void)
{
    microkit_notify(5);
    microkit_ppcall(0, microkit_msginfo_new(0, 0));
    microkit_irq_ack(3);
    seL4_Signal(BASE_OUTPUT_NOTIFICATION_CAP + 7);
    microkit_dbg_puts("misuse: still running\n");
}

void notified(microkit_channel ch)
{
    (void)ch;
}
