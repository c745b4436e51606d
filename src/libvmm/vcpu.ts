// The narrow views of a vCPU that libvmm needs. They mirror what a Microkit VMM reaches through
// libmicrokit (TCB registers, vcpu_restart/vcpu_stop) so the library can be driven by the runtime's
// PD API or, in tests, by plain objects.

/** General-purpose registers, PC and SPSR of a stopped (faulted) vCPU, as the VMM reads them from its TCB. */
export interface VcpuRegisters {
  /** x0..x30; libvmm never passes 31 here (it handles XZR itself). */
  getX(n: number): bigint;
  setX(n: number, value: bigint): void;
  pc: bigint;
  /** SPSR_EL1 layout: NZCV 31:28, DAIF 9:6, M[3:0] (EL and SP selection). */
  pstate: number;
}

/** libmicrokit's vCPU controls for the VMM's own child vCPUs. */
export interface VcpuControl {
  registers(vcpuId: number): VcpuRegisters;
  /** microkit_vcpu_restart: resume the vCPU at `pc`. */
  restart(vcpuId: number, pc: bigint): void;
  /** microkit_vcpu_stop: suspend the vCPU's TCB. */
  stop(vcpuId: number): void;
  /** microkit_vcpu_arm_write_reg for the EL1 system registers a vCPU start must reset. */
  writeSystemRegister(vcpuId: number, name: ResetSystemRegister, value: bigint): void;
}

/**
 * The system registers a vCPU start puts back to their reset values. Without CNTV_CTL_EL0 a vCPU
 * restarted by SYSTEM_RESET keeps the previous kernel's virtual timer armed: it fires early in the new
 * boot, before the guest has set up its GIC, and its VPPI event masks the timer's PPI.
 */
export const VCPU_RESET_SYSREGS = {
  SCTLR_EL1: 0x30d0_0800n, // only the RES1 bits (ARMv8.0): MMU, caches and alignment checks off
  CNTV_CTL_EL0: 0n, // the virtual timer disabled (ENABLE resets to 0)
} as const;

export type ResetSystemRegister = keyof typeof VCPU_RESET_SYSREGS;

/** EL1h with D, A, I and F masked: the state the arm64 boot protocol and PSCI CPU_ON require. */
export const PSTATE_EL1H_DAIF_MASKED = 0x3c5;

export const MASK64 = (1n << 64n) - 1n;
