/*
 * virtkit's libvmm: the guest's virtual interrupts, over an emulated GICv2 distributor and the vCPU's
 * list registers (libvmm's virq_* API).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <microkit.h>

/* Called once the guest has finished with an interrupt (its EOI), e.g. to ack the host's IRQ. */
typedef void (*virq_ack_fn_t)(size_t vcpu_id, int irq, void *cookie);

/* Sets up the distributor and the virtual timer's interrupt of every vCPU. */
bool virq_controller_init(size_t boot_vcpu_id);
/* Makes `virq` injectable into `vcpu_id`; `ack_fn` runs at its EOI. */
bool virq_register(size_t vcpu_id, size_t virq, virq_ack_fn_t ack_fn, void *ack_data);
/* Raises `irq` in the guest: into a free list register, or queued until one frees. */
bool virq_inject(size_t vcpu_id, int irq);
/* Passes the IRQ arriving on channel `irq_ch` through as `irq`: injected by virq_handle_passthrough, acked at EOI. */
bool virq_register_passthrough(size_t vcpu_id, size_t irq, microkit_channel irq_ch);
/* For notified(): injects the IRQ passed through on `irq_ch`; false for any other channel. */
bool virq_handle_passthrough(microkit_channel irq_ch);
