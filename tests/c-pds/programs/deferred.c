/*
 * Notifies its peer (channel 0) from init, deferred or at once (-DAT_ONCE): a deferred notify is
 * sent with the handler loop's next receive, so a higher-priority peer runs only after init ends.
 */
#include <microkit.h>

void init(void)
{
#ifdef AT_ONCE
    microkit_notify(0);
#else
    microkit_deferred_notify(0);
#endif
    microkit_dbg_puts("deferred: init done\n");
}

void notified(microkit_channel ch)
{
    microkit_dbg_puts("deferred: notified back on ");
    microkit_dbg_put32(ch);
    microkit_dbg_puts("\n");
}
