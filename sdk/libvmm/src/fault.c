/*
 * virtkit's libvmm: what a vCPU's fault means and what the VMM does about it. A stage-2 data abort is
 * emulated by the region's handler (the vGIC distributor, or one the VMM registered) from the ESR's
 * instruction syndrome; WFI sleeps until an interrupt; HVC and SMC are SMCCC calls; the vGIC's
 * maintenance and the virtual timer's events become interrupts.
 */
#include "internal.h"

#define MAX_REGIONS 16
/* SRT 31 is XZR. */
#define XZR 31
#define INSTRUCTION_BYTES 4

static struct {
    uintptr_t base;
    size_t size;
    vm_exception_handler_t handler;
    void *data;
} regions[MAX_REGIONS];
static size_t region_count;

bool fault_register_vm_exception_handler(uintptr_t base, size_t size, vm_exception_handler_t handler, void *data)
{
    for (size_t i = 0; i < region_count; i++) {
        if (base < regions[i].base + regions[i].size && regions[i].base < base + size) {
            LOG_VMM_ERR("the emulated region 0x%lx-0x%lx overlaps one registered before (0x%lx-0x%lx)\n",
                        (unsigned long)base, (unsigned long)(base + size), (unsigned long)regions[i].base,
                        (unsigned long)(regions[i].base + regions[i].size));
            return false;
        }
    }
    if (region_count == MAX_REGIONS) {
        LOG_VMM_ERR("no room for another emulated region: libvmm handles %d\n", MAX_REGIONS);
        return false;
    }
    regions[region_count].base = base;
    regions[region_count].size = size;
    regions[region_count].handler = handler;
    regions[region_count].data = data;
    region_count++;
    return true;
}

bool fault_is_write(uint64_t fsr)
{
    return (fsr & ESR_DA_WNR) != 0;
}

bool fault_is_read(uint64_t fsr)
{
    return !fault_is_write(fsr);
}

size_t fault_access_size(uint64_t fsr)
{
    return (size_t)1 << ((fsr >> ESR_DA_SAS_SHIFT) & ESR_DA_SAS_MASK);
}

static seL4_Word *transfer_register(seL4_UserContext *regs, uint64_t fsr)
{
    size_t srt = (fsr >> ESR_DA_SRT_SHIFT) & ESR_DA_SRT_MASK;
    return srt == XZR ? NULL : &regs->x0 + srt;
}

static uint64_t access_mask(uint64_t fsr)
{
    size_t bits = fault_access_size(fsr) * 8;
    return bits == 64 ? ~0ull : (1ull << bits) - 1;
}

uint64_t fault_get_data(seL4_UserContext *regs, uint64_t fsr)
{
    seL4_Word *reg = transfer_register(regs, fsr);
    return reg ? *reg & access_mask(fsr) : 0;
}

void fault_emulate_read(seL4_UserContext *regs, uint64_t fsr, uint64_t value)
{
    seL4_Word *reg = transfer_register(regs, fsr);
    if (!reg) return;
    uint64_t mask = access_mask(fsr);
    value &= mask;
    /* SSE: the load sign-extends; SF clear: a W register, whose upper half is cleared. */
    if ((fsr & ESR_DA_SSE) && (value & ~(mask >> 1))) value |= ~mask;
    if (!(fsr & ESR_DA_SF)) value &= 0xffffffffull;
    *reg = value;
}

static bool stop_vcpu(size_t vcpu_id, seL4_UserContext *regs)
{
    if (regs) vcpu_print_regs(vcpu_id);
    LOG_VMM_ERR("vCPU %zu stopped; the rest of the system keeps running\n", vcpu_id);
    guest_stop(vcpu_id);
    return false;
}

static bool handle_vm_fault(size_t vcpu_id, uint64_t ip, uint64_t addr, bool prefetch, uint64_t fsr)
{
    seL4_UserContext regs;
    if (!read_vcpu_registers(vcpu_id, &regs)) return false;
    size_t ec = (fsr >> ESR_EC_SHIFT) & ESR_EC_MASK;
    if (prefetch || ec != ESR_EC_DATA_ABORT_LOWER) {
        LOG_VMM_ERR("vCPU %zu fetched an instruction at guest address 0x%lx (pc 0x%lx), which no <map> of the "
                    "<virtual_machine> covers: map guest RAM there, or fix the guest's jump\n",
                    vcpu_id, (unsigned long)addr, (unsigned long)ip);
        return stop_vcpu(vcpu_id, &regs);
    }
    const char *access = fault_is_write(fsr) ? "write" : "read";
    for (size_t i = 0; i < region_count; i++) {
        if (addr < regions[i].base || addr - regions[i].base >= regions[i].size) continue;
        if (!(fsr & ESR_DA_ISV)) {
            LOG_VMM_ERR("vCPU %zu: a %s at guest address 0x%lx (pc 0x%lx, ESR 0x%lx) has no instruction syndrome "
                        "(a load/store pair or writeback?): emulated devices take single loads and stores\n",
                        vcpu_id, access, (unsigned long)addr, (unsigned long)ip, (unsigned long)fsr);
            return stop_vcpu(vcpu_id, &regs);
        }
        if (!regions[i].handler(vcpu_id, addr - regions[i].base, fsr, &regs, regions[i].data))
            return stop_vcpu(vcpu_id, &regs);
        regs.pc += INSTRUCTION_BYTES;
        return write_vcpu_registers(vcpu_id, &regs, false);
    }
    LOG_VMM_ERR("vCPU %zu: unhandled %s of %zu bytes at guest address 0x%lx (pc 0x%lx, ESR 0x%lx): no <map> of "
                "the <virtual_machine> and no emulated device covers it: map a memory region there, or register a "
                "handler with fault_register_vm_exception_handler\n",
                vcpu_id, access, fault_access_size(fsr), (unsigned long)addr, (unsigned long)ip, (unsigned long)fsr);
    return stop_vcpu(vcpu_id, &regs);
}

