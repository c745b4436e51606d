/* virtkit's libvmm: a vCPU's registers, printed for the person debugging a guest. */
#include "internal.h"

static const struct {
    const char *name;
    seL4_Word reg;
} system_registers[] = {
    { "SCTLR_EL1", seL4_VCPUReg_SCTLR }, { "TTBR0_EL1", seL4_VCPUReg_TTBR0 }, { "TTBR1_EL1", seL4_VCPUReg_TTBR1 },
    { "TCR_EL1", seL4_VCPUReg_TCR },     { "VBAR_EL1", seL4_VCPUReg_VBAR },   { "ESR_EL1", seL4_VCPUReg_ESR },
    { "FAR_EL1", seL4_VCPUReg_FAR },     { "ELR_EL1", seL4_VCPUReg_ELR_EL1 }, { "SPSR_EL1", seL4_VCPUReg_SPSR_EL1 },
};

void vcpu_print_regs(size_t vcpu_id)
{
    seL4_UserContext regs;
    if (!read_vcpu_registers(vcpu_id, &regs)) return;
    printf("%s|INFO: vCPU %zu registers:\n", microkit_name, vcpu_id);
    printf("    pc   0x%016lx  sp   0x%016lx  spsr 0x%016lx\n", regs.pc, regs.sp, regs.spsr);
    const seL4_Word *x = &regs.x0;
    for (int i = 0; i < 31; i++) printf("    x%d%s   0x%016lx%s", i, i < 10 ? " " : "", x[i], i % 3 == 2 || i == 30 ? "\n" : "");
    for (size_t i = 0; i < sizeof(system_registers) / sizeof(system_registers[0]); i++) {
        seL4_ARM_VCPU_ReadRegs_t r = seL4_ARM_VCPU_ReadRegs(VCPU_OBJECT_CAP(vcpu_id), system_registers[i].reg);
        printf("    %s 0x%016lx%s", system_registers[i].name, r.value, i % 3 == 2 ? "\n" : "");
    }
}
