// A VMM's core, libvmm's guest_init and fault_handle together: builds a VM's vCPUs, vGIC, emulated-device
// map and SMCCC/PSCI service, then turns each fault a vCPU raises into emulation, a virtual interrupt,
// a sleeping vCPU or a report. The VMM PD calls `handleFault` from its `fault` entry point and
// `handleNotification` from `notified`.
import { FaultLabel } from "../kernel/faults.ts";
import { emulateDataAbort } from "./fault/data-abort.ts";
import type { DeviceTreeRegion } from "./fault/device-tree-regions.ts";
import {
  ExceptionClass,
  decodeSysregAccess,
  disassemble,
  exceptionClass,
  isInstructionAbort,
  isWfe,
  stepPastInstruction,
  systemRegisterName,
} from "../machine/arch/index.ts";
import { MmioRegions } from "./fault/mmio.ts";
import { reportUnhandledFault, type FaultContext } from "./fault/report.ts";
import { Guest } from "./guest.ts";
import type { GuestRam } from "./guest-ram.ts";
import { bootLinux, type LinuxBoot, type LinuxImages } from "./linux.ts";
import type { VmmLog } from "./log.ts";
import { SmcccDispatcher, type SmcccOutcome } from "./smc.ts";
import type { VcpuControl } from "./vcpu.ts";
import { hex } from "../util/hex.ts";
import { GICV2_DISTRIBUTOR_SIZE, Gicv2Distributor } from "./vgic/gicv2-distributor.ts";
import { GICV3_DISTRIBUTOR_SIZE, Gicv3Distributor } from "./vgic/gicv3-distributor.ts";
import { Gicv3Redistributors, redistributorRegionSize } from "./vgic/gicv3-redistributor.ts";
import { handleGicSysreg } from "./vgic/gicv3-sysregs.ts";
import { VTIMER_PPI, Vgic } from "./vgic/vgic.ts";

/** The seL4 faults a VMM receives from its vCPUs, decoded from the fault message. */
export type VcpuFault =
  | { kind: "VMFault"; ip: bigint; addr: bigint; prefetch: boolean; fsr: number }
  | { kind: "VCPUFault"; hsr: number }
  | { kind: "VGICMaintenance"; index: number }
  | { kind: "VPPIEvent"; irq: number }
  | { kind: "UnknownSyscall"; syscall: bigint }
  | { kind: "UserException"; ip: bigint; number: number; code: number };

/** Decodes a fault message (`label`, message registers) in the runtime's seL4 layout. */
export function decodeFault(label: number, mr: (index: number) => bigint): VcpuFault | undefined {
  switch (label) {
    case FaultLabel.VMFault:
      return {
        kind: "VMFault",
        ip: mr(0),
        addr: mr(1),
        prefetch: mr(2) !== 0n,
        fsr: Number(mr(3) & 0xffff_ffffn),
      };
    case FaultLabel.VCPUFault:
      return { kind: "VCPUFault", hsr: Number(mr(0) & 0xffff_ffffn) };
    case FaultLabel.VGICMaintenance:
      return { kind: "VGICMaintenance", index: Number(mr(0)) };
    case FaultLabel.VPPIEvent:
      return { kind: "VPPIEvent", irq: Number(mr(0)) };
    case FaultLabel.UnknownSyscall:
      return { kind: "UnknownSyscall", syscall: mr(0) };
    case FaultLabel.UserException:
      return { kind: "UserException", ip: mr(0), number: Number(mr(3)), code: Number(mr(4)) };
  }
  return undefined;
}

/** libmicrokit's interrupt calls for the VM: list-register injection, VPPI and IRQ acks. */
export interface VmmInterruptControl {
  /** microkit_vcpu_arm_inject_irq */
  injectIrq(vcpuId: number, intid: number, priority: number, group: number, lrIndex: number): void;
  /** microkit_vcpu_arm_ack_vppi */
  ackVppi(vcpuId: number, intid: number): void;
  /** microkit_irq_ack */
  irqAck(channel: number): void;
}

