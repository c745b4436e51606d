/*
 * libvmm's "simple" VMM in C: boots one Linux guest on vCPU 0 with the board's UART passed through,
 * using the SDK's libvmm. The guest's images are embedded by package_guest_images.S.
 */
#include <microkit.h>
#include <libvmm/util/util.h>
#include <libvmm/board.h>
#include <libvmm/guest.h>
#include <libvmm/virq.h>
#include <libvmm/arch/aarch64/linux.h>
#include <libvmm/arch/aarch64/fault.h>

#define GUEST_VCPU_ID 0
/* The channel of the UART's <irq> in board/<board>/simple.system. */
#define SERIAL_IRQ_CH 1

/* Patched by the Microkit tool: where the VMM maps guest RAM (setvar_vaddr). */
uintptr_t guest_ram_vaddr;

extern char _guest_kernel_image[], _guest_kernel_image_end[];
extern char _guest_dtb_image[], _guest_dtb_image_end[];
extern char _guest_initrd_image[], _guest_initrd_image_end[];

void init(void)
{
    LOG_VMM("starting \"%s\"\n", microkit_name);
    size_t kernel_size = _guest_kernel_image_end - _guest_kernel_image;
    size_t dtb_size = _guest_dtb_image_end - _guest_dtb_image;
    size_t initrd_size = _guest_initrd_image_end - _guest_initrd_image;
    uintptr_t kernel_pc = linux_setup_images(guest_ram_vaddr, (uintptr_t)_guest_kernel_image, kernel_size,
                                             (uintptr_t)_guest_dtb_image, GUEST_DTB_VADDR, dtb_size,
                                             (uintptr_t)_guest_initrd_image, GUEST_INIT_RAM_DISK_VADDR, initrd_size);
    if (!kernel_pc) {
        LOG_VMM_ERR("failed to set up the guest's images\n");
        return;
    }
    if (!virq_controller_init(GUEST_VCPU_ID)) {
        LOG_VMM_ERR("failed to initialise the emulated interrupt controller\n");
        return;
    }
    /* The UART's interrupt, passed through: injected on SERIAL_IRQ_CH, acked when the guest EOIs it. */
    if (!virq_register_passthrough(GUEST_VCPU_ID, SERIAL_IRQ, SERIAL_IRQ_CH)) return;
    /* An interrupt that arrived before the guest could take it is acked, so the next one comes. */
    microkit_irq_ack(SERIAL_IRQ_CH);
    guest_start(GUEST_VCPU_ID, kernel_pc, GUEST_DTB_VADDR, GUEST_INIT_RAM_DISK_VADDR);
}

void notified(microkit_channel ch)
{
    if (!virq_handle_passthrough(ch)) LOG_VMM_ERR("unexpected notification on channel %u\n", ch);
}

seL4_Bool fault(microkit_child child, microkit_msginfo msginfo, microkit_msginfo *reply_msginfo)
{
    if (fault_handle(child, msginfo)) {
        *reply_msginfo = microkit_msginfo_new(0, 0);
        return seL4_True;
    }
    return seL4_False;
}
