/*
 * virtkit's libvmm: a vCPU's faults (libvmm's fault_handle): stage-2 data aborts emulated by the
 * vGIC or a handler the VMM registers, WFI, PSCI and SMCCC calls, the vGIC's maintenance and the
 * virtual timer's events.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <microkit.h>

/* Emulates one access at `offset` into a registered region; read or set the data with the helpers below. */
typedef bool (*vm_exception_handler_t)(size_t vcpu_id, size_t offset, size_t fsr, seL4_UserContext *regs,
                                       void *data);

/* For fault(): handles the vCPU's fault; true means reply, resuming the vCPU. */
bool fault_handle(size_t vcpu_id, microkit_msginfo msginfo);
/* Emulates guest accesses to [base, base + size) with `handler`. */
bool fault_register_vm_exception_handler(uintptr_t base, size_t size, vm_exception_handler_t handler, void *data);

bool fault_is_write(uint64_t fsr);
bool fault_is_read(uint64_t fsr);
/* The access's width in bytes. */
size_t fault_access_size(uint64_t fsr);
/* The value a write stores: its source register, cut to the access's width. */
uint64_t fault_get_data(seL4_UserContext *regs, uint64_t fsr);
/* Completes a read: the value into the destination register, extended as the load would. */
void fault_emulate_read(seL4_UserContext *regs, uint64_t fsr, uint64_t value);
