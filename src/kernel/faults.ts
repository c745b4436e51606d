// seL4 fault messages (MCS numbering on AArch64), as a fault handler receives them:
// a label and message registers in seL4's order.

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

// ESR_EL1/ESR_EL2 layout for data and instruction aborts from a lower exception level.
const EC_DATA_ABORT_LOWER = 0x24;
const EC_INSTRUCTION_ABORT_LOWER = 0x20;
const IL = 1 << 25;
const WNR = 1 << 6;

export const FaultStatus = {
  translation: (level: number) => 0x04 + level,
  permission: (level: number) => 0x0c + level,
} as const;

/** The FSR seL4 reports for an abort taken from EL0: EC, IL, WnR and the DFSC/IFSC. */
export function abortSyndrome(opts: { write: boolean; prefetch: boolean; status: number }): number {
  const ec = opts.prefetch ? EC_INSTRUCTION_ABORT_LOWER : EC_DATA_ABORT_LOWER;
  return ((ec << 26) | IL | (opts.write && !opts.prefetch ? WNR : 0) | opts.status) >>> 0;
}

/** Human-readable decoding of an abort status code, in the monitor's words. */
export function describeFaultStatus(status: number): string {
  const level = status & 3;
  switch (status & 0x3c) {
    case 0x00:
      return `address size fault, level ${level}`;
    case 0x04:
      return `translation fault, level ${level}`;
    case 0x08:
      return `access flag fault, level ${level}`;
    case 0x0c:
      return `permission fault, level ${level}`;
    default:
      return "unknown fault status";
  }
}
