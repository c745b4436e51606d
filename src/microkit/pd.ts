// The PD API: libmicrokit's calls in TypeScript. Each PD's object reaches only what its
// system description grants; misuse prints libmicrokit's message and does what it does.

import {
  EMPTY_MESSAGE,
  MESSAGE_REGISTERS,
  Sel4Error,
  messageInfo,
  nullCapMessage,
  type IrqHandler,
  type Kernel,
  type MessageInfo,
  type Notification,
  type Thread,
  type VcpuInspection,
  type VcpuObject,
  type VcpuRegisterView,
} from "../kernel/index.ts";
import type { PdAddressSpace, MappedRegion } from "./address-space.ts";
import { ARM_SMC_CAP, BASE_TCB_CAP, BASE_VCPU_CAP, BASE_VM_TCB_CAP, MAX_CHANNELS } from "./cspace.ts";
import type { PhysicalTimer } from "./generic-timer.ts";

/** libmicrokit's MICROKIT_MAX_CHANNEL_ID. */
export const MAX_CHANNEL_ID = MAX_CHANNELS - 1;

export interface ChannelWiring {
  /** The peer's notification and the badge bit (the peer's id for this channel). */
  peer: Notification;
  peerBadge: bigint;
  /** The peer's thread, for PPC on pp channels. */
  peerThread: Thread;
  peerId: number;
}

export interface VcpuWiring {
  object: VcpuObject;
  thread: Thread;
}

export interface PdWiring {
  kernel: Kernel;
  thread: Thread;
  memory: PdAddressSpace;
  channels: ReadonlyMap<number, ChannelWiring>;
  irqs: ReadonlyMap<number, IrqHandler>;
  children: ReadonlyMap<number, Thread>;
  vcpus: ReadonlyMap<number, VcpuWiring>;
  /** seL4_DebugPutChar. */
  debugPutc: (byte: number) => void;
  /** Shared with the PD's handler loop, which sends it. */
  deferred: DeferredSlot;
  /** The board's secure monitor (EL3 firmware), for PDs with smc="true". */
  secureMonitorCall: ((args: readonly bigint[]) => bigint[]) | undefined;
  /** The core's physical timer, which seL4 exports to user level (absent in bare test wirings). */
  physicalTimer?: PhysicalTimer;
}

export type DeferredAction =
  { kind: "notify"; channel: number } | { kind: "irqAck"; channel: number } | { kind: "passive" };

/** microkit_have_signal / microkit_signal_*: the one deferred action, sent at the next receive. */
export interface DeferredSlot {
  action: DeferredAction | undefined;
}

export class Pd {
  /** microkit_name. */
  readonly name: string;
  /** microkit_passive. */
  readonly passive: boolean;
  /** microkit_irqs, microkit_notifications, microkit_pps: bit n set = channel n allowed. */
  readonly irqs: bigint;
  readonly notifications: bigint;
  readonly pps: bigint;
  /** Every setvar of the PD (setvar_vaddr, setvar_size, setvar_id, <setvar>...) by symbol. */
  readonly setvars: Readonly<Record<string, number>>;

  constructor(
    options: {
      name: string;
      passive: boolean;
      irqs: bigint;
      notifications: bigint;
      pps: bigint;
      setvars: Record<string, number>;
    },
    private readonly wiring: PdWiring,
  ) {
    this.name = options.name;
    this.passive = options.passive;
    this.irqs = options.irqs;
    this.notifications = options.notifications;
    this.pps = options.pps;
    this.setvars = Object.freeze({ ...options.setvars });
  }

  /** The PD's address space: read8..read64 / write8..write64 by virtual address, and byte views. */
  get memory(): PdAddressSpace {
    return this.wiring.memory;
  }

  get regions(): readonly MappedRegion[] {
    return this.wiring.memory.regions;
  }

  /**
   * The ARM generic timer's EL0 registers, as Microkit's seL4 exports them to every PD:
   * `counter()` is CNTPCT_EL0, `frequency` CNTFRQ_EL0, `compare` CNTP_CVAL_EL0 and `control`
   * CNTP_CTL_EL0. Its interrupt is PPI 30 (`<irq irq="30" id="..."/>`).
   */
  get armTimer(): PhysicalTimer {
    const timer = this.wiring.physicalTimer;
    if (!timer) throw new Error(`${this.name}: this system has no physical timer`);
    return timer;
  }

  // ---- debug output ----

  dbgPutc(char: number | string): void {
    const byte = typeof char === "string" ? char.charCodeAt(0) : char;
    this.wiring.debugPutc(byte & 0xff);
  }

  /** Writes `text` as UTF-8 bytes, what a terminal shows as the same text. */
  dbgPuts(text: string): void {
    for (const byte of Buffer.from(text, "utf8")) this.wiring.debugPutc(byte);
  }

  // ---- channels ----

  notify(channel: number): void {
    if (!this.allowed(this.notifications, channel)) return this.invalidChannel("microkit_notify", channel);
    const wiring = this.wiring.channels.get(channel)!;
    this.wiring.kernel.signal(wiring.peer, wiring.peerBadge);
  }

