/*
 * virtkit's libvmm: the guest's GICv2 distributor (ARM IHI 0048B, 4.3), emulated, and delivery into
 * the vCPU's list registers through seL4_ARM_VCPU_InjectIRQ. The CPU interface is the hardware's
 * (GICV, mapped into the guest). An interrupt stays pending here from injection until the guest's EOI
 * raises a VGICMaintenance fault; one that finds no free list register waits for the next EOI.
 */
#include "internal.h"

/* Interrupt lines the distributor has, SGIs and PPIs included (GICD_TYPER.ITLinesNumber + 1, times 32). */
#define VGIC_LINES 256
/* The most list registers a GICv2 has: the kernel refuses indices beyond the core's own count. */
#define MAX_LIST_REGISTERS 64
/* GIC priorities keep their 5 most significant bits, as many as a list register holds. */
#define LIST_REGISTER_PRIORITY_SHIFT 3

/* Fields of GICD_CTLR, GICD_TYPER and GICD_SGIR (IHI 0048B 4.3); the offsets are in libvmm/facts.h. */
#define GICD_CTLR_ENABLE_MASK 3
#define GICD_TYPER_CPU_NUMBER_SHIFT 5
#define GICD_SGIR_FILTER_SHIFT 24
#define GICD_SGIR_TARGETS_SHIFT 16
#define GICD_SGIR_INTID_MASK 0xf
/* GICD_ICFGR: bit 1 of an interrupt's field says edge-triggered. */
#define ICFGR_EDGE 2

struct virq {
    bool enabled, pending, edge, registered;
    /* An edge arrived while the interrupt sat in a list register: deliver it again after the EOI. */
    bool again;
    /* In a list register of vCPU listed_on - 1; 0 when not. */
    uint8_t listed_on;
    uint8_t priority, group, targets;
    virq_ack_fn_t ack;
    void *cookie;
};

static struct virq private_irqs[GUEST_MAX_VCPUS][GIC_PRIVATE_IRQ_COUNT];
static struct virq spis[VGIC_LINES - GIC_PRIVATE_IRQ_COUNT];
/* What each list register holds: INTID + 1, or 0 when free. */
static uint16_t list_registers[GUEST_MAX_VCPUS][MAX_LIST_REGISTERS];
static uint32_t distributor_ctlr;
/* vCPUs the distributor reports in GICD_TYPER: the highest registered + 1. */
static size_t vcpu_count = 1;

static struct virq *virq_of(size_t vcpu_id, size_t intid)
{
    if (intid < GIC_PRIVATE_IRQ_COUNT) return vcpu_id < GUEST_MAX_VCPUS ? &private_irqs[vcpu_id][intid] : NULL;
    return intid < VGIC_LINES ? &spis[intid - GIC_PRIVATE_IRQ_COUNT] : NULL;
}

/* The vCPU an interrupt goes to: its own for SGIs and PPIs, the lowest GICD_ITARGETSR target for SPIs. */
static size_t target_of(size_t vcpu_id, size_t intid)
{
    if (intid < GIC_PRIVATE_IRQ_COUNT) return vcpu_id;
    struct virq *irq = virq_of(vcpu_id, intid);
    for (size_t v = 0; v < vcpu_count; v++)
        if (irq->targets & (1u << v)) return v;
    return 0;
}

static bool deliverable(struct virq *irq)
{
    return irq->pending && irq->enabled && !irq->listed_on && (distributor_ctlr & GICD_CTLR_ENABLE_MASK);
}

/* Into a free list register of `vcpu_id`, if there is one; otherwise it waits for an EOI. */
static void deliver(size_t vcpu_id, size_t intid)
{
    struct virq *irq = virq_of(vcpu_id, intid);
    if (!irq || !deliverable(irq)) return;
    for (size_t lr = 0; lr < MAX_LIST_REGISTERS; lr++) {
        if (list_registers[vcpu_id][lr]) continue;
        seL4_Error err = seL4_ARM_VCPU_InjectIRQ(VCPU_OBJECT_CAP(vcpu_id), intid,
                                                 irq->priority >> LIST_REGISTER_PRIORITY_SHIFT, irq->group, lr);
        if (err == seL4_RangeError) return; /* no more list registers */
        if (err == seL4_DeleteFirst) continue; /* still holds an interrupt from before a guest_start */
        if (err != seL4_NoError) {
            LOG_VMM_ERR("vCPU %zu: injecting IRQ %zu into list register %zu failed (seL4 error %d)\n", vcpu_id, intid,
                        lr, err);
            return;
        }
        list_registers[vcpu_id][lr] = intid + 1;
        irq->listed_on = vcpu_id + 1;
        guest_vcpu_wake(vcpu_id);
        return;
    }
}

