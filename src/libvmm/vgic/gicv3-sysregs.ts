// The GICv3 CPU-interface system registers the hypervisor traps (ESR_EL2 EC 0x18): SGI generation
// through ICC_SGI1R_EL1 and friends, and ICC_SRE_EL1.
import { decodeSysregAccess, stepPastInstruction, systemRegisterName } from "../../machine/arch/index.ts";
import type { VcpuRegisters } from "../vcpu.ts";
import type { Vgic } from "./vgic.ts";

/** ICC_SRE_EL1 as the guest reads it: SRE, DFB and DIB set (system-register interface only). */
const ICC_SRE_VALUE = 0x7n;

/**
 * The vCPUs an ICC_SGI1R_EL1 write targets: with IRM (bit 40) every vCPU but the sender, otherwise those
 * whose Aff0 is in TargetList (15:0) offset by RS (47:44) in the cluster Aff3.Aff2.Aff1. Our vCPUs all
 * sit in cluster 0.0.0 with Aff0 = vCPU id.
 */
export function sgiTargets(value: bigint, sender: number, vcpuCount: number): number[] {
  const all = Array.from({ length: vcpuCount }, (_, v) => v);
  if ((value >> 40n) & 1n) return all.filter((v) => v !== sender);
  const cluster = ((value >> 16n) & 0xffn) | ((value >> 32n) & 0xffn) | ((value >> 48n) & 0xffn);
  if (cluster !== 0n) return [];
  const rangeBase = Number((value >> 44n) & 0xfn) * 16;
  const list = Number(value & 0xffffn);
  return all.filter((v) => v >= rangeBase && v < rangeBase + 16 && (list >> (v - rangeBase)) & 1);
}

/**
 * Emulates a trapped GIC system register access and advances the PC. Returns false, changing nothing,
 * for a register that is not one of these (the caller reports it).
 */
export function handleGicSysreg(vgic: Vgic, vcpuId: number, regs: VcpuRegisters, esr: number): boolean {
  const access = decodeSysregAccess(esr);
  const name = systemRegisterName(access);
  const value = access.rt === 31 ? 0n : regs.getX(access.rt);
  switch (name) {
    case "ICC_SGI1R_EL1":
    case "ICC_ASGI1R_EL1":
    case "ICC_SGI0R_EL1":
      if (access.read) return false; // write-only: the read is UNDEFINED
      vgic.sendSgi(vcpuId, Number((value >> 24n) & 0xfn), sgiTargets(value, vcpuId, vgic.vcpuCount));
      break;
    case "ICC_SRE_EL1":
      if (access.read && access.rt !== 31) regs.setX(access.rt, ICC_SRE_VALUE);
      break;
    default:
      return false;
  }
  stepPastInstruction(regs, esr);
  return true;
}
