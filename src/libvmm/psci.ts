// PSCI 1.1 (Arm DEN0022) for a VM's vCPUs, the subset Linux uses plus the discovery calls.
// We report version 1.1, the version we implement; upstream libvmm reports 1.2 without the 1.2 calls.
import {
  SMCCC_NOT_SUPPORTED,
  SMCCC_VERSION,
  SmcccService,
  decodeFunctionId,
  type FunctionId,
} from "./smccc.ts";
import { MASK64, type VcpuRegisters } from "./vcpu.ts";

export const PSCI_VERSION_1_1 = 0x0001_0001;

export const PsciReturn = {
  SUCCESS: 0,
  NOT_SUPPORTED: -1,
  INVALID_PARAMETERS: -2,
  DENIED: -3,
  ALREADY_ON: -4,
  ON_PENDING: -5,
  INTERNAL_FAILURE: -6,
  NOT_PRESENT: -7,
  DISABLED: -8,
  INVALID_ADDRESS: -9,
} as const;

/** Function numbers (bits 15:0 of the ID) in the standard service. */
export const PsciFunction = {
  VERSION: 0x0,
  CPU_SUSPEND: 0x1,
  CPU_OFF: 0x2,
  CPU_ON: 0x3,
  AFFINITY_INFO: 0x4,
  MIGRATE: 0x5,
  MIGRATE_INFO_TYPE: 0x6,
  MIGRATE_INFO_UP_CPU: 0x7,
  SYSTEM_OFF: 0x8,
  SYSTEM_RESET: 0x9,
  FEATURES: 0xa,
} as const;

/** Standard-service function numbers at or below this belong to PSCI. */
export const PSCI_LAST_FUNCTION = 0x1f;

/**
 * The calls we implement and which calling conventions each has: PSCI defines SMC64 IDs only for calls
 * that take an address or an MPIDR.
 */
const IMPLEMENTED: ReadonlyMap<number, { smc32: boolean; smc64: boolean }> = new Map([
  [PsciFunction.VERSION, { smc32: true, smc64: false }],
  [PsciFunction.CPU_SUSPEND, { smc32: true, smc64: true }],
  [PsciFunction.CPU_OFF, { smc32: true, smc64: false }],
  [PsciFunction.CPU_ON, { smc32: true, smc64: true }],
  [PsciFunction.AFFINITY_INFO, { smc32: true, smc64: true }],
  [PsciFunction.MIGRATE_INFO_TYPE, { smc32: true, smc64: false }],
  [PsciFunction.SYSTEM_OFF, { smc32: true, smc64: false }],
  [PsciFunction.SYSTEM_RESET, { smc32: true, smc64: false }],
  [PsciFunction.FEATURES, { smc32: true, smc64: false }],
]);

export function isImplementedPsciCall(id: FunctionId): boolean {
  const conventions = IMPLEMENTED.get(id.functionNumber);
  return id.fastCall && conventions !== undefined && (id.smc64 ? conventions.smc64 : conventions.smc32);
}

/** MIGRATE_INFO_TYPE 2: no Trusted OS that needs migrating. */
export const MIGRATE_INFO_TYPE_NOT_PRESENT = 2;

/** The VM-wide power operations PSCI needs; libvmm's guest object implements them. */
export interface PsciPlatform {
  readonly vcpuCount: number;
  /** MPIDR_EL1 affinity (Aff3 39:32, Aff2 23:16, Aff1 15:8, Aff0 7:0) of a vCPU. */
  affinity(vcpuId: number): bigint;
  isOn(vcpuId: number): boolean;
  /** Starts a powered-off vCPU at `entry` with x0 = `context`, EL1h, DAIF masked, MMU off. */
  powerOn(vcpuId: number, entry: bigint, context: bigint): void;
  powerOff(vcpuId: number): void;
  systemOff(): void;
  systemReset(): void;
  /** Optional check of a CPU_ON entry point (guest RAM); false answers INVALID_ADDRESS. */
  isValidEntryPoint?(entry: bigint): boolean;
}

/**
 * What the VMM does with the calling vCPU afterwards: resume it after the call, let it wait as after
 * WFI until a virtual interrupt is pending (CPU_SUSPEND), or leave it stopped (CPU_OFF, SYSTEM_OFF,
 * SYSTEM_RESET — the platform has already acted).
 */
export type CallOutcome = "resume" | "standby" | "stopped";

export const AFFINITY_MASK = 0xff_00ff_ffffn;
export const AFFINITY_INFO_ON = 0;
export const AFFINITY_INFO_OFF = 1;
/** Original power_state format: StateType bit 16; bits 31:26 and 23:17 are reserved. */
const POWER_STATE_RESERVED = 0xfc7e_0000n;

