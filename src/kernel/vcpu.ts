// seL4 VCPU objects and their threads: `vcpu.run(n)` on the machine's core, whose exits become VMM faults.

import { exitSyndrome, type JitStats, type Vcpu, type VcpuExit } from "../machine/cpu.ts";
import {
  ExceptionClass,
  decodeDataAbort,
  exceptionClass,
  extendLoadedValue,
  isDataAbort,
  stepBackToInstruction,
  stepPastInstruction,
} from "../machine/arch/index.ts";
import type { MmioDevice } from "../machine/devices/mmio.ts";
import type { Fault } from "./faults.ts";
import type { ComputeBody, SliceResult } from "./thread.ts";

/** What the kernel needs from a machine vCPU (src/machine/cpu.ts). */
export type MachineVcpu = Pick<
  Vcpu,
  | "pc"
  | "pstate"
  | "instructionsRetired"
  | "getX"
  | "setX"
  | "readSysreg"
  | "writeSysreg"
  | "getSp"
  | "setSp"
  | "setListRegister"
  | "getListRegister"
  | "vtimerMasked"
  | "run"
> &
  Partial<Pick<Vcpu, "jitStatistics">>;

export type MachineExit = VcpuExit;

/** Brings the machine's counter up to virtual time `nowNs` (it never goes back). */
export type CounterSync = (nowNs: number) => void;

/** The device behind a passed-through stage-2 device mapping, by IPA. */
export type PassthroughLookup = (ipa: number) => { device: MmioDevice; offset: number } | undefined;

/** seL4_VCPUReg numbering (the SMP layout, which includes VMPIDR_EL2). */
export const VcpuReg = {
  SCTLR: 0,
  TTBR0: 1,
  TTBR1: 2,
  TCR: 3,
  MAIR: 4,
  AMAIR: 5,
  CIDR: 6,
  ACTLR: 7,
  CPACR: 8,
  AFSR0: 9,
  AFSR1: 10,
  ESR: 11,
  FAR: 12,
  ISR: 13,
  VBAR: 14,
  TPIDR_EL1: 15,
  VMPIDR_EL2: 16,
  SP_EL1: 17,
  ELR_EL1: 18,
  SPSR_EL1: 19,
  CNTV_CTL: 20,
  CNTV_CVAL: 21,
  CNTVOFF: 22,
  CNTKCTL_EL1: 23,
} as const;

const SYSREG_NAMES = [
  "SCTLR_EL1",
  "TTBR0_EL1",
  "TTBR1_EL1",
  "TCR_EL1",
  "MAIR_EL1",
  "AMAIR_EL1",
  "CONTEXTIDR_EL1",
  "ACTLR_EL1",
  "CPACR_EL1",
  "AFSR0_EL1",
  "AFSR1_EL1",
  "ESR_EL1",
  "FAR_EL1",
  "ISR_EL1",
  "VBAR_EL1",
  "TPIDR_EL1",
  "VMPIDR_EL2",
  "SP_EL1",
  "ELR_EL1",
  "SPSR_EL1",
  "CNTV_CTL_EL0",
  "CNTV_CVAL_EL0",
  "CNTVOFF_EL2",
  "CNTKCTL_EL1",
] as const;

/** An EL1 system register of a VCPU object, by ARM ARM name (seL4_VCPUReg: VcpuReg lists their numbers). */
export type VcpuSystemRegister = (typeof SYSREG_NAMES)[number];

/**
 * What a VMM reaches of one of its vCPUs: the TCB's general registers, PC and PSTATE
 * (seL4_TCB_ReadRegisters/WriteRegisters) and the VCPU object's EL1 system registers
 * (microkit_vcpu_arm_read_reg/write_reg). A view of the vCPU, not the machine vCPU: it cannot run it.
 * Changes take effect when the vCPU next runs.
 */
export interface VcpuRegisterView {
  /** x0..x30. */
  getX(n: number): bigint;
  setX(n: number, value: bigint): void;
  pc: bigint;
  /** NZCV 31:28, DAIF 9:6, CurrentEL 3:2, SPSel 0. */
  pstate: number;
  readSystemRegister(name: VcpuSystemRegister): bigint;
  writeSystemRegister(name: VcpuSystemRegister, value: bigint): void;
}

/**
 * Read-only machine state of a vCPU for debugging aids (VIRTKIT_TRACE, the boot benchmark), beyond
 * what seL4 lets a VMM see: retired instructions, the kernel's timer mask, the list registers, any
 * system register the core names.
 */
export interface VcpuInspection {
  readonly pc: bigint;
  readonly pstate: number;
  readonly instructionsRetired: number;
  readonly vtimerMasked: boolean;
  readSysreg(name: string): bigint;
  getListRegister(index: number): bigint;
  /** The CPU core's JIT counters (src/machine/cpu/jit), undefined when it only interprets. */
  readonly jit: JitStats | undefined;
}

