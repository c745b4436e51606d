/* virtkit's libvmm: starting, stopping, sleeping and waking the guest's vCPUs. */
#include "internal.h"

static bool vcpu_on[GUEST_MAX_VCPUS];
static bool vcpu_sleeping[GUEST_MAX_VCPUS];
static seL4_Word vcpu_sleep_pc[GUEST_MAX_VCPUS];

bool read_vcpu_registers(size_t vcpu_id, seL4_UserContext *regs)
{
    seL4_Error err = seL4_TCB_ReadRegisters(VCPU_TCB_CAP(vcpu_id), seL4_False, 0, USER_CONTEXT_WORDS, regs);
    if (err != seL4_NoError) LOG_VMM_ERR("could not read the registers of vCPU %zu (seL4 error %d)\n", vcpu_id, err);
    return err == seL4_NoError;
}

bool write_vcpu_registers(size_t vcpu_id, seL4_UserContext *regs, bool resume)
{
    seL4_Error err = seL4_TCB_WriteRegisters(VCPU_TCB_CAP(vcpu_id), resume, 0, USER_CONTEXT_WORDS, regs);
    if (err != seL4_NoError) LOG_VMM_ERR("could not write the registers of vCPU %zu (seL4 error %d)\n", vcpu_id, err);
    return err == seL4_NoError;
}

bool guest_vcpu_is_on(size_t vcpu_id)
{
    return vcpu_id < GUEST_MAX_VCPUS && vcpu_on[vcpu_id];
}

bool guest_vcpu_start(size_t vcpu_id, uintptr_t pc, uint64_t x0)
{
    if (vcpu_id >= GUEST_MAX_VCPUS) {
        LOG_VMM_ERR("vCPU %zu: libvmm handles vCPUs 0 to %d\n", vcpu_id, GUEST_MAX_VCPUS - 1);
        return false;
    }
    /* The EL1 state a new boot must not inherit: the MMU and caches off, the virtual timer disabled. */
    if (seL4_ARM_VCPU_WriteRegs(VCPU_OBJECT_CAP(vcpu_id), seL4_VCPUReg_SCTLR, VCPU_RESET_SCTLR_EL1) != seL4_NoError
        || seL4_ARM_VCPU_WriteRegs(VCPU_OBJECT_CAP(vcpu_id), seL4_VCPUReg_CNTV_CTL, VCPU_RESET_CNTV_CTL_EL0)
               != seL4_NoError) {
        LOG_VMM_ERR("vCPU %zu: no VCPU object: give the <virtual_machine> a <vcpu id=\"%zu\"/>\n", vcpu_id, vcpu_id);
        return false;
    }
    seL4_UserContext regs = { 0 };
    regs.pc = pc;
    regs.spsr = PSTATE_EL1H_DAIF_MASKED;
    regs.x0 = x0;
    vcpu_sleeping[vcpu_id] = false;
    if (!write_vcpu_registers(vcpu_id, &regs, true)) return false;
    vcpu_on[vcpu_id] = true;
    return true;
}

bool guest_start(size_t boot_vcpu_id, uintptr_t kernel_pc, uintptr_t dtb, uintptr_t initrd)
{
    LOG_VMM("starting guest at 0x%lx, DTB at 0x%lx, initial RAM disk at 0x%lx\n", (unsigned long)kernel_pc,
            (unsigned long)dtb, (unsigned long)initrd);
    return guest_vcpu_start(boot_vcpu_id, kernel_pc, dtb);
}

void guest_stop(size_t vcpu_id)
{
    if (vcpu_id < GUEST_MAX_VCPUS) {
        vcpu_on[vcpu_id] = false;
        vcpu_sleeping[vcpu_id] = false;
    }
    microkit_vcpu_stop(vcpu_id);
}

void guest_vcpu_sleep(size_t vcpu_id, seL4_Word pc)
{
    vcpu_sleeping[vcpu_id] = true;
    vcpu_sleep_pc[vcpu_id] = pc;
}

void guest_vcpu_wake(size_t vcpu_id)
{
    if (vcpu_id >= GUEST_MAX_VCPUS || !vcpu_sleeping[vcpu_id]) return;
    vcpu_sleeping[vcpu_id] = false;
    microkit_vcpu_restart(vcpu_id, vcpu_sleep_pc[vcpu_id]);
}
