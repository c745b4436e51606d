/*
 * Part 4's VMM in C: boots the Linux guest (kernel, device tree and initrd with the Wordle overlay,
 * embedded by ../c-simple/package_guest_images.S) with the board's NIC passed through. The guest
 * writes the word it fetched to guest-physical WORD_GPA, one byte store per letter; nothing is mapped
 * there, so each store faults to this VMM, which keeps the letter. The fifth stops the guest and goes
 * to the Wordle server by PPC.
 */
#include <microkit.h>
#include <libvmm/util/util.h>
#include <libvmm/board.h>
#include <libvmm/guest.h>
#include <libvmm/virq.h>
#include <libvmm/arch/aarch64/linux.h>
#include <libvmm/arch/aarch64/fault.h>
#include "wordle.h"

#define GUEST_VCPU_ID 0
/* The channels of ../wordle/part4.system: the PPC to the Wordle server, the NIC's <irq>. */
#define WORDLE_SERVER_CHANNEL 1
#define NIC_IRQ_CH 2
/* Where examples/wordle/overlay/etc/init.d/S60Wordle stores the word's letters. */
#define WORD_GPA 0x50000000

/* Patched by the Microkit tool: where the VMM maps guest RAM (setvar_vaddr). */
uintptr_t guest_ram_vaddr;

extern char _guest_kernel_image[], _guest_kernel_image_end[];
extern char _guest_dtb_image[], _guest_dtb_image_end[];
extern char _guest_initrd_image[], _guest_initrd_image_end[];

static char word[WORD_LENGTH];
/* Set by the store of the last letter; fault() then hands the word on instead of resuming the guest. */
static bool word_complete;

/* A store to the word's page: as the tutorial's VMM, keep the low byte of the store's data. */
static bool word_store(size_t vcpu_id, size_t offset, size_t fsr, seL4_UserContext *regs, void *data)
{
    (void)vcpu_id;
    (void)data;
    if (fault_is_write(fsr)) {
        word[offset] = fault_get_data(regs, fsr) & 0xff;
        if (offset == WORD_LENGTH - 1) word_complete = true;
    } else {
        fault_emulate_read(regs, fsr, 0);
    }
    return true;
}

void init(void)
{
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
    /* The NIC's interrupt, passed through: injected on NIC_IRQ_CH, acked when the guest EOIs it. */
    if (!virq_register_passthrough(GUEST_VCPU_ID, NIC_IRQ, NIC_IRQ_CH)) return;
    microkit_irq_ack(NIC_IRQ_CH);
    if (!fault_register_vm_exception_handler(WORD_GPA, WORD_LENGTH, word_store, NULL)) return;
    guest_start(GUEST_VCPU_ID, kernel_pc, GUEST_DTB_VADDR, GUEST_INIT_RAM_DISK_VADDR);
}

void notified(microkit_channel ch)
{
    if (!virq_handle_passthrough(ch)) LOG_VMM_ERR("unexpected notification on channel %u\n", ch);
}

seL4_Bool fault(microkit_child child, microkit_msginfo msginfo, microkit_msginfo *reply_msginfo)
{
    if (!fault_handle(child, msginfo)) return seL4_False;
    if (!word_complete) {
        *reply_msginfo = microkit_msginfo_new(0, 0);
        return seL4_True;
    }
    /* The guest's work is done: stop it, as the tutorial's VMM does, and give the word to the server. */
    word_complete = false;
    microkit_vcpu_stop(child);
    microkit_dbg_puts("VMM: the guest sent a word; handing it to the Wordle server (press Enter to redraw)\n");
    for (int i = 0; i < WORD_LENGTH; i++) microkit_mr_set(i, word[i]);
    microkit_ppcall(WORDLE_SERVER_CHANNEL, microkit_msginfo_new(0, WORD_LENGTH));
    return seL4_False;
}
