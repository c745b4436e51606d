/* The IPC benchmark's notify ping-pong: PING starts; the pair bounces ROUNDS notifications each way. */
#include <microkit.h>

#define PEER 0

static seL4_Word count;

void init(void)
{
#ifdef PING
    microkit_notify(PEER);
#endif
}

void notified(microkit_channel ch)
{
    (void)ch;
    count++;
#ifdef PING
    if (count == ROUNDS) {
        microkit_dbg_puts("ping: done\n");
        return;
    }
#endif
    microkit_notify(PEER);
}