/** Handles a PSCI call (function number ≤ 0x1f in the standard service) and writes its result to x0. */
export function handlePsciCall(
  platform: PsciPlatform,
  vcpuId: number,
  regs: VcpuRegisters,
  id: FunctionId,
): CallOutcome {
  // SMC32 arguments are the W registers.
  const arg = (n: number) => (id.smc64 ? regs.getX(n) : regs.getX(n) & 0xffff_ffffn);
  const ret = (value: number) => {
    regs.setX(0, BigInt.asUintN(64, BigInt(value)));
    return "resume" as const;
  };
  if (!isImplementedPsciCall(id)) return ret(PsciReturn.NOT_SUPPORTED);

  switch (id.functionNumber) {
    case PsciFunction.VERSION:
      return ret(PSCI_VERSION_1_1);
    case PsciFunction.FEATURES:
      return ret(psciFeatures(Number(arg(1))));
    case PsciFunction.MIGRATE_INFO_TYPE:
      return ret(MIGRATE_INFO_TYPE_NOT_PRESENT);
    case PsciFunction.CPU_ON: {
      const target = vcpusAt(platform, arg(1) & AFFINITY_MASK, 0)[0];
      if (target === undefined) return ret(PsciReturn.INVALID_PARAMETERS);
      if (platform.isOn(target)) return ret(PsciReturn.ALREADY_ON);
      const entry = arg(2);
      if (platform.isValidEntryPoint && !platform.isValidEntryPoint(entry))
        return ret(PsciReturn.INVALID_ADDRESS);
      platform.powerOn(target, entry, arg(3) & MASK64);
      return ret(PsciReturn.SUCCESS);
    }
    case PsciFunction.CPU_OFF:
      platform.powerOff(vcpuId);
      return "stopped";
    case PsciFunction.AFFINITY_INFO: {
      const level = Number(arg(2));
      if (level > 3) return ret(PsciReturn.INVALID_PARAMETERS);
      const matching = vcpusAt(platform, arg(1) & AFFINITY_MASK, level);
      if (matching.length === 0) return ret(PsciReturn.INVALID_PARAMETERS);
      return ret(matching.some((v) => platform.isOn(v)) ? AFFINITY_INFO_ON : AFFINITY_INFO_OFF);
    }
    case PsciFunction.CPU_SUSPEND: {
      if ((arg(1) & POWER_STATE_RESERVED) !== 0n) return ret(PsciReturn.INVALID_PARAMETERS);
      // A powerdown request is served as standby: PSCI lets an implementation return SUCCESS from
      // CPU_SUSPEND as though the core had woken from a shallower state, so no entry-point restart is needed.
      ret(PsciReturn.SUCCESS);
      return "standby";
    }
    case PsciFunction.SYSTEM_OFF:
      platform.systemOff();
      return "stopped";
    case PsciFunction.SYSTEM_RESET:
      platform.systemReset();
      return "stopped";
  }
  return ret(PsciReturn.NOT_SUPPORTED);
}

/** PSCI_FEATURES: 0 (or CPU_SUSPEND's feature flags) for an implemented function ID, else NOT_SUPPORTED. */
function psciFeatures(functionId: number): number {
  // PSCI_FEATURES(SMCCC_VERSION) = 0 tells the caller that SMCCC 1.1 calls are available.
  if (functionId === SMCCC_VERSION) return PsciReturn.SUCCESS;
  const queried = decodeFunctionId(BigInt(functionId));
  const reservedBits = (functionId >>> 16) & 0xff;
  if (queried.service !== SmcccService.STANDARD || reservedBits !== 0 || !isImplementedPsciCall(queried))
    return SMCCC_NOT_SUPPORTED;
  // CPU_SUSPEND's flags: bit 1 OS-initiated mode (no), bit 0 extended power_state format (no: original).
  return PsciReturn.SUCCESS;
}

function vcpusAt(platform: PsciPlatform, affinity: bigint, level: number): number[] {
  // Affinity fields below `level` are ignored: Aff0 bits 7:0, Aff1 15:8, Aff2 23:16, Aff3 39:32.
  const ignoreMask = [0n, 0xffn, 0xffffn, 0xff_ffffn][level]!;
  const wanted = affinity & ~ignoreMask;
  const found: number[] = [];
  for (let v = 0; v < platform.vcpuCount; v++) {
    if ((platform.affinity(v) & AFFINITY_MASK & ~ignoreMask) === wanted) found.push(v);
  }
  return found;
}
