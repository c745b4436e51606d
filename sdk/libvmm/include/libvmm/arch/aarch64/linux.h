/* virtkit's libvmm: loading an arm64 Linux kernel, its device tree and initrd into guest RAM. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Copies the kernel Image to `ram_start` + its header's text_offset, the DTB to `dtb_dest` and the
 * initrd to `initrd_dest` (guest addresses the VMM maps at the same addresses, as libvmm's examples
 * do), after checking the Image header and that nothing overlaps. Returns the kernel's entry point,
 * or 0 after printing what is wrong.
 */
uintptr_t linux_setup_images(uintptr_t ram_start, uintptr_t kernel, size_t kernel_size, uintptr_t dtb_src,
                             uintptr_t dtb_dest, size_t dtb_size, uintptr_t initrd_src, uintptr_t initrd_dest,
                             size_t initrd_size);