  irqAck(channel: number): void {
    if (!this.allowed(this.irqs, channel)) return this.invalidChannel("microkit_irq_ack", channel);
    this.wiring.kernel.irqAck(this.wiring.irqs.get(channel)!);
  }

  ppcall(channel: number, msginfo: MessageInfo): MessageInfo {
    if (!this.allowed(this.pps, channel)) {
      this.invalidChannel("microkit_ppcall", channel);
      return EMPTY_MESSAGE;
    }
    const wiring = this.wiring.channels.get(channel)!;
    return this.wiring.kernel.call(wiring.peerThread, wiring.peerId, msginfo);
  }

  deferredNotify(channel: number): void {
    if (!this.allowed(this.notifications, channel))
      return this.invalidChannel("microkit_deferred_notify", channel);
    this.wiring.deferred.action = { kind: "notify", channel };
  }

  deferredIrqAck(channel: number): void {
    if (!this.allowed(this.irqs, channel)) return this.invalidChannel("microkit_deferred_irq_ack", channel);
    this.wiring.deferred.action = { kind: "irqAck", channel };
  }

  // ---- messages ----

  msginfoNew(label: number, count: number): MessageInfo {
    return messageInfo(label, count);
  }

  msginfoGetLabel(msginfo: MessageInfo): number {
    return msginfo.label;
  }

  msginfoGetCount(msginfo: MessageInfo): number {
    return msginfo.count;
  }

  mrSet(mr: number, value: number | bigint): void {
    this.wiring.thread.mrs[checkMr(mr)] = BigInt.asUintN(64, BigInt(value));
  }

  mrGet(mr: number): bigint {
    return this.wiring.thread.mrs[checkMr(mr)]!;
  }

  // ---- children ----

  /** Restarts child PD `child`: a TypeScript PD starts again with `init` (the entry point is recorded only). */
  pdRestart(child: number, _entryPoint: number | bigint): void {
    const thread = this.wiring.children.get(child);
    if (!thread)
      return this.failedInvocation(BASE_TCB_CAP + child, "microkit_pd_restart: error writing TCB registers");
    this.wiring.kernel.restart(thread);
  }

  pdStop(child: number): void {
    const thread = this.wiring.children.get(child);
    if (!thread)
      return this.failedInvocation(BASE_TCB_CAP + child, "microkit_pd_stop: error writing TCB registers");
    this.wiring.kernel.suspend(thread);
  }

  /** Resumes child PD `child` after pdStop: it receives again, and handles what arrived meanwhile. */
  pdResume(child: number): void {
    const thread = this.wiring.children.get(child);
    if (!thread) return this.failedInvocation(BASE_TCB_CAP + child, "microkit_pd_resume: error resuming TCB");
    this.wiring.kernel.resumeSuspended(thread);
  }

  // ---- virtual machines ----

  vcpuRestart(vcpu: number, entryPoint: number | bigint): void {
    const wiring = this.wiring.vcpus.get(vcpu);
    if (!wiring)
      return this.failedInvocation(BASE_VM_TCB_CAP + vcpu, "microkit_vcpu_restart: error writing registers");
    wiring.object.registers.pc = BigInt.asUintN(64, BigInt(entryPoint));
    this.wiring.kernel.restart(wiring.thread);
  }

  vcpuStop(vcpu: number): void {
    const wiring = this.wiring.vcpus.get(vcpu);
    if (!wiring)
      return this.failedInvocation(BASE_VM_TCB_CAP + vcpu, "microkit_vcpu_stop: error suspending TCB");
    this.wiring.kernel.suspend(wiring.thread);
  }

  vcpuArmInjectIrq(vcpu: number, irq: number, priority: number, group: number, index: number): void {
    const wiring = this.wiring.vcpus.get(vcpu);
    const message = "microkit_vcpu_arm_inject_irq: error injecting IRQ";
    if (!wiring) return this.failedInvocation(BASE_VCPU_CAP + vcpu, message);
    const error = wiring.object.injectIrq(irq & 0xffff, priority & 0xff, group & 0xff, index & 0xff);
    if (error !== Sel4Error.NoError) this.crash(message, error);
  }

  vcpuArmAckVppi(vcpu: number, irq: number): void {
    const wiring = this.wiring.vcpus.get(vcpu);
    const message = "microkit_vcpu_arm_ack_vppi: error acking VPPI";
    if (!wiring) return this.failedInvocation(BASE_VCPU_CAP + vcpu, message);
    const error = wiring.object.ackVppi(irq);
    if (error !== Sel4Error.NoError) this.crash(message, error);
  }

  /**
   * The general registers, PC and PSTATE of a vCPU's thread, as seL4_TCB_ReadRegisters and
   * seL4_TCB_WriteRegisters on its TCB give them to the VMM (libvmm advances a faulting
   * vCPU's PC this way), and its VCPU object's EL1 system registers by name. A view of the
   * vCPU, not the vCPU itself; changes take effect when the vCPU next runs.
   */
  vcpuRegisters(vcpu: number): VcpuRegisterView | undefined {
    const wiring = this.wiring.vcpus.get(vcpu);
    if (!wiring) {
      this.failedInvocation(BASE_VM_TCB_CAP + vcpu, "seL4_TCB_ReadRegisters: error reading vCPU registers");
      return undefined;
    }
    return wiring.object.registers;
  }

