/*
 * virtkit's libvmm: the guest's HVC and SMC calls: SMCCC's version and feature discovery and PSCI 1.1
 * (Arm DEN0022), the calls Linux makes. Other calls get SMCCC's NOT_SUPPORTED.
 */
#include "internal.h"

/* Aff0 of an MPIDR: a vCPU's id (libvmm's vCPUs have Aff1-Aff3 zero). */
#define MPIDR_AFF0_MASK 0xff

/* The vCPU an MPIDR names, or GUEST_MAX_VCPUS when none. */
static size_t vcpu_at(uint64_t mpidr)
{
    uint64_t affinity = mpidr & MPIDR_AFFINITY_MASK;
    if (affinity & ~(uint64_t)MPIDR_AFF0_MASK || affinity >= GUEST_MAX_VCPUS) return GUEST_MAX_VCPUS;
    return affinity;
}

static bool psci_implemented(uint32_t function)
{
    switch (function) {
    case PSCI_VERSION:
    case PSCI_CPU_SUSPEND:
    case PSCI_CPU_OFF:
    case PSCI_CPU_ON:
    case PSCI_AFFINITY_INFO:
    case PSCI_MIGRATE_INFO_TYPE:
    case PSCI_SYSTEM_OFF:
    case PSCI_SYSTEM_RESET:
    case PSCI_FEATURES:
        return true;
    }
    return false;
}

static bool is_psci(uint32_t id)
{
    return ((id >> SMCCC_SERVICE_SHIFT) & SMCCC_SERVICE_MASK) == SMCCC_SERVICE_STANDARD;
}

static call_outcome_t psci(size_t vcpu_id, seL4_UserContext *regs, uint32_t id)
{
    uint32_t function = id & SMCCC_FUNCTION_MASK;
    /* SMC32 calls take their arguments in the W registers. */
    uint64_t mask = (id & SMCCC_SMC64) ? ~0ull : 0xffffffffull;
    uint64_t x1 = regs->x1 & mask, x2 = regs->x2 & mask, x3 = regs->x3 & mask;
    int64_t result = PSCI_RET_SUCCESS;
    switch (function) {
    case PSCI_VERSION:
        result = PSCI_VERSION_1_1;
        break;
    case PSCI_FEATURES: {
        uint32_t queried = x1 & 0xffffffff;
        bool known = queried == SMCCC_VERSION || (is_psci(queried) && psci_implemented(queried & SMCCC_FUNCTION_MASK));
        result = known ? PSCI_RET_SUCCESS : PSCI_RET_NOT_SUPPORTED;
        break;
    }
    case PSCI_MIGRATE_INFO_TYPE:
        result = PSCI_MIGRATE_INFO_TYPE_NOT_PRESENT;
        break;
    case PSCI_AFFINITY_INFO: {
        size_t target = vcpu_at(x1);
        result = target >= GUEST_MAX_VCPUS  ? PSCI_RET_INVALID_PARAMETERS
                 : guest_vcpu_is_on(target) ? PSCI_AFFINITY_INFO_ON
                                            : PSCI_AFFINITY_INFO_OFF;
        break;
    }
    case PSCI_CPU_ON: {
        size_t target = vcpu_at(x1);
        if (target >= GUEST_MAX_VCPUS) {
            result = PSCI_RET_INVALID_PARAMETERS;
        } else if (guest_vcpu_is_on(target)) {
            result = PSCI_RET_ALREADY_ON;
        } else if (x2 < GUEST_RAM_PADDR || x2 >= GUEST_RAM_PADDR + GUEST_RAM_SIZE) {
            result = PSCI_RET_INVALID_ADDRESS;
        } else {
            vgic_register_vtimer(target);
            LOG_VMM("starting vCPU %zu at 0x%lx\n", target, (unsigned long)x2);
            result = guest_vcpu_start(target, x2, x3) ? PSCI_RET_SUCCESS : PSCI_RET_INVALID_PARAMETERS;
        }
        break;
    }
    case PSCI_CPU_SUSPEND:
        /* Standby: as WFI, until an interrupt. */
        regs->x0 = PSCI_RET_SUCCESS;
        return CALL_WAIT_FOR_INTERRUPT;
    case PSCI_CPU_OFF:
        guest_stop(vcpu_id);
        return CALL_STOPPED;
    case PSCI_SYSTEM_OFF:
        LOG_VMM("the guest powered off (PSCI SYSTEM_OFF)\n");
        for (size_t v = 0; v < GUEST_MAX_VCPUS; v++)
            if (guest_vcpu_is_on(v)) guest_stop(v);
        return CALL_STOPPED;
    case PSCI_SYSTEM_RESET:
        LOG_VMM_ERR("the guest asked for a reset (PSCI SYSTEM_RESET), which this VMM does not do: vCPU %zu "
                    "stopped\n",
                    vcpu_id);
        guest_stop(vcpu_id);
        return CALL_STOPPED;
    default:
        result = PSCI_RET_NOT_SUPPORTED;
    }
    regs->x0 = (uint64_t)result;
    return CALL_RESUME;
}

call_outcome_t smccc_handle(size_t vcpu_id, seL4_UserContext *regs)
{
    uint32_t id = regs->x0 & 0xffffffff;
    if (id == SMCCC_VERSION) {
        regs->x0 = SMCCC_VERSION_1_1;
        return CALL_RESUME;
    }
    if (is_psci(id)) return psci(vcpu_id, regs, id);
    if (id != SMCCC_ARCH_FEATURES) {
        LOG_VMM("vCPU %zu: SMCCC call 0x%x at pc 0x%lx is not one this VMM answers: NOT_SUPPORTED\n", vcpu_id, id,
                regs->pc);
    }
    regs->x0 = (uint64_t)(int64_t)SMCCC_NOT_SUPPORTED;
    return CALL_RESUME;
}