export type GicPlacement =
  { version: 2; distributor: number } | { version: 3; distributor: number; redistributors: number };

export interface VmmOptions {
  vmName: string;
  vcpuCount: number;
  log: VmmLog;
  control: VcpuControl;
  interrupts: VmmInterruptControl;
  gic: GicPlacement;
  /** Interrupt lines of the virtual distributor (default 256). */
  gicLines?: number;
  /** The guest's RAM: needed by bootLinux, and checks PSCI CPU_ON entry points. */
  ram?: GuestRam;
  /** Reads the instruction at a guest PC for fault reports (through the guest's page tables). */
  readInstruction?(vcpuId: number, pc: bigint): number | undefined;
  /** PSCI SYSTEM_OFF: every vCPU has stopped. */
  onSystemOff?(): void;
  /** PSCI SYSTEM_RESET: every vCPU has stopped and the distributor is reset; a guest started with bootLinux is already booting again. */
  onSystemReset?(): void;
}

/** seL4 syscall numbers libvmm lets a guest's kernel make: PA_TO_IPA and NOP, both no-ops here. */
const TOLERATED_SYSCALLS = new Set([65n, 67n]);

export class Vmm {
  readonly guest: Guest;
  readonly vgic: Vgic;
  readonly mmio = new MmioRegions();
  readonly smccc: SmcccDispatcher;
  /** The memory-mapped nodes of the guest's DTB, named in fault reports. */
  deviceTree: readonly DeviceTreeRegion[] = [];
  /** The Linux images booted, for SYSTEM_RESET. */
  private linux: { images: LinuxImages; dtbAddress: number } | undefined;
  /** vCPUs asleep in WFI or CPU_SUSPEND, woken by the next virtual interrupt. */
  private readonly sleeping = new Set<number>();

  /** The VMM's log (emulated devices report to it). */
  get log(): VmmLog {
    return this.options.log;
  }

  /** The guest's RAM as the VMM maps it, if it was given (emulated devices DMA into it). */
  get ram(): GuestRam | undefined {
    return this.options.ram;
  }

  constructor(private readonly options: VmmOptions) {
    const { log, control, interrupts } = options;
    this.guest = new Guest({
      name: options.vmName,
      vcpuCount: options.vcpuCount,
      control,
      log,
      isGuestRam: options.ram
        ? (a) => a <= BigInt(Number.MAX_SAFE_INTEGER) && options.ram!.contains(Number(a))
        : undefined,
      onSystemOff: () => {
        this.sleeping.clear();
        options.onSystemOff?.();
      },
      onSystemReset: () => {
        this.sleeping.clear();
        this.vgic.reset();
        // A timer VPPI event the old kernel never EOI'd would keep the PPI masked in the new boot.
        for (let v = 0; v < options.vcpuCount; v++) interrupts.ackVppi(v, VTIMER_PPI);
        if (this.linux) this.bootLinux(this.linux.images, this.linux.dtbAddress);
        options.onSystemReset?.();
      },
    });
    this.vgic = new Vgic({
      version: options.gic.version,
      vcpuCount: options.vcpuCount,
      lines: options.gicLines,
      log,
      sink: {
        injectIrq: (vcpuId, intid, priority, group, lrIndex) => {
          interrupts.injectIrq(vcpuId, intid, priority, group, lrIndex);
          this.wake(vcpuId);
        },
      },
    });
    if (options.gic.version === 2) {
      this.mmio.register(
        "vGIC distributor",
        options.gic.distributor,
        GICV2_DISTRIBUTOR_SIZE,
        new Gicv2Distributor(this.vgic),
      );
    } else {
      this.mmio.register(
        "vGIC distributor",
        options.gic.distributor,
        GICV3_DISTRIBUTOR_SIZE,
        new Gicv3Distributor(this.vgic),
      );
      this.mmio.register(
        "vGIC redistributors",
        options.gic.redistributors,
        redistributorRegionSize(options.vcpuCount),
        new Gicv3Redistributors(this.vgic),
      );
    }
    for (let v = 0; v < options.vcpuCount; v++)
      this.vgic.registerVtimer(v, (id, irq) => interrupts.ackVppi(id, irq));
    this.smccc = new SmcccDispatcher(this.guest, log);
  }

