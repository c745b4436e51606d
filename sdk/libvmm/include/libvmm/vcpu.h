/* virtkit's libvmm: a vCPU's registers for debugging (libvmm's vcpu_print_regs). */
#pragma once

#include <stddef.h>

/* Prints the vCPU's PC, SP, SPSR, x0-x30 and its main EL1 system registers. */
void vcpu_print_regs(size_t vcpu_id);
