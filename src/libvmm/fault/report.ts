// The report a VMM prints when a guest faults in a way it cannot handle: everything a person needs to
// find the cause (VM, vCPU, address, access, PC, the instruction, the device-tree node at that
// address) and the libvmm manual's three remedies for a virtual memory fault.
import type { VmmLog } from "../log.ts";
import { type VcpuRegisters } from "../vcpu.ts";
import { hex } from "../../util/hex.ts";
import type { DataAbortOutcome } from "./data-abort.ts";
import { nodesClaiming, type DeviceTreeRegion } from "./device-tree-regions.ts";
import {
  disassemble,
  exceptionClass,
  faultStatus,
  faultStatusName,
  isPermissionFault,
  type DataAbortSyndrome,
} from "../../machine/arch/index.ts";
import { describeRange } from "./mmio.ts";

export interface FaultContext {
  vmName: string;
  vcpuId: number;
  pc: bigint;
  /** The faulting instruction's encoding, when the VMM could read it. */
  instruction?: number;
  /** The vCPU's registers, to show a store's value. */
  regs?: VcpuRegisters;
  /** The memory-mapped nodes of the DTB the guest booted with. */
  deviceTree?: readonly DeviceTreeRegion[];
}

export type UnhandledFault =
  | { kind: "data-abort"; esr: number; ipa: number; outcome: Exclude<DataAbortOutcome, { kind: "emulated" }> }
  | { kind: "instruction-abort"; esr: number; ipa: number };

const SIZE_NAMES = { 1: "byte", 2: "halfword", 4: "word", 8: "doubleword" } as const;

function registerName(n: number, sixtyFour: boolean): string {
  return n === 31 ? (sixtyFour ? "xzr" : "wzr") : `${sixtyFour ? "x" : "w"}${n}`;
}

function describeAccess(s: DataAbortSyndrome, regs: VcpuRegisters | undefined): string {
  if (!s.valid) return `${s.write ? "write" : "read"} of unknown size (the syndrome does not say)`;
  const reg = registerName(s.register, s.sixtyFourBit);
  if (!s.write) return `read of ${s.size} byte${s.size > 1 ? "s" : ""} (${SIZE_NAMES[s.size]}) into ${reg}`;
  const value = s.register === 31 ? 0n : regs?.getX(s.register);
  const shown = value === undefined ? "" : ` = ${hex(value & ((1n << BigInt(8 * s.size)) - 1n))}`;
  return `write of ${s.size} byte${s.size > 1 ? "s" : ""} (${SIZE_NAMES[s.size]}) from ${reg}${shown}`;
}

function describeNode(node: DeviceTreeRegion): string {
  const compatible = node.compatible.length
    ? ` (compatible ${node.compatible.map((c) => `"${c}"`).join(", ")})`
    : "";
  const status = node.disabled ? ", already disabled" : "";
  return `${node.path}${compatible} claims ${describeRange(node.base, node.size)}${status}`;
}

function remedies(vmName: string, address: number, node: DeviceTreeRegion | undefined): string[] {
  const target = node ? node.path : "the device's node";
  const driver = node?.compatible[0] ? `the driver for "${node.compatible[0]}"` : "the device's driver";
  return [
    '  to fix it, do one of these (libvmm manual, "Virtual memory faults"):',
    `    1. give the guest access: map a memory region covering ${hex(address)} into virtual machine '${vmName}' (passthrough)`,
    `    2. disable the device in the device tree: add status = "disabled" to ${target}`,
    `    3. configure the guest kernel without ${driver}, so that it does not touch the device`,
  ];
}

/** The report's lines, without log prefixes. */
export function formatFaultReport(context: FaultContext, fault: UnhandledFault): string[] {
  const { vmName, vcpuId, pc, instruction } = context;
  const lines: string[] = [];
  const ec = exceptionClass(fault.esr);
  const fsc = faultStatus(fault.esr);
  const status = faultStatusName(fsc) ?? `fault status ${hex(fsc)}`;
  const instructionText =
    instruction === undefined ? "(instruction not readable)" : disassemble(instruction, pc);
  const claiming = context.deviceTree ? nodesClaiming(context.deviceTree, fault.ipa) : [];
  const node = claiming[0];
  // A permission fault means the address is mapped, but without the right the access needs.
  const permission = isPermissionFault(fsc);

  if (fault.kind === "instruction-abort") {
    lines.push(`${vmName}: unexpected instruction fetch fault on vCPU ${vcpuId}`);
    lines.push(
      permission
        ? `  address: ${hex(fault.ipa)} (guest-physical): the guest executed from memory its map does not make executable`
        : `  address: ${hex(fault.ipa)} (guest-physical): the guest jumped to an address with no memory behind it`,
    );
  } else {
    lines.push(`${vmName}: unexpected memory fault on vCPU ${vcpuId}`);
    lines.push(
      `  address: ${hex(fault.ipa)} (guest-physical), ${describeAccess(fault.outcome.syndrome, context.regs)}`,
    );
  }
  lines.push(`  pc: ${hex(pc)}  ${instructionText}`);
  lines.push(`  syndrome: ESR_EL2 ${hex(fault.esr >>> 0)} (EC ${hex(ec)}), ${status}`);

  if (fault.kind === "data-abort" && fault.outcome.kind === "rejected") {
    lines.push(
      `  cause: the emulated device '${fault.outcome.region.name}' refused the access: ${fault.outcome.reason}`,
    );
    lines.push("  the guest's driver for this device made an access the device does not support");
  } else if (fault.kind === "data-abort" && fault.outcome.kind === "no-syndrome") {
    const where = fault.outcome.region
      ? `the emulated device '${fault.outcome.region.name}'`
      : `${hex(fault.ipa)}`;
    lines.push(
      `  cause: '${instructionText}' does not describe its access in the syndrome (ISV = 0: a pair, ` +
        `write-back or SIMD&FP access), so the VMM cannot emulate it at ${where}`,
    );
    lines.push(
      "  the guest must reach this address with single general-purpose loads and stores (readl/writel)",
    );
  } else if (permission) {
    const needed = fault.kind === "instruction-abort" ? "x" : fault.outcome.syndrome.write ? "w" : "r";
    lines.push(
      `  cause: virtual machine '${vmName}' maps ${hex(fault.ipa)} without this right (a permission fault): ` +
        `add "${needed}" to the perms of its <map>`,
    );
  } else {
    lines.push(`  cause: nothing is mapped or emulated at ${hex(fault.ipa)} for this VM`);
  }
  lines.push(
    node ? `  device tree: ${describeNode(node)}` : `  device tree: no node claims ${hex(fault.ipa)}`,
  );
  for (const other of claiming.slice(1)) lines.push(`  device tree: ${describeNode(other)}`);
  // The manual's remedies are for addresses nothing serves; an emulated device's refusal is the driver's bug.
  const servedByDevice =
    fault.kind === "data-abort" &&
    (fault.outcome.kind === "rejected" || (fault.outcome.kind === "no-syndrome" && fault.outcome.region));
  if (!servedByDevice && !permission) lines.push(...remedies(vmName, fault.ipa, node));
  lines.push(`  vCPU ${vcpuId} of '${vmName}' is stopped; the rest of the system keeps running`);
  return lines;
}

/** Prints the report through the VMM's log as `<pd>|ERROR: …` lines. */
export function reportUnhandledFault(log: VmmLog, context: FaultContext, fault: UnhandledFault): void {
  log.error(formatFaultReport(context, fault).join("\n"));
}