/* Everything deliverable to `vcpu_id`, lowest INTID first, while list registers are free. */
static void deliver_all(size_t vcpu_id)
{
    for (size_t intid = 0; intid < VGIC_LINES; intid++) {
        if (intid < GIC_PRIVATE_IRQ_COUNT || target_of(vcpu_id, intid) == vcpu_id) deliver(vcpu_id, intid);
    }
}

static void set_pending(size_t vcpu_id, size_t intid)
{
    struct virq *irq = virq_of(vcpu_id, intid);
    if (irq->listed_on) {
        if (irq->edge) irq->again = true;
        return;
    }
    irq->pending = true;
    deliver(target_of(vcpu_id, intid), intid);
}

bool vgic_has_pending(size_t vcpu_id)
{
    for (size_t lr = 0; lr < MAX_LIST_REGISTERS; lr++)
        if (list_registers[vcpu_id][lr]) return true;
    for (size_t intid = 0; intid < VGIC_LINES; intid++) {
        struct virq *irq = virq_of(vcpu_id, intid);
        if (deliverable(irq) && (intid < GIC_PRIVATE_IRQ_COUNT || target_of(vcpu_id, intid) == vcpu_id)) return true;
    }
    return false;
}

void vgic_maintenance(size_t vcpu_id, size_t lr)
{
    if (vcpu_id >= GUEST_MAX_VCPUS || lr >= MAX_LIST_REGISTERS || !list_registers[vcpu_id][lr]) {
        LOG_VMM_ERR("vCPU %zu: maintenance for list register %zu, which holds no interrupt of this VMM\n", vcpu_id,
                    lr);
        return;
    }
    size_t intid = list_registers[vcpu_id][lr] - 1;
    struct virq *irq = virq_of(vcpu_id, intid);
    list_registers[vcpu_id][lr] = 0;
    irq->listed_on = 0;
    irq->pending = irq->again;
    irq->again = false;
    if (irq->ack) irq->ack(vcpu_id, intid, irq->cookie);
    deliver_all(vcpu_id);
}

static void reset_distributor(void)
{
    for (size_t v = 0; v < GUEST_MAX_VCPUS; v++) {
        for (size_t intid = 0; intid < GIC_PRIVATE_IRQ_COUNT; intid++) {
            /* GICv2 SGIs are always enabled and edge-triggered. */
            private_irqs[v][intid].enabled = intid < GIC_SGI_COUNT;
            private_irqs[v][intid].edge = intid < GIC_SGI_COUNT;
        }
    }
}

bool virq_controller_init(size_t boot_vcpu_id)
{
    if (GIC_VERSION != 2) {
        LOG_VMM_ERR("virtkit's C libvmm emulates a GICv2 distributor; this board's guest has GICv%d\n", GIC_VERSION);
        return false;
    }
    reset_distributor();
    if (!fault_register_vm_exception_handler(GIC_DIST_PADDR, GICV2_DISTRIBUTOR_SIZE, vgic_distributor_access, NULL))
        return false;
    vgic_register_vtimer(boot_vcpu_id);
    return true;
}

static void vtimer_ack(size_t vcpu_id, int irq, void *cookie)
{
    (void)cookie;
    microkit_vcpu_arm_ack_vppi(vcpu_id, irq);
}

void vgic_register_vtimer(size_t vcpu_id)
{
    virq_register(vcpu_id, GIC_VTIMER_PPI, vtimer_ack, NULL);
}

