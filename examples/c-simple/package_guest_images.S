/*
 * The guest's kernel, device tree and initial RAM disk, embedded in the VMM's ELF as libvmm's examples
 * do. The Makefile passes their paths (from `virtkit images path`) as GUEST_KERNEL_IMAGE_PATH,
 * GUEST_DTB_IMAGE_PATH and GUEST_INITRD_IMAGE_PATH.
 */
.section .rodata.guest_images, "a"

.global _guest_kernel_image, _guest_kernel_image_end
.global _guest_dtb_image, _guest_dtb_image_end
.global _guest_initrd_image, _guest_initrd_image_end

/* The kernel is copied with word loads and stores. */
.balign 8
_guest_kernel_image:
.incbin GUEST_KERNEL_IMAGE_PATH
_guest_kernel_image_end:

.balign 8
_guest_dtb_image:
.incbin GUEST_DTB_IMAGE_PATH
_guest_dtb_image_end:

.balign 8
_guest_initrd_image:
.incbin GUEST_INITRD_IMAGE_PATH
_guest_initrd_image_end:
