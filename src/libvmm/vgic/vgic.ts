// The virtual distributor's interrupt state, shared by the GICv2 and GICv3 register front ends:
// per-vCPU SGIs and PPIs (INTIDs 0–31), shared SPIs, and delivery into each vCPU's list registers.
//
// What the VMM cannot see: the list registers are written by seL4 and not read back, so an interrupt
// stays "pending" here from injection until the guest's EOI raises a maintenance fault, and clearing its
// pending or enable bit cannot withdraw it from a list register (only from the overflow queue).
import type { VmmLog } from "../log.ts";
import { ListRegisters, type VirtualIrqSink } from "./list-registers.ts";

export type GicVersion = 2 | 3;

/** Called when the guest has finished with an interrupt (EOI), or enables one that is not pending. */
export type IrqAck = (vcpuId: number, intid: number) => void;

export const SGI_COUNT = 16;
export const PRIVATE_IRQ_COUNT = 32;
/** The EL1 virtual timer's PPI. */
export const VTIMER_PPI = 27;
/** Microkit channel ids are 0–61. */
export const MAX_CHANNEL = 61;
/** GIC priorities keep the 5 most significant bits, as many as a list register holds. */
export const PRIORITY_MASK = 0xf8;

interface IrqState {
  enabled: boolean;
  /** Non-zero when pending. SGIs keep one bit per source vCPU; other interrupts use bit 0. */
  pending: number;
  active: boolean;
  priority: number;
  group: number;
  edge: boolean;
  /** GICv2 GICD_ITARGETSR byte (SPIs). */
  targets: number;
  /** GICv3 GICD_IROUTER (SPIs). */
  route: bigint;
  /** The vCPU whose list registers (or queue) hold this interrupt. */
  listedOn: number | undefined;
  /** An edge arrived while the interrupt was listed: deliver it once more after the EOI. */
  pendingAgain: boolean;
  registered: boolean;
  ack: IrqAck | undefined;
}

export type InjectResult = "listed" | "queued" | "latched" | "coalesced" | "unregistered";

export interface VgicOptions {
  version: GicVersion;
  vcpuCount: number;
  /** Interrupt lines including SGIs and PPIs: a multiple of 32 from 64 to 1024 (default 256). */
  lines?: number;
  sink: VirtualIrqSink;
  log: VmmLog;
}

/** The distributor's reset state of an interrupt (registration by the VMM is kept across resets). */
function resetIrq(irq: IrqState, intid: number, version: GicVersion): void {
  // GICv2 SGIs cannot be disabled (their enable bits are RAO/WI).
  irq.enabled = version === 2 && intid < SGI_COUNT;
  irq.pending = 0;
  irq.active = false;
  irq.priority = 0;
  irq.group = 0;
  irq.edge = intid < SGI_COUNT;
  irq.targets = 0;
  irq.route = 0n;
  irq.pendingAgain = false;
}

function newIrq(intid: number, version: GicVersion): IrqState {
  const irq: IrqState = {
    enabled: false,
    pending: 0,
    active: false,
    priority: 0,
    group: 0,
    edge: false,
    targets: 0,
    route: 0n,
    listedOn: undefined,
    pendingAgain: false,
    registered: false,
    ack: undefined,
  };
  resetIrq(irq, intid, version);
  return irq;
}

export class Vgic {
  readonly version: GicVersion;
  readonly vcpuCount: number;
  readonly lines: number;
  /** GICD_CTLR group-enable bits: bit 0 group 0, bit 1 group 1. */
  control = 0;
  readonly listRegisters: readonly ListRegisters[];
  private readonly privateIrqs: IrqState[][];
  private readonly spis: IrqState[];
  private readonly channels = new Map<number, { vcpuId: number; intid: number }>();
  private readonly log: VmmLog;

  constructor(options: VgicOptions) {
    const lines = options.lines ?? 256;
    if (!Number.isInteger(lines) || lines % 32 !== 0 || lines < 64 || lines > 1024) {
      throw new Error(`vGIC: ${lines} interrupt lines requested; use a multiple of 32 from 64 to 1024`);
    }
    if (!Number.isInteger(options.vcpuCount) || options.vcpuCount < 1 || options.vcpuCount > 8) {
      throw new Error(
        `vGIC: ${options.vcpuCount} vCPUs requested; the GIC supports 1 to 8 CPU interfaces here`,
      );
    }
    this.version = options.version;
    this.vcpuCount = options.vcpuCount;
    this.lines = lines;
    this.log = options.log;
    this.listRegisters = Array.from(
      { length: options.vcpuCount },
      (_, v) => new ListRegisters(v, options.sink),
    );
    this.privateIrqs = Array.from({ length: options.vcpuCount }, () =>
      Array.from({ length: PRIVATE_IRQ_COUNT }, (_, i) => newIrq(i, options.version)),
    );
    this.spis = Array.from({ length: lines - PRIVATE_IRQ_COUNT }, (_, i) =>
      newIrq(i + PRIVATE_IRQ_COUNT, options.version),
    );
  }

  /**
   * Returns the distributor to its reset state for a guest reboot, keeping the VMM's registrations.
   * Queued interrupts are dropped; those already in list registers stay until their EOI, as the VMM
   * cannot withdraw them.
   */
  reset(): void {
    this.control = 0;
    for (const lrs of this.listRegisters) lrs.clearQueue();
    const inListRegister = (intid: number, v: number) =>
      this.listRegisters[v]!.listed.some((l) => l?.intid === intid);
    this.privateIrqs.forEach((irqs) =>
      irqs.forEach((irq, intid) => {
        resetIrq(irq, intid, this.version);
        if (irq.listedOn !== undefined && !inListRegister(intid, irq.listedOn)) irq.listedOn = undefined;
      }),
    );
    this.spis.forEach((irq, i) => {
      resetIrq(irq, i + PRIVATE_IRQ_COUNT, this.version);
      if (irq.listedOn !== undefined && !inListRegister(i + PRIVATE_IRQ_COUNT, irq.listedOn))
        irq.listedOn = undefined;
    });
  }

  /** The state of `intid` as `vcpuId` sees it; undefined for an INTID the distributor does not implement. */
  private irq(vcpuId: number, intid: number): IrqState | undefined {
    if (intid < PRIVATE_IRQ_COUNT) return this.privateIrqs[vcpuId]?.[intid];
    return this.spis[intid - PRIVATE_IRQ_COUNT];
  }

  private requireIrq(vcpuId: number, intid: number): IrqState {
    const irq = Number.isInteger(vcpuId) && Number.isInteger(intid) ? this.irq(vcpuId, intid) : undefined;
    if (!irq) {
      throw new Error(
        `vGIC: no interrupt ${intid} on vCPU ${vcpuId}; INTIDs are 0 to ${this.lines - 1} and vCPUs 0 to ${this.vcpuCount - 1}`,
      );
    }
    return irq;
  }

  // ---- Registration by the VMM (libvmm's virq_register) ----

  /** Allows the VMM to inject `intid` into `vcpuId` (SPIs are shared: any vCPU id names them), with an ack to run on EOI. */
  registerIrq(vcpuId: number, intid: number, ack?: IrqAck): void {
    const irq = this.requireIrq(vcpuId, intid);
    if (intid < SGI_COUNT)
      throw new Error(`vGIC: SGI ${intid} is raised by the guest and cannot be registered`);
    if (irq.registered) throw new Error(`vGIC: interrupt ${intid} on vCPU ${vcpuId} is already registered`);
    irq.registered = true;
    irq.ack = ack;
  }

  /**
   * Passes a physical interrupt through: a notification on `channel` injects `intid`, and the guest's EOI
   * (or its enabling the interrupt) acks the seL4 IRQ on that channel.
   */
  registerPassthroughIrq(
    vcpuId: number,
    intid: number,
    channel: number,
    irqAck: (channel: number) => void,
  ): void {
    if (!Number.isInteger(channel) || channel < 0 || channel > MAX_CHANNEL) {
      throw new Error(
        `vGIC: cannot pass interrupt ${intid} through on channel ${channel}; channels are 0 to ${MAX_CHANNEL}`,
      );
    }
    const taken = this.channels.get(channel);
    if (taken) {
      throw new Error(
        `vGIC: channel ${channel} already passes interrupt ${taken.intid} through to vCPU ${taken.vcpuId}`,
      );
    }
    this.registerIrq(vcpuId, intid, () => irqAck(channel));
    this.channels.set(channel, { vcpuId, intid });
  }

  /** Delivers the EL1 virtual timer through seL4's VPPI flow: inject PPI 27, unmask it on EOI. */
  registerVtimer(vcpuId: number, ackVppi: (vcpuId: number, intid: number) => void): void {
    this.registerIrq(vcpuId, VTIMER_PPI, ackVppi);
  }

  /** For `notified(ch)`: injects the interrupt passed through on `channel`. False when the channel is not one. */
  handleChannel(channel: number): boolean {
    const route = this.channels.get(channel);
    if (!route) return false;
    this.inject(route.vcpuId, route.intid);
    return true;
  }

  // ---- Injection and maintenance ----

  /** Makes a registered interrupt pending and delivers it when the guest has it enabled. */
  inject(vcpuId: number, intid: number): InjectResult {
    const irq = this.requireIrq(vcpuId, intid);
    if (!irq.registered) {
      this.log.error(
        `vGIC: interrupt ${intid} was injected into vCPU ${vcpuId} without being registered; dropped`,
      );
      return "unregistered";
    }
    if (irq.pending) {
      if (irq.listedOn !== undefined && irq.edge) irq.pendingAgain = true;
      return "coalesced";
    }
    irq.pending = 1;
    return this.deliver(vcpuId, intid, irq) ?? "latched";
  }

  /** The guest EOI'd list register `lrIndex` of `vcpuId` (a VGICMaintenance fault). */
  handleMaintenance(vcpuId: number, lrIndex: number): void {
    const lrs = this.listRegisters[vcpuId];
    if (!lrs) throw new Error(`vGIC: maintenance for vCPU ${vcpuId}, which does not exist`);
    const listed = lrs.release(lrIndex);
    if (!listed) {
      this.log.error(`vGIC: maintenance for empty list register ${lrIndex} on vCPU ${vcpuId}; ignored`);
      return;
    }
    const { intid } = listed;
    const irq = this.requireIrq(vcpuId, intid);
    irq.listedOn = undefined;
    irq.active = false;
    if (intid < SGI_COUNT)
      irq.pending &= irq.pending - 1; // one source's instance is done
    else if (irq.pendingAgain) irq.pendingAgain = false;
    else irq.pending = 0;
    irq.ack?.(vcpuId, intid);
    lrs.refill();
    this.deliver(vcpuId, intid, irq);
  }

  /** Raises SGI `intid` from `sender` on each target vCPU (GICD_SGIR, ICC_SGI1R_EL1). */
  sendSgi(sender: number, intid: number, targets: readonly number[]): void {
    for (const target of targets) {
      const irq = this.privateIrqs[target]?.[intid];
      if (!irq) continue;
      irq.pending |= 1 << sender;
      this.deliver(target, intid, irq);
    }
  }

  // ---- Register-level state changes from the distributor front ends ----

  isImplemented(intid: number): boolean {
    return intid >= 0 && intid < this.lines;
  }

  setControl(value: number): void {
    this.control = value & 3;
    this.deliverAll();
  }

  enabled(vcpuId: number, intid: number): boolean {
    return this.requireIrq(vcpuId, intid).enabled;
  }

  setEnabled(vcpuId: number, intid: number, enable: boolean): void {
    const irq = this.requireIrq(vcpuId, intid);
    if (this.version === 2 && intid < SGI_COUNT) return;
    if (!enable) {
      irq.enabled = false;
      return;
    }
    irq.enabled = true;
    // A passthrough IRQ may have fired before the guest's driver was ready; acking lets it fire again.
    if (irq.ack && !irq.pending) irq.ack(vcpuId, intid);
    this.deliver(vcpuId, intid, irq);
  }

  /** Non-zero when pending; for an SGI, one bit per source vCPU. */
  pendingSources(vcpuId: number, intid: number): number {
    return this.requireIrq(vcpuId, intid).pending;
  }

  /**
   * Sets or clears pending. For an SGI, `sources` selects source-vCPU bits (GICD_SPENDSGIR); setting without
   * one marks a single instance, clearing without one clears every source.
   */
  setPending(vcpuId: number, intid: number, pending: boolean, sources = pending ? 1 : 0xff): void {
    const irq = this.requireIrq(vcpuId, intid);
    const mask = intid < SGI_COUNT ? sources & ((1 << this.vcpuCount) - 1) : 1;
    if (pending) {
      irq.pending |= mask;
      this.deliver(vcpuId, intid, irq);
      return;
    }
    const wasPending = irq.pending !== 0;
    irq.pending &= ~mask;
    if (irq.pending === 0) {
      irq.pendingAgain = false;
      if (irq.listedOn !== undefined) this.withdraw(irq, intid);
      // Discarded before it reached a list register, it will never be EOI'd: without the ack a latched
      // timer VPPI would leave the timer masked for good (and a passed-through IRQ unacked).
      if (wasPending && irq.listedOn === undefined) irq.ack?.(vcpuId, intid);
    }
  }

  active(vcpuId: number, intid: number): boolean {
    return this.requireIrq(vcpuId, intid).active;
  }

  setActive(vcpuId: number, intid: number, active: boolean): void {
    this.requireIrq(vcpuId, intid).active = active;
  }

  priority(vcpuId: number, intid: number): number {
    return this.requireIrq(vcpuId, intid).priority;
  }

  setPriority(vcpuId: number, intid: number, priority: number): void {
    this.requireIrq(vcpuId, intid).priority = priority & PRIORITY_MASK;
  }

  group(vcpuId: number, intid: number): number {
    return this.requireIrq(vcpuId, intid).group;
  }

  setGroup(vcpuId: number, intid: number, group: number): void {
    const irq = this.requireIrq(vcpuId, intid);
    irq.group = group & 1;
    this.deliver(vcpuId, intid, irq);
  }

  edgeTriggered(vcpuId: number, intid: number): boolean {
    return this.requireIrq(vcpuId, intid).edge;
  }

  /** SGIs are always edge-triggered and PPIs always level-sensitive here; only SPIs are configurable. */
  setEdgeTriggered(vcpuId: number, intid: number, edge: boolean): void {
    if (intid >= PRIVATE_IRQ_COUNT) this.requireIrq(vcpuId, intid).edge = edge;
  }

  targets(intid: number): number {
    return this.requireIrq(0, intid).targets;
  }

  /** GICv2 ITARGETSR for an SPI; bits for CPU interfaces that do not exist read as zero. */
  setTargets(intid: number, targets: number): void {
    const irq = this.requireIrq(0, intid);
    irq.targets = targets & ((1 << this.vcpuCount) - 1);
    this.deliver(0, intid, irq);
  }

  route(intid: number): bigint {
    return this.requireIrq(0, intid).route;
  }

  /** GICv3 IROUTER for an SPI: Aff3 39:32, IRM 31, Aff2 23:16, Aff1 15:8, Aff0 7:0. */
  setRoute(intid: number, route: bigint): void {
    const irq = this.requireIrq(0, intid);
    irq.route = route & 0xff_80ff_ffffn;
    this.deliver(0, intid, irq);
  }

  // ---- Delivery ----

  /** The vCPU an SPI goes to: the lowest-numbered target (GICv2) or the routed affinity (GICv3). */
  private spiTarget(irq: IrqState): number | undefined {
    if (this.version === 2) {
      if (this.vcpuCount === 1) return 0;
      const targets = irq.targets;
      return targets === 0 ? undefined : 31 - Math.clz32(targets & -targets);
    }
    if (irq.route & 0x8000_0000n) return 0; // IRM: any participating vCPU
    const aff0 = Number(irq.route & 0xffn);
    return (irq.route & 0xff_00ff_ff00n) === 0n && aff0 < this.vcpuCount ? aff0 : undefined;
  }

  private deliver(vcpuId: number, intid: number, irq: IrqState): "listed" | "queued" | undefined {
    if (irq.listedOn !== undefined || !irq.pending || !irq.enabled) return undefined;
    if ((this.control & (1 << irq.group)) === 0) return undefined;
    const target = intid < PRIVATE_IRQ_COUNT ? vcpuId : this.spiTarget(irq);
    if (target === undefined) return undefined;
    irq.listedOn = target;
    return this.listRegisters[target]!.add({ intid, priority: irq.priority, group: irq.group });
  }

  private withdraw(irq: IrqState, intid: number): void {
    const lrs = this.listRegisters[irq.listedOn!]!;
    if (lrs.queued.some((q) => q.intid === intid)) {
      lrs.unqueue(intid);
      irq.listedOn = undefined;
    }
  }

  private deliverAll(): void {
    for (let v = 0; v < this.vcpuCount; v++) {
      this.privateIrqs[v]!.forEach((irq, intid) => this.deliver(v, intid, irq));
    }
    this.spis.forEach((irq, i) => this.deliver(0, i + PRIVATE_IRQ_COUNT, irq));
  }
}
