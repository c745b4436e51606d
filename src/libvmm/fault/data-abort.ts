// Emulates a guest load or store that faulted at stage 2, from the ESR_EL2 data-abort syndrome
// (ARM ARM: "ISS encoding for an exception from a Data Abort"). Unlike upstream libvmm, loads are
// zero- or sign-extended exactly as the architecture specifies (SSE, SF), so a guest sees the same
// register value it would on hardware.
import type { VcpuRegisters } from "../vcpu.ts";
import { hex } from "../../util/hex.ts";
import {
  decodeDataAbort,
  extendLoadedValue,
  stepPastInstruction,
  type DataAbortSyndrome,
} from "../../machine/arch/index.ts";
import { GuestAccessError, describeRange, type MmioRegion, type MmioRegions } from "./mmio.ts";

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
  stepPastInstruction(regs, fault.esr);
  return { kind: "emulated", region, syndrome };
}