static bool handle_vcpu_fault(size_t vcpu_id, uint64_t hsr)
{
    seL4_UserContext regs;
    if (!read_vcpu_registers(vcpu_id, &regs)) return false;
    call_outcome_t outcome;
    switch ((hsr >> ESR_EC_SHIFT) & ESR_EC_MASK) {
    case ESR_EC_WFX:
        regs.pc += INSTRUCTION_BYTES;
        /* WFE may complete spuriously, and a spinning lock waiter must not sleep until the next interrupt. */
        outcome = (hsr & ESR_WFX_WFE) ? CALL_RESUME : CALL_WAIT_FOR_INTERRUPT;
        break;
    case ESR_EC_HVC64:
        /* HVC is an exception call: the PC is already past it. */
        outcome = smccc_handle(vcpu_id, &regs);
        break;
    case ESR_EC_SMC64:
        /* A trapped SMC returns to the SMC itself. */
        regs.pc += INSTRUCTION_BYTES;
        outcome = smccc_handle(vcpu_id, &regs);
        break;
    case ESR_EC_SYSREG:
        LOG_VMM_ERR("vCPU %zu: trapped system register access (ESR 0x%lx) at pc 0x%lx, which this VMM does not "
                    "emulate\n",
                    vcpu_id, (unsigned long)hsr, (unsigned long)regs.pc);
        return stop_vcpu(vcpu_id, &regs);
    default:
        LOG_VMM_ERR("vCPU %zu: vCPU fault with HSR 0x%lx (EC 0x%lx) at pc 0x%lx, which this VMM does not handle\n",
                    vcpu_id, (unsigned long)hsr, (unsigned long)((hsr >> ESR_EC_SHIFT) & ESR_EC_MASK),
                    (unsigned long)regs.pc);
        return stop_vcpu(vcpu_id, &regs);
    }
    if (outcome == CALL_STOPPED) return false;
    if (!write_vcpu_registers(vcpu_id, &regs, false)) return false;
    if (outcome == CALL_RESUME || vgic_has_pending(vcpu_id)) return true;
    guest_vcpu_sleep(vcpu_id, regs.pc);
    return false;
}

bool fault_handle(size_t vcpu_id, microkit_msginfo msginfo)
{
    /* The fault message first: the invocations below reuse the message registers. */
    seL4_Word label = microkit_msginfo_get_label(msginfo);
    if (vcpu_id >= GUEST_MAX_VCPUS) {
        LOG_VMM_ERR("vCPU %zu faulted (label %lu); libvmm handles vCPUs 0 to %d: give the <virtual_machine> lower "
                    "<vcpu> ids\n",
                    vcpu_id, (unsigned long)label, GUEST_MAX_VCPUS - 1);
        return false;
    }
    switch (label) {
    case seL4_Fault_VMFault:
        return handle_vm_fault(vcpu_id, seL4_GetMR(seL4_VMFault_IP), seL4_GetMR(seL4_VMFault_Addr),
                               seL4_GetMR(seL4_VMFault_PrefetchFault) != 0, seL4_GetMR(seL4_VMFault_FSR));
    case seL4_Fault_VCPUFault:
        return handle_vcpu_fault(vcpu_id, seL4_GetMR(seL4_VCPUFault_HSR));
    case seL4_Fault_VGICMaintenance:
        vgic_maintenance(vcpu_id, seL4_GetMR(seL4_VGICMaintenance_IDX));
        return true;
    case seL4_Fault_VPPIEvent:
        virq_inject(vcpu_id, (int)seL4_GetMR(seL4_VPPIEvent_IRQ));
        return true;
    default:
        LOG_VMM_ERR("vCPU %zu: fault with label %lu (seL4_Fault_*), which this VMM does not handle\n", vcpu_id,
                    (unsigned long)label);
        return stop_vcpu(vcpu_id, NULL);
    }
}
