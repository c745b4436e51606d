// The per-interrupt register banks that sit at the same offsets in the GICv2 and GICv3 distributors
// and in the GICv3 redistributor's SGI frame: one bit, two bits or one byte per INTID.
import type { AccessSize } from "../../machine/devices/mmio.ts";
import { checkAccess } from "./access-rules.ts";
import type { Vgic } from "./vgic.ts";

export type BankName =
  | "IGROUPR"
  | "ISENABLER"
  | "ICENABLER"
  | "ISPENDR"
  | "ICPENDR"
  | "ISACTIVER"
  | "ICACTIVER"
  | "IPRIORITYR"
  | "ITARGETSR"
  | "ICFGR";

interface Bank {
  name: BankName;
  offset: number;
  bitsPerIrq: 1 | 2 | 8;
}

export const BANKS: readonly Bank[] = [
  { name: "IGROUPR", offset: 0x080, bitsPerIrq: 1 },
  { name: "ISENABLER", offset: 0x100, bitsPerIrq: 1 },
  { name: "ICENABLER", offset: 0x180, bitsPerIrq: 1 },
  { name: "ISPENDR", offset: 0x200, bitsPerIrq: 1 },
  { name: "ICPENDR", offset: 0x280, bitsPerIrq: 1 },
  { name: "ISACTIVER", offset: 0x300, bitsPerIrq: 1 },
  { name: "ICACTIVER", offset: 0x380, bitsPerIrq: 1 },
  { name: "IPRIORITYR", offset: 0x400, bitsPerIrq: 8 },
  { name: "ITARGETSR", offset: 0x800, bitsPerIrq: 8 },
  { name: "ICFGR", offset: 0xc00, bitsPerIrq: 2 },
];

/** One access to a bank: which register, and the INTIDs its bytes cover. */
export interface BankAccess {
  bank: BankName;
  /** GIC register name with its index, e.g. GICD_IPRIORITYR9. */
  register: string;
  firstIntid: number;
  bitsPerIrq: 1 | 2 | 8;
}

/** Finds the bank register at `offset` (1024 INTIDs' worth per bank), if any. */
export function findBank(offset: number): BankAccess | undefined {
  for (const bank of BANKS) {
    const length = (1024 * bank.bitsPerIrq) / 8;
    if (offset < bank.offset || offset >= bank.offset + length) continue;
    const byte = offset - bank.offset;
    return {
      bank: bank.name,
      register: `${bank.name}${Math.floor(byte / 4)}`,
      firstIntid: (byte * 8) / bank.bitsPerIrq,
      bitsPerIrq: bank.bitsPerIrq,
    };
  }
  return undefined;
}

/** Word accesses everywhere; byte accesses too for the byte-per-interrupt banks. */
export function checkBankAccess(
  frame: string,
  access: BankAccess,
  offset: number,
  size: AccessSize,
  write: boolean,
) {
  const sizes: AccessSize[] = access.bitsPerIrq === 8 ? [4, 1] : [4];
  checkAccess(frame, `${frame}_${access.register}`, offset, size, write, sizes);
}

/** Which INTIDs of the access the front end lets through; others read as zero and ignore writes. */
export type IntidFilter = (intid: number) => boolean;

/** Reads `size` bytes of a bank for `vcpuId`, one field per INTID. */
export function readBank(
  vgic: Vgic,
  vcpuId: number,
  access: BankAccess,
  size: AccessSize,
  visible: IntidFilter,
) {
  const count = (size * 8) / access.bitsPerIrq;
  let value = 0;
  for (let i = 0; i < count; i++) {
    const intid = access.firstIntid + i;
    if (!vgic.isImplemented(intid) || !visible(intid)) continue;
    value |= readField(vgic, vcpuId, access.bank, intid) << (i * access.bitsPerIrq);
  }
  return BigInt(value >>> 0);
}

export function writeBank(
  vgic: Vgic,
  vcpuId: number,
  access: BankAccess,
  size: AccessSize,
  value: bigint,
  writable: IntidFilter,
): void {
  const count = (size * 8) / access.bitsPerIrq;
  const word = Number(value & 0xffff_ffffn);
  const fieldMask = (1 << access.bitsPerIrq) - 1;
  for (let i = 0; i < count; i++) {
    const intid = access.firstIntid + i;
    if (!vgic.isImplemented(intid) || !writable(intid)) continue;
    writeField(vgic, vcpuId, access.bank, intid, (word >>> (i * access.bitsPerIrq)) & fieldMask);
  }
}

function readField(vgic: Vgic, vcpuId: number, bank: BankName, intid: number): number {
  switch (bank) {
    case "IGROUPR":
      return vgic.group(vcpuId, intid);
    case "ISENABLER":
    case "ICENABLER":
      return vgic.enabled(vcpuId, intid) ? 1 : 0;
    case "ISPENDR":
    case "ICPENDR":
      return vgic.pendingSources(vcpuId, intid) ? 1 : 0;
    case "ISACTIVER":
    case "ICACTIVER":
      return vgic.active(vcpuId, intid) ? 1 : 0;
    case "IPRIORITYR":
      return vgic.priority(vcpuId, intid);
    case "ITARGETSR":
      // SGIs and PPIs target the reading CPU only.
      return intid < 32 ? 1 << vcpuId : vgic.targets(intid);
    case "ICFGR":
      return vgic.edgeTriggered(vcpuId, intid) ? 2 : 0;
  }
}

function writeField(vgic: Vgic, vcpuId: number, bank: BankName, intid: number, field: number): void {
  switch (bank) {
    case "IGROUPR":
      return vgic.setGroup(vcpuId, intid, field);
    case "ISENABLER":
      if (field) vgic.setEnabled(vcpuId, intid, true);
      return;
    case "ICENABLER":
      if (field) vgic.setEnabled(vcpuId, intid, false);
      return;
    case "ISPENDR":
      if (field) vgic.setPending(vcpuId, intid, true);
      return;
    case "ICPENDR":
      if (field) vgic.setPending(vcpuId, intid, false);
      return;
    case "ISACTIVER":
      if (field) vgic.setActive(vcpuId, intid, true);
      return;
    case "ICACTIVER":
      if (field) vgic.setActive(vcpuId, intid, false);
      return;
    case "IPRIORITYR":
      return vgic.setPriority(vcpuId, intid, field);
    case "ITARGETSR":
      if (intid >= 32) vgic.setTargets(intid, field);
      return;
    case "ICFGR":
      return vgic.setEdgeTriggered(vcpuId, intid, (field & 2) !== 0);
  }
}