/** seL4 error codes the VCPU invocations return. */
export const Sel4Error = {
  NoError: 0,
  InvalidArgument: 1,
  InvalidCapability: 2,
  RangeError: 4,
  DeleteFirst: 8,
} as const;

const LIST_REGISTERS = 4;
const VTIMER_PPI = 27;

/**
 * Virtual nanoseconds per retired guest instruction: the core's counter runs at 62.5 MHz
 * (16 ns a tick) and by default advances one tick per 4 instructions, a 250 MHz core.
 */
export const NS_PER_INSTRUCTION = 4;
/** Virtual nanoseconds per tick of the 62.5 MHz system counter. */
export const NS_PER_COUNTER_TICK = 16;

export class VcpuObject implements ComputeBody {
  readonly kind = "compute";

  /** The last exit was WFI/WFE: the vCPU sleeps until an interrupt. */
  private waitingForInterrupt = false;
  /** The registers the VMM may read and write: a view, so that a PD never holds the machine vCPU. */
  readonly registers: VcpuRegisterView;
  /** Read-only state for debugging aids; see VcpuInspection. */
  readonly inspection: VcpuInspection;

  constructor(
    /** The vCPU id the VMM uses (the fault badge). */
    readonly id: number,
    private readonly machine: MachineVcpu,
    /** Passed-through device memory: accesses reach the device as on hardware, never the VMM. */
    private readonly passthrough: PassthroughLookup = () => undefined,
    /** Keeps the machine's counter at the kernel's virtual time across idle periods. */
    private readonly syncCounter: CounterSync = () => {},
  ) {
    this.registers = registerView(
      machine,
      (name) => this.readSystemRegister(name),
      (name, value) => this.writeSystemRegister(name, value),
    );
    this.inspection = inspectionOf(machine);
  }

  run(maxNs: number, nowNs: number): SliceResult {
    this.syncCounter(nowNs);
    this.waitingForInterrupt = false;
    const before = this.machine.instructionsRetired;
    let budget = Math.max(1, Math.floor(maxNs / NS_PER_INSTRUCTION));
    for (;;) {
      const exit = this.machine.run(budget);
      const retired = this.machine.instructionsRetired - before;
      const usedNs = Math.max(1, retired) * NS_PER_INSTRUCTION;
      if (exit.kind === "stage2-abort" && this.emulatePassthrough(exit)) {
        budget = Math.floor(maxNs / NS_PER_INSTRUCTION) - retired;
        if (budget > 0) continue;
        return { usedNs };
      }
      this.waitingForInterrupt = exit.kind === "wfi" || exit.kind === "wfe";
      const fault = this.faultFor(exit);
      return fault ? { usedNs, fault } : { usedNs };
    }
  }

  /**
   * A vCPU sleeping in WFI/WFE with its virtual timer armed (CNTV_CTL enabled, not masked,
   * and the PPI not masked by the kernel) wakes when the timer fires.
   */
  wakeupAt(): number | undefined {
    if (!this.waitingForInterrupt || this.machine.vtimerMasked) return undefined;
    if ((this.machine.readSysreg("CNTV_CTL_EL0") & 3n) !== 1n) return undefined;
    const deadline = this.machine.readSysreg("CNTV_CVAL_EL0") + this.machine.readSysreg("CNTVOFF_EL2");
    return Number(deadline) * NS_PER_COUNTER_TICK;
  }

  /** The sleeping vCPU's timer fired: a VPPIEvent, as seL4 raises when the timer's interrupt arrives. */
  wake(): Fault | undefined {
    if (this.wakeupAt() === undefined) return undefined;
    return this.faultFor({ kind: "vtimer" });
  }

  /**
   * A VPPI event the VMM never received (it restarted the sleeping vCPU first, woken by another
   * interrupt) would leave the timer's PPI masked for good, with no EOI to ack it: unmask it, so the
   * still-firing timer raises the event again once the vCPU runs.
   */
  faultWithdrawn(fault: Fault): void {
    if (fault.kind === "VPPIEvent") this.machine.vtimerMasked = false;
  }

  /** seL4_ARM_VCPU_InjectIRQ: writes a pending list register that raises a maintenance IRQ on EOI. */
  injectIrq(virq: number, priority: number, group: number, index: number): number {
    if (index >= LIST_REGISTERS || virq >= 1024 || priority > 31 || group > 1) return Sel4Error.RangeError;
    const state = Number((this.machine.getListRegister(index) >> 28n) & 3n);
    if (state !== 0) return Sel4Error.DeleteFirst;
    const lr =
      (BigInt(group) << 30n) | (1n << 28n) | (BigInt(priority) << 23n) | (1n << 19n) | BigInt(virq & 0x3ff);
    this.machine.setListRegister(index, lr);
    return Sel4Error.NoError;
  }