  /**
   * Loads a Linux guest into `ram` and starts vCPU 0 (libvmm's guest_start). PSCI SYSTEM_RESET then
   * reloads the same images and boots again.
   */
  bootLinux(images: LinuxImages, dtbAddress: number): LinuxBoot {
    const { ram } = this.options;
    if (!ram) throw new Error("Vmm.bootLinux needs the guest's RAM: pass `ram` to new Vmm({ … })");
    const boot = bootLinux(this.guest, ram, images, dtbAddress);
    this.linux = { images, dtbAddress };
    return boot;
  }

  /** Passes the IRQ on `channel` through to the guest as `intid` (libvmm's virq_register_passthrough). */
  registerPassthroughIrq(vcpuId: number, intid: number, channel: number): void {
    this.vgic.registerPassthroughIrq(vcpuId, intid, channel, (ch) => this.options.interrupts.irqAck(ch));
  }

  /** For `notified(ch)`: true when the channel was a passed-through IRQ (now injected). */
  handleNotification(channel: number): boolean {
    return this.vgic.handleChannel(channel);
  }

  /**
   * For `fault(child, msginfo)`: handles a vCPU's fault. True means reply (resume the vCPU); false leaves
   * it blocked — asleep until a virtual interrupt, powered off, or stopped after a report.
   */
  handleFault(vcpuId: number, fault: VcpuFault): boolean {
    switch (fault.kind) {
      case "VMFault":
        return this.handleMemoryFault(vcpuId, fault);
      case "VCPUFault":
        return this.handleVcpuFault(vcpuId, fault.hsr);
      case "VGICMaintenance":
        this.vgic.handleMaintenance(vcpuId, fault.index);
        return true;
      case "VPPIEvent":
        this.vgic.inject(vcpuId, fault.irq);
        return true;
      case "UnknownSyscall":
        if (TOLERATED_SYSCALLS.has(fault.syscall)) return this.advance(vcpuId);
        return this.stop(vcpuId, `unknown syscall ${fault.syscall}`);
      case "UserException":
        return this.stop(
          vcpuId,
          `user exception at ${hex(fault.ip)} (number ${fault.number}, code ${fault.code})`,
        );
    }
  }

  private handleMemoryFault(vcpuId: number, fault: Extract<VcpuFault, { kind: "VMFault" }>): boolean {
    const regs = this.options.control.registers(vcpuId);
    const ipa = Number(fault.addr);
    if (fault.prefetch || isInstructionAbort(fault.fsr)) {
      reportUnhandledFault(this.options.log, this.context(vcpuId), {
        kind: "instruction-abort",
        esr: fault.fsr,
        ipa,
      });
      return false;
    }
    const outcome = emulateDataAbort(this.mmio, { vcpuId, regs, ipa, esr: fault.fsr });
    if (outcome.kind === "emulated") return true;
    reportUnhandledFault(this.options.log, this.context(vcpuId), {
      kind: "data-abort",
      esr: fault.fsr,
      ipa,
      outcome,
    });
    return false;
  }

