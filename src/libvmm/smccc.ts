// The SMC Calling Convention (Arm DEN0028): function identifiers and the return codes shared by its
// services. HVC and SMC carry the same calls.

/** Owning entity numbers (function ID bits 29:24). */
export const SmcccService = {
  ARCH: 0,
  CPU: 1,
  SIP: 2,
  OEM: 3,
  STANDARD: 4,
  STANDARD_HYPERVISOR: 5,
  VENDOR_HYPERVISOR: 6,
} as const;

export const SMCCC_VERSION = 0x8000_0000;
export const SMCCC_ARCH_FEATURES = 0x8000_0001;
/** SMCCC 1.1: the version SMCCC_VERSION reports, (major << 16) | minor. */
export const SMCCC_VERSION_1_1 = 0x0001_0001;

export const SMCCC_NOT_SUPPORTED = -1;

export interface FunctionId {
  raw: number;
  /** Bit 31: a fast call (SMCCC defines only fast calls from a normal-world OS). */
  fastCall: boolean;
  /** Bit 30: SMC64/HVC64 calling convention; clear for SMC32/HVC32. */
  smc64: boolean;
  service: number;
  /** Bits 15:0. */
  functionNumber: number;
}

export function decodeFunctionId(x0: bigint): FunctionId {
  const raw = Number(x0 & 0xffff_ffffn);
  return {
    raw,
    fastCall: raw >>> 31 === 1,
    smc64: ((raw >>> 30) & 1) === 1,
    service: (raw >>> 24) & 0x3f,
    functionNumber: raw & 0xffff,
  };
}

export function serviceName(service: number): string {
  switch (service) {
    case SmcccService.ARCH:
      return "Arm architecture";
    case SmcccService.CPU:
      return "CPU";
    case SmcccService.SIP:
      return "SiP";
    case SmcccService.OEM:
      return "OEM";
    case SmcccService.STANDARD:
      return "standard secure";
    case SmcccService.STANDARD_HYPERVISOR:
      return "standard hypervisor";
    case SmcccService.VENDOR_HYPERVISOR:
      return "vendor hypervisor";
  }
  return service >= 48 ? "trusted OS" : "reserved";
}

/** A return code as the 64-bit register value the caller sees (negative codes sign-extended). */
export function returnValue(code: number): bigint {
  return BigInt.asUintN(64, BigInt(code));
}
