/*
 * virtkit's libmicrokit: the variables the tool patches, debug output, the weak default entry
 * points, and the handler loop that receives on the PD's input endpoint and dispatches events.
 */
#include <microkit.h>

char microkit_name[MICROKIT_PD_NAME_LENGTH] = { 0 };
seL4_Bool microkit_passive = seL4_False;
seL4_Word microkit_irqs = 0;
seL4_Word microkit_notifications = 0;
seL4_Word microkit_pps = 0;

seL4_Bool microkit_have_signal = seL4_False;
seL4_CPtr microkit_signal_cap;
seL4_MessageInfo_t microkit_signal_msg;

/* The IPC buffer has a page of its own; the tool finds it by this symbol. */
seL4_IPCBuffer __sel4_ipc_buffer_obj __attribute__((__aligned__(4096), __section__(".bss.ipc_buffer")));
seL4_IPCBuffer *__sel4_ipc_buffer = &__sel4_ipc_buffer_obj;

void microkit_dbg_putc(int c)
{
    seL4_DebugPutChar((char)c);
}

void microkit_dbg_puts(const char *s)
{
    while (*s) seL4_DebugPutChar(*s++);
}

static void put_unsigned(seL4_Word value)
{
    char digits[21];
    int n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (n > 0) microkit_dbg_putc(digits[--n]);
}

void microkit_dbg_put8(seL4_Uint8 x)
{
    put_unsigned(x);
}

void microkit_dbg_put32(seL4_Uint32 x)
{
    put_unsigned(x);
}

void microkit_virtkit_invalid_channel(const char *fn, microkit_channel ch)
{
    microkit_dbg_puts(microkit_name);
    microkit_dbg_puts(" ");
    microkit_dbg_puts(fn);
    microkit_dbg_puts(": invalid channel given '");
    put_unsigned(ch);
    microkit_dbg_puts("'\n");
}

void microkit_internal_crash(seL4_Error err)
{
    /* A write to the small address `err` faults: the monitor reports it with this PD's name. */
    *(volatile seL4_Word *)(uintptr_t)err = 0;
    for (;;) {
    }
}

static void missing_entry_point(const char *entry)
{
    microkit_dbg_puts(microkit_name);
    microkit_dbg_puts(" is missing the '");
    microkit_dbg_puts(entry);
    microkit_dbg_puts("' entry point\n");
    microkit_internal_crash(0);
}

__attribute__((weak)) microkit_msginfo protected(microkit_channel ch, microkit_msginfo msginfo)
{
    (void)ch;
    (void)msginfo;
    missing_entry_point("protected");
    return seL4_MessageInfo_new(0, 0, 0, 0);
}

__attribute__((weak)) seL4_Bool fault(microkit_child child, microkit_msginfo msginfo, microkit_msginfo *reply)
{
    (void)child;
    (void)msginfo;
    (void)reply;
    missing_entry_point("fault");
    return seL4_False;
}

static void handler_loop(void)
{
    seL4_Bool have_reply = seL4_False;
    seL4_MessageInfo_t reply = seL4_MessageInfo_new(0, 0, 0, 0);
    for (;;) {
        seL4_Word badge;
        seL4_MessageInfo_t tag;
        if (have_reply) {
            tag = seL4_ReplyRecv(INPUT_CAP, reply, &badge, REPLY_CAP);
        } else if (microkit_have_signal) {
            tag = seL4_NBSendRecv(microkit_signal_cap, microkit_signal_msg, INPUT_CAP, &badge, REPLY_CAP);
            microkit_have_signal = seL4_False;
        } else {
            tag = seL4_Recv(INPUT_CAP, &badge, REPLY_CAP);
        }
        have_reply = seL4_False;
        if ((badge >> MICROKIT_PPC_BADGE_BIT) & 1) {
            reply = protected((microkit_channel)(badge & 0x3f), tag);
            have_reply = seL4_True;
        } else if ((badge >> MICROKIT_FAULT_BADGE_BIT) & 1) {
            have_reply = fault((microkit_child)(badge & 0xff), tag, &reply);
        } else {
            for (microkit_channel ch = 0; badge != 0; ch++, badge >>= 1) {
                if (badge & 1) notified(ch);
            }
        }
    }
}

/* Entered from _start on the stack the tool set up. */
void microkit_virtkit_main(void)
{
    init();
    handler_loop();
}
