// A VM's vCPUs and their power states: boot, PSCI CPU_ON/CPU_OFF, SYSTEM_OFF and SYSTEM_RESET.
// vCPU n has MPIDR affinity Aff0 = n, the VMPIDR_EL2 value Microkit gives it.
import type { VmmLog } from "./log.ts";
import type { PsciPlatform } from "./psci.ts";
import {
  PSTATE_EL1H_DAIF_MASKED,
  VCPU_RESET_SYSREGS,
  type VcpuControl,
  type ResetSystemRegister,
} from "./vcpu.ts";
import { hex } from "../util/hex.ts";

export const MAX_VCPUS = 4;

export interface GuestOptions {
  name: string;
  vcpuCount: number;
  control: VcpuControl;
  log: VmmLog;
  /** The guest's RAM, for checking CPU_ON entry points. */
  isGuestRam?(address: bigint): boolean;
  /** SYSTEM_OFF: every vCPU is already stopped. */
  onSystemOff?(): void;
  /** SYSTEM_RESET: every vCPU is already stopped; reload the images and boot again. */
  onSystemReset?(): void;
}

/** The register state a vCPU starts with (boot or CPU_ON): everything else is zero. */
export interface VcpuStartState {
  pc: bigint;
  x0: bigint;
}

export class Guest implements PsciPlatform {
  readonly name: string;
  readonly vcpuCount: number;
  private readonly on: boolean[];

  constructor(private readonly options: GuestOptions) {
    if (!Number.isInteger(options.vcpuCount) || options.vcpuCount < 1 || options.vcpuCount > MAX_VCPUS) {
      throw new Error(
        `guest '${options.name}': ${options.vcpuCount} vCPUs requested; libvmm supports 1 to ${MAX_VCPUS}`,
      );
    }
    this.name = options.name;
    this.vcpuCount = options.vcpuCount;
    this.on = new Array<boolean>(options.vcpuCount).fill(false);
  }

  affinity(vcpuId: number): bigint {
    return BigInt(vcpuId);
  }

  isOn(vcpuId: number): boolean {
    return this.on[vcpuId] === true;
  }

  isValidEntryPoint(entry: bigint): boolean {
    return this.options.isGuestRam ? this.options.isGuestRam(entry) : true;
  }

  /** Starts a vCPU: x0 as given, x1..x30 zero, EL1h with DAIF masked, MMU off, virtual timer disabled. */
  start(vcpuId: number, state: VcpuStartState): void {
    const { control } = this.options;
    const regs = control.registers(vcpuId);
    regs.setX(0, state.x0);
    for (let n = 1; n <= 30; n++) regs.setX(n, 0n);
    regs.pstate = PSTATE_EL1H_DAIF_MASKED;
    regs.pc = state.pc;
    for (const [name, value] of Object.entries(VCPU_RESET_SYSREGS))
      control.writeSystemRegister(vcpuId, name as ResetSystemRegister, value);
    this.on[vcpuId] = true;
    control.restart(vcpuId, state.pc);
  }

  powerOn(vcpuId: number, entry: bigint, context: bigint): void {
    this.options.log.info(`${this.name}: starting vCPU ${vcpuId} at ${hex(entry)}`);
    this.start(vcpuId, { pc: entry, x0: context });
  }

  powerOff(vcpuId: number): void {
    this.options.control.stop(vcpuId);
    this.on[vcpuId] = false;
  }

  systemOff(): void {
    this.stopAll();
    this.options.log.info(`${this.name}: the guest powered off (PSCI SYSTEM_OFF)`);
    this.options.onSystemOff?.();
  }

  systemReset(): void {
    this.stopAll();
    this.options.log.info(`${this.name}: the guest asked for a reset (PSCI SYSTEM_RESET)`);
    this.options.onSystemReset?.();
  }

  private stopAll(): void {
    for (let v = 0; v < this.vcpuCount; v++) if (this.on[v]) this.powerOff(v);
  }
}
