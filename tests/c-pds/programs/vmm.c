/*
 * A C VMM: starts a tiny guest (written into its RAM here) on vCPU 0; the guest's HVCs arrive as
 * VCPU faults, whose registers the VMM reads through the vCPU's TCB and VCPU object. The first
 * fault resumes the guest, the second stops it.
 */
#include <microkit.h>

#define GUEST_RAM 0x40000000ul
#define ENTRY 0x40080000ul
#define VCPU 0

uintptr_t guest_ram_vaddr;

/* movz x0, #0x42; hvc #0; movz x1, #7; hvc #1; b . */
static const uint32_t guest[] = { 0xd2800840, 0xd4000002, 0xd28000e1, 0xd4000022, 0x14000000 };

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
    volatile uint32_t *code = (volatile uint32_t *)(guest_ram_vaddr + (ENTRY - GUEST_RAM));
    for (unsigned i = 0; i < sizeof(guest) / sizeof(guest[0]); i++) code[i] = guest[i];
    microkit_dbg_puts("vmm: starting guest\n");
    microkit_vcpu_restart(VCPU, ENTRY);
}

void notified(microkit_channel ch)
{
    (void)ch;
}

seL4_Bool fault(microkit_child child, microkit_msginfo msginfo, microkit_msginfo *reply_msginfo)
{
    /* The fault message first: the invocations below reuse the message registers. */
    seL4_Word hsr = seL4_GetMR(seL4_VCPUFault_HSR);
    seL4_UserContext regs;
    seL4_Error err = seL4_TCB_ReadRegisters(BASE_VM_TCB_CAP + child, seL4_False, 0, 5, &regs);
    microkit_dbg_puts("vmm: vcpu ");
    put_hex(child);
    microkit_dbg_puts(" fault label ");
    put_hex(microkit_msginfo_get_label(msginfo));
    microkit_dbg_puts(" hsr ");
    put_hex(hsr);
    microkit_dbg_puts(" pc ");
    put_hex(regs.pc);
    microkit_dbg_puts(" x0 ");
    put_hex(regs.x0);
    microkit_dbg_puts(" x1 ");
    put_hex(regs.x1);
    microkit_dbg_puts(err == seL4_NoError ? "\n" : " (read failed)\n");
    if (regs.x1 == 0) {
        /* A second injection into a busy list register, and a VPPI the kernel did not raise, are refused. */
        seL4_Error first = seL4_ARM_VCPU_InjectIRQ(BASE_VCPU_CAP + child, 40, 0, 1, 0);
        seL4_Error again = seL4_ARM_VCPU_InjectIRQ(BASE_VCPU_CAP + child, 41, 0, 1, 0);
        seL4_Error vppi = seL4_ARM_VCPU_AckVPPI(BASE_VCPU_CAP + child, 40);
        microkit_dbg_puts("vmm: inject ");
        microkit_dbg_put32(first);
        microkit_dbg_puts(", into the same list register ");
        microkit_dbg_put32(again);
        microkit_dbg_puts(", ack of VPPI 40 ");
        microkit_dbg_put32(vppi);
        microkit_dbg_puts("\n");
        microkit_dbg_puts("vmm: guest SCTLR_EL1 ");
        put_hex(microkit_vcpu_arm_read_reg(child, seL4_VCPUReg_SCTLR));
        microkit_dbg_puts(", resuming\n");
        *reply_msginfo = microkit_msginfo_new(0, 0);
        return seL4_True;
    }
    microkit_vcpu_stop(child);
    microkit_dbg_puts("vmm: guest stopped\n");
    return seL4_False;
}
