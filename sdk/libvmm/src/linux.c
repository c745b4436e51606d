/* virtkit's libvmm: an arm64 Linux kernel, its device tree and initrd into guest RAM (booting.rst's rules). */
#include "internal.h"
#include <libvmm/arch/aarch64/linux.h>

static uint64_t read64(uintptr_t address)
{
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--) value = (value << 8) | *(const uint8_t *)(address + i);
    return value;
}

static bool overlaps(uintptr_t a, size_t a_size, uintptr_t b, size_t b_size)
{
    return a < b + b_size && b < a + a_size;
}

static bool inside_ram(uintptr_t ram_start, const char *what, uintptr_t start, size_t size)
{
    if (start >= ram_start && start + size <= ram_start + GUEST_RAM_SIZE) return true;
    LOG_VMM_ERR("the %s (0x%lx, %lu bytes) does not fit in guest RAM 0x%lx-0x%lx: place it lower, or give "
                "the guest more RAM\n",
                what, (unsigned long)start, (unsigned long)size, (unsigned long)ram_start,
                (unsigned long)(ram_start + GUEST_RAM_SIZE));
    return false;
}

uintptr_t linux_setup_images(uintptr_t ram_start, uintptr_t kernel, size_t kernel_size, uintptr_t dtb_src,
                             uintptr_t dtb_dest, size_t dtb_size, uintptr_t initrd_src, uintptr_t initrd_dest,
                             size_t initrd_size)
{
    if (kernel_size < ARM64_IMAGE_HEADER_SIZE
        || (read64(kernel + ARM64_IMAGE_MAGIC_OFFSET) & 0xffffffff) != ARM64_IMAGE_MAGIC) {
        LOG_VMM_ERR("the kernel (%lu bytes) is no arm64 Linux Image: its magic at byte 56 is not \"ARM\\x64\"; "
                    "give the VMM arch/arm64/boot/Image, not vmlinux or a compressed Image\n",
                    (unsigned long)kernel_size);
        return 0;
    }
    uintptr_t kernel_dest = ram_start + read64(kernel + ARM64_IMAGE_TEXT_OFFSET);
    /* image_size includes the BSS. */
    size_t kernel_extent = read64(kernel + ARM64_IMAGE_IMAGE_SIZE);
    if (kernel_extent == 0) {
        LOG_VMM_ERR("the kernel's image_size is 0, so it is older than Linux 3.17 and does not say how much RAM it "
                    "needs; use a newer kernel\n");
        return 0;
    }
    if (kernel_extent < kernel_size) kernel_extent = kernel_size;
    if (!inside_ram(ram_start, "kernel", kernel_dest, kernel_extent) || !inside_ram(ram_start, "DTB", dtb_dest, dtb_size)
        || (initrd_size && !inside_ram(ram_start, "initial RAM disk", initrd_dest, initrd_size))) {
        return 0;
    }
    if (overlaps(kernel_dest, kernel_extent, dtb_dest, dtb_size)
        || (initrd_size && overlaps(kernel_dest, kernel_extent, initrd_dest, initrd_size))
        || (initrd_size && overlaps(dtb_dest, dtb_size, initrd_dest, initrd_size))) {
        LOG_VMM_ERR("the guest's images overlap: kernel 0x%lx-0x%lx (its BSS included), DTB 0x%lx-0x%lx, initial "
                    "RAM disk 0x%lx-0x%lx: move the DTB or the initrd\n",
                    (unsigned long)kernel_dest, (unsigned long)(kernel_dest + kernel_extent), (unsigned long)dtb_dest,
                    (unsigned long)(dtb_dest + dtb_size), (unsigned long)initrd_dest,
                    (unsigned long)(initrd_dest + initrd_size));
        return 0;
    }
    LOG_VMM("copying the kernel (%lu bytes) to 0x%lx, the DTB (%lu bytes) to 0x%lx, the initial RAM disk (%lu "
            "bytes) to 0x%lx\n",
            (unsigned long)kernel_size, (unsigned long)kernel_dest, (unsigned long)dtb_size, (unsigned long)dtb_dest,
            (unsigned long)initrd_size, (unsigned long)initrd_dest);
    memcpy((void *)kernel_dest, (const void *)kernel, kernel_size);
    memcpy((void *)dtb_dest, (const void *)dtb_src, dtb_size);
    if (initrd_size) memcpy((void *)initrd_dest, (const void *)initrd_src, initrd_size);
    return kernel_dest;
}