  private handleVcpuFault(vcpuId: number, hsr: number): boolean {
    const regs = this.options.control.registers(vcpuId);
    switch (exceptionClass(hsr)) {
      case ExceptionClass.WFX:
        stepPastInstruction(regs, hsr);
        // WFI sleeps until an interrupt is pending. WFE may complete spuriously, and a spinning lock
        // waiter must not sleep until the next interrupt, so it resumes at once.
        return isWfe(hsr) ? true : this.sleepUntilInterrupt(vcpuId);
      case ExceptionClass.HVC64:
        // HVC is an exception call: the vCPU's PC already points past it.
        return this.smcccOutcome(vcpuId, this.smccc.handle({ vcpuId, regs, conduit: "hvc" }), regs.getX(0));
      case ExceptionClass.SMC64: {
        // A trapped SMC returns to the SMC itself (ARM ARM: HCR_EL2.TSC), so the VMM steps over it.
        const functionId = regs.getX(0);
        const outcome = this.smccc.handle({ vcpuId, regs, conduit: "smc" });
        if (outcome !== "stopped" && outcome !== "unhandled") stepPastInstruction(regs, hsr);
        return this.smcccOutcome(vcpuId, outcome, functionId);
      }
      case ExceptionClass.SYSREG: {
        if (this.vgic.version === 3 && handleGicSysreg(this.vgic, vcpuId, regs, hsr)) return true;
        const access = decodeSysregAccess(hsr);
        return this.stop(
          vcpuId,
          `${access.read ? "read of" : "write to"} system register ${systemRegisterName(access)}, which the VMM does not emulate`,
        );
      }
    }
    return this.stop(
      vcpuId,
      `vCPU fault with HSR ${hex(hsr >>> 0)} (EC ${hex(exceptionClass(hsr))}) that the VMM does not handle`,
    );
  }

  private smcccOutcome(vcpuId: number, outcome: SmcccOutcome, functionId: bigint): boolean {
    if (outcome === "standby") return this.sleepUntilInterrupt(vcpuId);
    if (outcome === "unhandled") {
      return this.stop(
        vcpuId,
        `SiP call ${hex(functionId & 0xffff_ffffn)} has no answer: this VMM registered no SiP handler ` +
          `(vmm.smccc.registerSipHandler, docs/writing-a-vmm.md)`,
      );
    }
    return outcome === "resume";
  }

  /**
   * Leaves the vCPU blocked until the VMM next injects an interrupt into it — a passthrough IRQ, an SGI,
   * or its virtual timer, whose VPPI event the kernel raises when the timer of a vCPU waiting in WFI
   * fires. It resumes at once (WFI may complete early) when an interrupt is already listed or queued.
   */
  private sleepUntilInterrupt(vcpuId: number): boolean {
    const lrs = this.vgic.listRegisters[vcpuId]!;
    if (lrs.listed.some((l) => l !== undefined) || lrs.queued.length > 0) return true;
    this.sleeping.add(vcpuId);
    return false;
  }

  private wake(vcpuId: number): void {
    if (!this.sleeping.delete(vcpuId)) return;
    this.options.control.restart(vcpuId, this.options.control.registers(vcpuId).pc);
  }

  /** Resumes past an instruction the fault message has no syndrome for (an seL4 syscall): A64, 4 bytes. */
  private advance(vcpuId: number): boolean {
    stepPastInstruction(this.options.control.registers(vcpuId));
    return true;
  }

  private context(vcpuId: number): FaultContext {
    const regs = this.options.control.registers(vcpuId);
    return {
      vmName: this.options.vmName,
      vcpuId,
      pc: regs.pc,
      instruction: this.options.readInstruction?.(vcpuId, regs.pc),
      regs,
      deviceTree: this.deviceTree,
    };
  }

  private stop(vcpuId: number, what: string): boolean {
    const { pc } = this.options.control.registers(vcpuId);
    const insn = this.options.readInstruction?.(vcpuId, pc);
    const at = insn === undefined ? hex(pc) : `${hex(pc)} (${disassemble(insn, pc)})`;
    this.options.log.error(
      `${this.options.vmName}: vCPU ${vcpuId} stopped: ${what}, at pc ${at}; the rest of the system keeps running`,
    );
    return false;
  }
}
