/*
 * A parent PD: its child 1 faults; the first fault restarts the child, the second stops it. Also
 * invokes the child's TCB with a label a TCB does not take, to show seL4's error coming back.
 */
#include <microkit.h>

#define CHILD 1

static unsigned faults;

static void put_hex(seL4_Word n)
{
    microkit_dbg_puts("0x");
    for (int shift = 60; shift >= 0; shift -= 4) {
        int digit = (n >> shift) & 0xf;
        if (shift == 0 || (n >> shift) != 0) microkit_dbg_putc(digit < 10 ? '0' + digit : 'a' + digit - 10);
    }
}

void init(void)
{
    seL4_MessageInfo_t reply = seL4_Call(BASE_TCB_CAP + CHILD, seL4_MessageInfo_new(IRQAckIRQ, 0, 0, 0));
    microkit_dbg_puts("parent: bad TCB invocation returned error ");
    put_hex(seL4_MessageInfo_get_label(reply));
    microkit_dbg_puts("\n");
}

void notified(microkit_channel ch)
{
    (void)ch;
}

seL4_Bool fault(microkit_child child, microkit_msginfo msginfo, microkit_msginfo *reply_msginfo)
{
    faults++;
    microkit_dbg_puts("parent: child ");
    put_hex(child);
    microkit_dbg_puts(" fault label ");
    put_hex(microkit_msginfo_get_label(msginfo));
    microkit_dbg_puts(" addr ");
    put_hex(seL4_GetMR(seL4_VMFault_Addr));
    microkit_dbg_puts("\n");
    if (faults == 1) {
        microkit_pd_restart(child, 0x200000);
    } else {
        microkit_pd_stop(child);
        microkit_dbg_puts("parent: child stopped\n");
    }
    *reply_msginfo = microkit_msginfo_new(0, 0);
    return seL4_False;
}