  /** seL4_ARM_VCPU_AckVPPI. */
  ackVppi(irq: number): number {
    if (irq !== VTIMER_PPI) return Sel4Error.InvalidArgument;
    this.machine.vtimerMasked = false;
    return Sel4Error.NoError;
  }

  /** seL4_ARM_VCPU_ReadRegs: `reg` is a seL4_VCPUReg number; undefined for none. */
  readRegister(reg: number): bigint | undefined {
    const name = SYSREG_NAMES[reg];
    return name === undefined ? undefined : this.readSystemRegister(name);
  }

  /** seL4_ARM_VCPU_WriteRegs: false for a number that is no seL4_VCPUReg. */
  writeRegister(reg: number, value: bigint): boolean {
    const name = SYSREG_NAMES[reg];
    if (name === undefined) return false;
    this.writeSystemRegister(name, value);
    return true;
  }

  private readSystemRegister(name: VcpuSystemRegister): bigint {
    return name === "SP_EL1" ? this.machine.getSp(1) : this.machine.readSysreg(name);
  }

  private writeSystemRegister(name: VcpuSystemRegister, value: bigint): void {
    if (name === "SP_EL1") this.machine.setSp(1, value);
    else this.machine.writeSysreg(name, value);
  }

  /**
   * A load or store with a valid syndrome (ISV) to passed-through device memory: done on
   * the device, Rt written for loads, the PC past the instruction. False when the access
   * is not to a passthrough device or cannot be decoded (it goes to the VMM as a VMFault).
   */
  private emulatePassthrough(exit: Extract<MachineExit, { kind: "stage2-abort" }>): boolean {
    const target = this.passthrough(exit.ipa);
    if (!target || !isDataAbort(exit.esr)) return false;
    const access = decodeDataAbort(exit.esr);
    if (!access.valid) return false;
    const { size, register: rt } = access;
    const machine = this.machine;
    if (access.write) {
      const value = rt === 31 ? 0n : machine.getX(rt);
      target.device.write(target.offset, size, BigInt.asUintN(size * 8, value), this.id);
    } else {
      const value = target.device.read(target.offset, size, this.id);
      if (rt !== 31) machine.setX(rt, extendLoadedValue(value, access));
    }
    stepPastInstruction(machine, exit.esr);
    return true;
  }

  private faultFor(exit: MachineExit): Fault | undefined {
    switch (exit.kind) {
      case "slice-end":
        return undefined;
      case "stage2-abort":
        return {
          kind: "VMFault",
          ip: this.machine.pc,
          addr: BigInt(exit.ipa),
          prefetch: exceptionClass(exit.esr) === ExceptionClass.INSTRUCTION_ABORT_LOWER,
          fsr: exit.esr,
        };
      case "smc": {
        // A trapped SMC (HCR_EL2.TSC) is not executed: seL4 reports it with the PC at the SMC,
        // and the VMM steps over it. The core leaves the PC past it, as for an executed HVC.
        const hsr = exitSyndrome(exit);
        stepBackToInstruction(this.machine, hsr);
        return { kind: "VCPUFault", hsr };
      }
      case "hvc":
      case "wfi":
      case "wfe":
      case "sysreg":
        return { kind: "VCPUFault", hsr: exitSyndrome(exit) };
      case "vtimer":
        // seL4 masks the virtual timer's PPI until the VMM acks it (AckVPPI).
        this.machine.vtimerMasked = true;
        return { kind: "VPPIEvent", irq: VTIMER_PPI };
      case "maintenance":
        return { kind: "VGICMaintenance", index: exit.listRegister };
      case "halted":
        return { kind: "VCPUFault", hsr: 0 };
    }
  }
}

function registerView(
  machine: MachineVcpu,
  read: (name: VcpuSystemRegister) => bigint,
  write: (name: VcpuSystemRegister, value: bigint) => void,
): VcpuRegisterView {
  return {
    getX: (n) => machine.getX(n),
    setX: (n, value) => machine.setX(n, value),
    get pc() {
      return machine.pc;
    },
    set pc(value) {
      machine.pc = value;
    },
    get pstate() {
      return machine.pstate;
    },
    set pstate(value) {
      machine.pstate = value;
    },
    readSystemRegister: read,
    writeSystemRegister: write,
  };
}

function inspectionOf(machine: MachineVcpu): VcpuInspection {
  return {
    get pc() {
      return machine.pc;
    },
    get pstate() {
      return machine.pstate;
    },
    get instructionsRetired() {
      return machine.instructionsRetired;
    },
    get vtimerMasked() {
      return machine.vtimerMasked;
    },
    get jit() {
      return machine.jitStatistics;
    },
    readSysreg: (name) => machine.readSysreg(name),
    getListRegister: (index) => machine.getListRegister(index),
  };
}