bool virq_register(size_t vcpu_id, size_t virq, virq_ack_fn_t ack_fn, void *ack_data)
{
    struct virq *irq = virq_of(vcpu_id, virq);
    if (!irq || virq < GIC_SGI_COUNT || vcpu_id >= GUEST_MAX_VCPUS) {
        LOG_VMM_ERR("virq_register: IRQ %zu on vCPU %zu: give a PPI (16-31) or an SPI (32-%d) and a vCPU below %d\n",
                    virq, vcpu_id, VGIC_LINES - 1, GUEST_MAX_VCPUS);
        return false;
    }
    irq->registered = true;
    irq->ack = ack_fn;
    irq->cookie = ack_data;
    if (vcpu_id + 1 > vcpu_count) vcpu_count = vcpu_id + 1;
    return true;
}

bool virq_inject(size_t vcpu_id, int irq_number)
{
    struct virq *irq = irq_number >= 0 && vcpu_id < GUEST_MAX_VCPUS ? virq_of(vcpu_id, irq_number) : NULL;
    if (!irq || !irq->registered) {
        LOG_VMM_ERR("virq_inject: IRQ %d on vCPU %zu was never registered: call virq_register first\n", irq_number,
                    vcpu_id);
        return false;
    }
    set_pending(vcpu_id, irq_number);
    return true;
}

/* ---- passthrough ---- */

static struct {
    bool used;
    size_t vcpu_id;
    size_t irq;
} passthrough[MICROKIT_MAX_CHANNELS];

static void passthrough_ack(size_t vcpu_id, int irq, void *cookie)
{
    (void)vcpu_id;
    (void)irq;
    microkit_irq_ack((microkit_channel)(uintptr_t)cookie);
}

bool virq_register_passthrough(size_t vcpu_id, size_t irq, microkit_channel irq_ch)
{
    if (irq_ch >= MICROKIT_MAX_CHANNELS) {
        LOG_VMM_ERR("virq_register_passthrough: channel %u is no Microkit channel (0-%d)\n", irq_ch,
                    MICROKIT_MAX_CHANNELS - 1);
        return false;
    }
    if (!virq_register(vcpu_id, irq, passthrough_ack, (void *)(uintptr_t)irq_ch)) return false;
    passthrough[irq_ch].used = true;
    passthrough[irq_ch].vcpu_id = vcpu_id;
    passthrough[irq_ch].irq = irq;
    return true;
}

bool virq_handle_passthrough(microkit_channel irq_ch)
{
    if (irq_ch >= MICROKIT_MAX_CHANNELS || !passthrough[irq_ch].used) return false;
    return virq_inject(passthrough[irq_ch].vcpu_id, passthrough[irq_ch].irq);
}

/* ---- the distributor's registers ---- */

/* Registers with a field per interrupt: GICD_IGROUPR to GICD_ICFGR, 1024 interrupts' worth each. */
static const struct {
    size_t offset;
    size_t bits_per_irq;
} banks[] = {
    { GICD_IGROUPR, GICD_IGROUPR_BITS },       { GICD_ISENABLER, GICD_ISENABLER_BITS },
    { GICD_ICENABLER, GICD_ICENABLER_BITS },   { GICD_ISPENDR, GICD_ISPENDR_BITS },
    { GICD_ICPENDR, GICD_ICPENDR_BITS },       { GICD_ISACTIVER, GICD_ISACTIVER_BITS },
    { GICD_ICACTIVER, GICD_ICACTIVER_BITS },   { GICD_IPRIORITYR, GICD_IPRIORITYR_BITS },
    { GICD_ITARGETSR, GICD_ITARGETSR_BITS },   { GICD_ICFGR, GICD_ICFGR_BITS },
};

static uint64_t field_read(size_t vcpu_id, size_t bank, size_t intid)
{
    struct virq *irq = virq_of(vcpu_id, intid);
    switch (bank) {
    case GICD_IGROUPR:
        return irq->group;
    case GICD_ISENABLER:
    case GICD_ICENABLER:
        return irq->enabled;
    case GICD_ISPENDR:
    case GICD_ICPENDR:
        return irq->pending;
    case GICD_IPRIORITYR:
        return irq->priority;
    case GICD_ITARGETSR:
        /* RAZ/WI on a uniprocessor (IHI 0048B 4.3.12). */
        if (vcpu_count == 1) return 0;
        return intid < GIC_PRIVATE_IRQ_COUNT ? 1u << vcpu_id : irq->targets;
    case GICD_ICFGR:
        return irq->edge ? ICFGR_EDGE : 0;
    default: /* the active bits: the list registers hold them, which seL4 does not let the VMM read */
        return 0;
    }
}

