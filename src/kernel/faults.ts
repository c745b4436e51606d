// seL4 fault messages (MCS numbering, AArch64) as a fault handler receives them: label and message registers.

export const FaultLabel = {
  NullFault: 0,
  CapFault: 1,
  UnknownSyscall: 2,
  UserException: 3,
  Timeout: 5,
  VMFault: 6,
  VGICMaintenance: 7,
  VCPUFault: 8,
  VPPIEvent: 9,
} as const;

export type Fault =
  | {
      kind: "VMFault";
      ip: bigint;
      addr: bigint;
      prefetch: boolean;
      fsr: number;
    }
  | {
      kind: "UserException";
      ip: bigint;
      sp: bigint;
      spsr: bigint;
      number: number;
      code: number;
      detail?: string;
    }
  | { kind: "VCPUFault"; hsr: number }
  | { kind: "VGICMaintenance"; index: number }
  | { kind: "VPPIEvent"; irq: number }
  | { kind: "UnknownSyscall"; syscall: bigint };

/** The label and message registers a fault handler receives for `fault`. */
export function faultMessage(fault: Fault): { label: number; mrs: bigint[] } {
  switch (fault.kind) {
    case "VMFault":
      return {
        label: FaultLabel.VMFault,
        mrs: [fault.ip, fault.addr, fault.prefetch ? 1n : 0n, BigInt(fault.fsr >>> 0)],
      };
    case "UserException":
      return {
        label: FaultLabel.UserException,
        mrs: [fault.ip, fault.sp, fault.spsr, BigInt(fault.number), BigInt(fault.code)],
      };
    case "VCPUFault":
      return { label: FaultLabel.VCPUFault, mrs: [BigInt(fault.hsr >>> 0)] };
    case "VGICMaintenance":
      return { label: FaultLabel.VGICMaintenance, mrs: [BigInt(fault.index)] };
    case "VPPIEvent":
      return { label: FaultLabel.VPPIEvent, mrs: [BigInt(fault.irq)] };
    case "UnknownSyscall":
      return { label: FaultLabel.UnknownSyscall, mrs: [fault.syscall] };
  }
}
