/*
 * A C VMM on the SDK's libvmm for a tiny guest (libvmm_guest.S, embedded by the test): libvmm's
 * refusals, then every fault through fault_handle, except the guest's HVC #1, which prints its
 * registers, and HVC #2, which injects eight SPIs.
 */
#include <microkit.h>
#include <libvmm/util/util.h>
#include <libvmm/facts.h>
#include <libvmm/guest.h>
#include <libvmm/virq.h>
#include <libvmm/vcpu.h>
#include <libvmm/arch/aarch64/fault.h>

#define GUEST_ENTRY 0x40000000
#define PRINT_REGS_HVC 1
#define INJECT_SPIS_HVC 2
/* The SPIs the guest asks for with HVC #2: more than the list registers hold. */
#define FIRST_SPI 32
#define SPI_COUNT 8

uintptr_t guest_ram_vaddr;
extern char _guest[], _guest_end[];

/* GUEST_BINARY: the guest's path as a C string of a quoted string, from the test's compile line. */
__asm__(".section .rodata\n.global _guest, _guest_end\n.balign 8\n_guest:\n.incbin " GUEST_BINARY "\n_guest_end:\n.previous");

static void spi_ack(size_t vcpu_id, int irq, void *cookie)
{
    (void)cookie;
    printf("vmm: vCPU %zu EOI of %d\n", vcpu_id, irq);
}

/* A region of the VMM's own at 0x50000000: writes are printed, reads return a pattern. */
#define OWN_REGION 0x50000000
#define OWN_REGION_SIZE 0x10

static bool own_region(size_t vcpu_id, size_t offset, size_t fsr, seL4_UserContext *regs, void *data)
{
    (void)data;
    if (fault_is_write(fsr)) {
        printf("vmm: vCPU %zu wrote 0x%lx (%zu bytes) at offset %zu\n", vcpu_id, (unsigned long)fault_get_data(regs, fsr),
               fault_access_size(fsr), offset);
    } else {
        fault_emulate_read(regs, fsr, 0x1122334455667788ull + offset);
    }
    return true;
}

void init(void)
{
    memcpy((void *)guest_ram_vaddr, _guest, _guest_end - _guest);
    printf("vmm: inject before register: %d\n", virq_inject(0, 40));
    printf("vmm: controller: %d\n", virq_controller_init(0));
    printf("vmm: register SGI 3: %d\n", virq_register(0, 3, NULL, NULL));
    printf("vmm: register SPI 40 on vCPU 4: %d\n", virq_register(4, 40, NULL, NULL));
    printf("vmm: start vCPU 4: %d\n", guest_start(4, GUEST_ENTRY, 0, 0));
    for (int i = 0; i < SPI_COUNT; i++) virq_register(0, FIRST_SPI + i, spi_ack, NULL);
    fault_register_vm_exception_handler(OWN_REGION, OWN_REGION_SIZE, own_region, NULL);
    guest_start(0, GUEST_ENTRY, 0, 0);
}

void notified(microkit_channel ch)
{
    printf("vmm: notified on %u\n", ch);
}

seL4_Bool fault(microkit_child child, microkit_msginfo msginfo, microkit_msginfo *reply_msginfo)
{
    seL4_Word hsr = seL4_GetMR(seL4_VCPUFault_HSR);
    if (microkit_msginfo_get_label(msginfo) == seL4_Fault_VCPUFault
        && ((hsr >> ESR_EC_SHIFT) & ESR_EC_MASK) == ESR_EC_HVC64) {
        /* ISS bits 15:0: the HVC's immediate. */
        if ((hsr & 0xffff) == PRINT_REGS_HVC) vcpu_print_regs(child);
        if ((hsr & 0xffff) == INJECT_SPIS_HVC) {
            for (int i = 0; i < SPI_COUNT; i++) virq_inject(child, FIRST_SPI + i);
        }
        *reply_msginfo = microkit_msginfo_new(0, 0);
        return seL4_True;
    }
    if (fault_handle(child, msginfo)) {
        *reply_msginfo = microkit_msginfo_new(0, 0);
        return seL4_True;
    }
    printf("vmm: vCPU %u left stopped\n", child);
    return seL4_False;
}
