/* virtkit's libvmm: starting and stopping a guest (libvmm's guest_start and guest_stop). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Starts vCPU `boot_vcpu_id` at `kernel_pc` as the arm64 boot protocol asks: x0 the device tree's
 * guest address, EL1h with DAIF masked, MMU off. `initrd` is only logged (the device tree names it).
 */
bool guest_start(size_t boot_vcpu_id, uintptr_t kernel_pc, uintptr_t dtb, uintptr_t initrd);
/* Stops vCPU `vcpu_id`; it stays stopped until guest_start or PSCI CPU_ON starts it again. */
void guest_stop(size_t vcpu_id);