static void field_write(size_t vcpu_id, size_t bank, size_t intid, uint64_t value)
{
    struct virq *irq = virq_of(vcpu_id, intid);
    switch (bank) {
    case GICD_IGROUPR:
        irq->group = value;
        break;
    case GICD_ISENABLER:
        if (value) {
            irq->enabled = true;
            deliver(target_of(vcpu_id, intid), intid);
        }
        break;
    case GICD_ICENABLER:
        if (value && intid >= GIC_SGI_COUNT) irq->enabled = false;
        break;
    case GICD_ISPENDR:
        if (value && intid >= GIC_SGI_COUNT) set_pending(vcpu_id, intid);
        break;
    case GICD_ICPENDR:
        if (value && !irq->listed_on) irq->pending = false;
        break;
    case GICD_IPRIORITYR:
        irq->priority = value & (0xffu << LIST_REGISTER_PRIORITY_SHIFT) & 0xff;
        break;
    case GICD_ITARGETSR:
        if (intid >= GIC_PRIVATE_IRQ_COUNT && vcpu_count > 1) irq->targets = value;
        break;
    case GICD_ICFGR:
        if (intid >= GIC_SGI_COUNT) irq->edge = (value & ICFGR_EDGE) != 0;
        break;
    }
}

static void send_sgi(size_t vcpu_id, uint64_t value)
{
    size_t intid = value & GICD_SGIR_INTID_MASK;
    unsigned targets = (value >> GICD_SGIR_TARGETS_SHIFT) & 0xff;
    switch ((value >> GICD_SGIR_FILTER_SHIFT) & 3) {
    case GICD_SGIR_FILTER_OTHERS:
        targets = ((1u << vcpu_count) - 1) & ~(1u << vcpu_id);
        break;
    case GICD_SGIR_FILTER_SELF:
        targets = 1u << vcpu_id;
        break;
    case GICD_SGIR_FILTER_LIST:
        break;
    default:
        return;
    }
    for (size_t v = 0; v < vcpu_count; v++)
        if (targets & (1u << v)) set_pending(v, intid);
}

bool vgic_distributor_access(size_t vcpu_id, size_t offset, size_t fsr, seL4_UserContext *regs, void *data)
{
    (void)data;
    size_t size = fault_access_size(fsr);
    bool write = fault_is_write(fsr);
    uint64_t value = write ? fault_get_data(regs, fsr) : 0;
    for (size_t b = 0; b < sizeof(banks) / sizeof(banks[0]); b++) {
        size_t bits = banks[b].bits_per_irq;
        if (offset < banks[b].offset || offset >= banks[b].offset + 1024 * bits / 8) continue;
        size_t first = (offset - banks[b].offset) * 8 / bits;
        uint64_t mask = ((uint64_t)1 << bits) - 1;
        uint64_t result = 0;
        for (size_t i = 0; i < size * 8 / bits; i++) {
            size_t intid = first + i;
            if (intid >= VGIC_LINES) break;
            if (write) field_write(vcpu_id, banks[b].offset, intid, (value >> (i * bits)) & mask);
            else result |= field_read(vcpu_id, banks[b].offset, intid) << (i * bits);
        }
        if (!write) fault_emulate_read(regs, fsr, result);
        return true;
    }
    switch (offset) {
    case GICD_CTLR:
        if (write) {
            distributor_ctlr = value & GICD_CTLR_ENABLE_MASK;
            for (size_t v = 0; v < vcpu_count; v++) deliver_all(v);
        } else {
            fault_emulate_read(regs, fsr, distributor_ctlr);
        }
        return true;
    case GICD_TYPER:
        if (!write)
            fault_emulate_read(regs, fsr, (VGIC_LINES / 32 - 1) | ((vcpu_count - 1) << GICD_TYPER_CPU_NUMBER_SHIFT));
        return true;
    case GICD_SGIR:
        if (write) send_sgi(vcpu_id, value);
        return true;
    default:
        /* Reserved and identification registers read as zero and ignore writes. */
        if (!write) fault_emulate_read(regs, fsr, 0);
        return true;
    }
}
