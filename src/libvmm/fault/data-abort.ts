// Emulates a guest load or store that faulted at stage 2, from the ESR_EL2 data-abort syndrome
// (ARM ARM: "ISS encoding for an exception from a Data Abort"). Unlike upstream libvmm, loads are
// zero- or sign-extended exactly as the architecture specifies (SSE, SF), so a guest sees the same
// register value it would on hardware.
import { MASK64, type VcpuRegisters } from "../vcpu.ts";
import { hex } from "../../util/hex.ts";
import { exceptionClass, instructionLength, isDataAbort } from "./esr.ts";
import { GuestAccessError, describeRange, type MmioRegion, type MmioRegions } from "./mmio.ts";
import type { AccessSize } from "../../machine/devices/mmio.ts";

export interface DataAbortSyndrome {
  /** ISV: the fields below describe the access; without it the access cannot be emulated from the syndrome. */
  valid: boolean;
  size: AccessSize;
  /** SSE: the load sign-extends. */
  signExtend: boolean;
  /** SRT: the transfer register; 31 is XZR. */
  register: number;
  /** SF: the transfer register is 64 bits wide (X), else 32 (W). */
  sixtyFourBit: boolean;
  write: boolean;
  /** DFSC, bits 5:0. */
  faultStatus: number;
}

export function decodeDataAbort(esr: number): DataAbortSyndrome {
  if (!isDataAbort(esr)) {
    throw new Error(`ESR_EL2 ${hex(esr >>> 0)} is not a data abort (EC ${hex(exceptionClass(esr))})`);
  }
  return {
    valid: ((esr >>> 24) & 1) === 1,
    size: (1 << ((esr >>> 22) & 3)) as AccessSize,
    signExtend: ((esr >>> 21) & 1) === 1,
    register: (esr >>> 16) & 0x1f,
    sixtyFourBit: ((esr >>> 15) & 1) === 1,
    write: ((esr >>> 6) & 1) === 1,
    faultStatus: esr & 0x3f,
  };
}

/** The value a load of `size` bytes leaves in the destination register. */
export function extendLoadedValue(raw: bigint, syndrome: DataAbortSyndrome): bigint {
  const bits = BigInt(syndrome.size * 8);
  let value = raw & ((1n << bits) - 1n);
  if (syndrome.signExtend && value >> (bits - 1n) === 1n) value -= 1n << bits;
  const width = syndrome.sixtyFourBit ? 64n : 32n;
  // A W-register write clears bits 63:32; BigInt.asUintN also turns a negative value into two's complement.
  return BigInt.asUintN(Number(width), value);
}

export type DataAbortOutcome =
  | { kind: "emulated"; region: MmioRegion; syndrome: DataAbortSyndrome }
  | { kind: "no-handler"; syndrome: DataAbortSyndrome }
  | { kind: "no-syndrome"; region: MmioRegion | undefined; syndrome: DataAbortSyndrome }
  | { kind: "rejected"; region: MmioRegion; syndrome: DataAbortSyndrome; reason: string };

export interface DataAbort {
  vcpuId: number;
  regs: VcpuRegisters;
  /** The faulting guest-physical address. */
  ipa: number;
  esr: number;
}

/**
 * Performs the faulting access against the handler registered for `ipa`. On success the load result is
 * in the register and the PC is past the instruction; otherwise nothing has changed and the outcome says
 * why, for the fault report.
 */
export function emulateDataAbort(regions: MmioRegions, fault: DataAbort): DataAbortOutcome {
  const syndrome = decodeDataAbort(fault.esr);
  const region = regions.find(fault.ipa);
  if (!syndrome.valid) return { kind: "no-syndrome", region, syndrome };
  if (!region) return { kind: "no-handler", syndrome };
  const offset = fault.ipa - region.base;
  if (offset + syndrome.size > region.size) {
    const reason = `the ${syndrome.size}-byte access at ${hex(fault.ipa)} runs past the end of '${region.name}' ${describeRange(region.base, region.size)}`;
    return { kind: "rejected", region, syndrome, reason };
  }
  const { regs } = fault;
  try {
    if (syndrome.write) {
      const source = syndrome.register === 31 ? 0n : regs.getX(syndrome.register);
      region.handler.write(
        offset,
        syndrome.size,
        source & ((1n << BigInt(syndrome.size * 8)) - 1n),
        fault.vcpuId,
      );
    } else {
      const raw = region.handler.read(offset, syndrome.size, fault.vcpuId);
      if (syndrome.register !== 31) regs.setX(syndrome.register, extendLoadedValue(raw, syndrome));
    }
  } catch (error) {
    if (error instanceof GuestAccessError)
      return { kind: "rejected", region, syndrome, reason: error.message };
    throw error;
  }
  regs.pc = (regs.pc + BigInt(instructionLength(fault.esr))) & MASK64;
  return { kind: "emulated", region, syndrome };
}
