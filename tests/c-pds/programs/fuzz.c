/*
 * Makes ITERATIONS random Call, Send, NBSend and Yield syscalls: random slots (empty or not), labels,
 * lengths and message registers. The kernel model must answer every one without failing.
 */
#include <microkit.h>

static seL4_Word state = 0x9e3779b97f4a7c15ull;

static seL4_Word next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

void init(void)
{
    seL4_Word errors = 0;
    for (int i = 0; i < ITERATIONS; i++) {
        seL4_CPtr cap = next() % 400;
        seL4_Word label = next() % 64;
        seL4_Word length = next() % 128;
        for (int mr = 0; mr < 8; mr++) seL4_SetMR(mr, next());
        seL4_MessageInfo_t info = seL4_MessageInfo_new(label, 0, 0, length);
        switch (next() % 4) {
        case 0:
            errors += seL4_MessageInfo_get_label(seL4_Call(cap, info)) != 0;
            break;
        case 1:
            seL4_Send(cap, info);
            break;
        case 2:
            seL4_NBSend(cap, info);
            break;
        default:
            seL4_Yield();
        }
    }
    microkit_dbg_puts("fuzz: survived, ");
    microkit_dbg_put32(errors);
    microkit_dbg_puts(" calls refused\n");
}

void notified(microkit_channel ch)
{
    (void)ch;
}