  /**
   * Read-only machine state of a vCPU for debugging aids (retired instructions, list registers, the
   * kernel's timer mask), which seL4 does not give a VMM; virtkit's own, not libmicrokit's. Undefined
   * for a vCPU the PD does not have.
   */
  vcpuInspection(vcpu: number): VcpuInspection | undefined {
    return this.wiring.vcpus.get(vcpu)?.object.inspection;
  }

  /**
   * The VCPU object in the PD's slot for vCPU `vcpu`, for ELF PDs' seL4 invocations, whose errors go
   * back to the program as seL4 returns them (the calls above crash the PD as libmicrokit does).
   */
  vcpuObject(vcpu: number): VcpuObject | undefined {
    return this.wiring.vcpus.get(vcpu)?.object;
  }

  /** `reg` is a seL4_VCPUReg number (see VcpuReg). */
  vcpuArmReadReg(vcpu: number, reg: number): bigint {
    const wiring = this.wiring.vcpus.get(vcpu);
    const message = "microkit_vcpu_arm_read_reg: error reading vCPU register";
    if (!wiring) {
      this.failedInvocation(BASE_VCPU_CAP + vcpu, message);
      return 0n;
    }
    const value = wiring.object.readRegister(reg);
    if (value === undefined) this.crash(message, Sel4Error.InvalidArgument);
    return value ?? 0n;
  }

  vcpuArmWriteReg(vcpu: number, reg: number, value: number | bigint): void {
    const wiring = this.wiring.vcpus.get(vcpu);
    const message = "microkit_vcpu_arm_write_reg: error writing vCPU register";
    if (!wiring) return this.failedInvocation(BASE_VCPU_CAP + vcpu, message);
    if (!wiring.object.writeRegister(reg, BigInt.asUintN(64, BigInt(value)))) {
      this.crash(message, Sel4Error.InvalidArgument);
    }
  }

  /** seL4_ARM_SMC_Call with x0–x7; returns the response x0–x7. Needs smc="true". */
  armSmcCall(args: readonly (number | bigint)[]): bigint[] {
    const call = this.wiring.secureMonitorCall;
    const message = "microkit_arm_smc_call: error making SMC call";
    if (!call) {
      this.failedInvocation(ARM_SMC_CAP, message);
      return [];
    }
    const x = Array.from({ length: 8 }, (_, i) => BigInt.asUintN(64, BigInt(args[i] ?? 0)));
    return call(x);
  }

  // ---- helpers ----

  private allowed(mask: bigint, channel: number): boolean {
    return (
      Number.isInteger(channel) &&
      channel >= 0 &&
      channel <= MAX_CHANNEL_ID &&
      ((mask >> BigInt(channel)) & 1n) === 1n
    );
  }

  /** libmicrokit's complaint, word for word, then what to add to the system description. */
  private invalidChannel(fn: string, channel: number): void {
    const shown = Number.isInteger(channel) ? String(channel >>> 0) : String(channel);
    this.dbgPuts(`${this.name} ${fn}: invalid channel given '${shown}'\n`);
    if (!Number.isInteger(channel) || channel < 0 || channel > MAX_CHANNEL_ID) {
      this.dbgPuts(`virtkit: channel ids are 0 to ${MAX_CHANNEL_ID}\n`);
      return;
    }
    const end = `<end pd="${this.name}" id="${channel}"`;
    const remedy = fn.endsWith("irq_ack")
      ? `channel ${channel} of '${this.name}' is not an interrupt: give the PD <irq irq="..." id="${channel}"/>`
      : fn === "microkit_ppcall"
        ? `to PPC on channel ${channel}, '${this.name}' needs ${end} pp="true"/> in a <channel> to a PD of higher priority`
        : `to notify on channel ${channel}, '${this.name}' needs ${end}/> in a <channel> (notify not "false")`;
    this.dbgPuts(`virtkit: ${remedy}\n`);
  }

  /** An invocation on a capability the PD does not have: the kernel's complaint, then libmicrokit's crash. */
  private failedInvocation(cap: number, message: string): void {
    this.dbgPuts(`${nullCapMessage(cap)}\n`);
    this.crash(message, Sel4Error.InvalidCapability);
  }

  /** microkit_internal_crash(err): prints, then faults by writing to address `err`. */
  private crash(message: string, error: number): void {
    this.dbgPuts(`${message}\n`);
    this.memory.write32(error, 0);
  }
}

function checkMr(mr: number): number {
  if (!Number.isInteger(mr) || mr < 0 || mr >= MESSAGE_REGISTERS) {
    throw new RangeError(
      `message register ${mr} does not exist (there are ${MESSAGE_REGISTERS}: 0..${MESSAGE_REGISTERS - 1})`,
    );
  }
  return mr;
}
