/* The IPC benchmark's client: ROUNDS protected procedure calls to the server with one message register each. */
#include <microkit.h>

#define SERVER 0

void init(void)
{
    seL4_Word sum = 0;
    for (seL4_Word i = 0; i < ROUNDS; i++) {
        microkit_mr_set(0, i);
        microkit_ppcall(SERVER, microkit_msginfo_new(0, 1));
        sum += microkit_mr_get(0);
    }
    /* The server answers i + 1: the sum shows every reply arrived. */
    microkit_dbg_puts(sum == (seL4_Word)ROUNDS * (ROUNDS + 1) / 2 ? "client: replies OK\n" : "client: WRONG replies\n");
}

void notified(microkit_channel ch)
{
    (void)ch;
}
