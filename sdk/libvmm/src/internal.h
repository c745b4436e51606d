/* virtkit's libvmm: what the library's parts share and the VMM does not see. */
#pragma once

#include <libvmm/util/util.h>
#include <libvmm/facts.h>
#include <libvmm/board.h>
#include <libvmm/guest.h>
#include <libvmm/virq.h>
#include <libvmm/vcpu.h>
#include <libvmm/arch/aarch64/fault.h>

#define VCPU_TCB_CAP(vcpu) (BASE_VM_TCB_CAP + (vcpu))
#define VCPU_OBJECT_CAP(vcpu) (BASE_VCPU_CAP + (vcpu))
/* pc, sp, spsr, x0-x30 and the two thread-ID registers. */
#define USER_CONTEXT_WORDS (sizeof(seL4_UserContext) / sizeof(seL4_Word))

/* The emulated distributor's region handler (registered by virq_controller_init). */
bool vgic_distributor_access(size_t vcpu_id, size_t offset, size_t fsr, seL4_UserContext *regs, void *data);
/* A VGICMaintenance fault: the guest's EOI freed list register `lr`. */
void vgic_maintenance(size_t vcpu_id, size_t lr);
/* An interrupt is listed in, or waits for, the vCPU's list registers: WFI must not sleep. */
bool vgic_has_pending(size_t vcpu_id);
/* The virtual timer's interrupt of a vCPU that PSCI CPU_ON starts. */
void vgic_register_vtimer(size_t vcpu_id);

/* What a trapped call leaves the vCPU doing. */
typedef enum { CALL_RESUME, CALL_WAIT_FOR_INTERRUPT, CALL_STOPPED } call_outcome_t;
/* An HVC or SMC from the guest: SMCCC's discovery calls and PSCI. */
call_outcome_t smccc_handle(size_t vcpu_id, seL4_UserContext *regs);

bool guest_vcpu_is_on(size_t vcpu_id);
/* Starts a vCPU at `pc` with x0 = `x0` (boot and PSCI CPU_ON). */
bool guest_vcpu_start(size_t vcpu_id, uintptr_t pc, uint64_t x0);
/* Leaves the vCPU blocked until an interrupt is injected into it; it resumes at `pc`. */
void guest_vcpu_sleep(size_t vcpu_id, seL4_Word pc);
/* An interrupt was listed for the vCPU: if it sleeps, it runs again. */
void guest_vcpu_wake(size_t vcpu_id);

bool read_vcpu_registers(size_t vcpu_id, seL4_UserContext *regs);
bool write_vcpu_registers(size_t vcpu_id, seL4_UserContext *regs, bool resume);
