// The typed model of a Microkit system description, with every default filled in.
// Addresses and sizes are plain numbers: everything valid on AArch64 fits in 53 bits,
// and the parser rejects larger values with a located error.

import type { Platform } from "./platform.ts";

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export type PageSize = 0x1000 | 0x200000;
export type Perms = { read: boolean; write: boolean; execute: boolean };

export interface MemoryRegion {
  name: string;
  size: number;
  pageSize: PageSize;
  /** True when page_size was given in the file (no automatic 2 MiB promotion). */
  pageSizeExplicit: boolean;
  /** phys_addr from the file, if any. */
  physAddr?: number;
  /** Physical address: phys_addr, or where the tool placed it in RAM. */
  paddr: number;
  prefillPath?: string;
  /** Resolved absolute path of the prefill file, when prefillPath is set. */
  prefillResolved?: string;
  /** Length in bytes of the prefill file (the value of setvar_prefill_size). */
  prefillSize?: number;
  /** prefill_bootinfo: boot information the tool copies in (for example `fdt`). */
  prefillBootinfo?: string;
  location: SourceLocation;
}

export interface Map {
  mr: string;
  /** The resolved memory region. */
  region: MemoryRegion;
  vaddr: number;
  perms: Perms;
  cached: boolean;
  setvarVaddr?: string;
  setvarSize?: string;
  setvarPrefillSize?: string;
  location: SourceLocation;
}

export type IrqTrigger = "level" | "edge";

export interface Irq {
  irq: number;
  id: number;
  trigger: IrqTrigger;
  setvarId?: string;
  location: SourceLocation;
}

/**
 * Where a patched variable's value comes from: `<setvar region_paddr>` (paddr), a map's
 * setvar_vaddr / setvar_size / setvar_prefill_size, or the setvar_id of an irq, channel end,
 * child PD or vCPU (id).
 */
export type SetvarKind = "paddr" | "vaddr" | "size" | "prefill_size" | "id";

export interface Setvar {
  symbol: string;
  kind: SetvarKind;
  /** The memory region named by region_paddr (kind "paddr"). */
  regionPaddr?: string;
  /** The memory region of the map (kinds "size" and "prefill_size"). */
  mr?: string;
  /** The resolved value: physical address after placement, vaddr, size or id. */
  value: number;
  location: SourceLocation;
}

export type CapMapType = "tcb" | "sc" | "vspace";

/** A `<cspace>` entry: a capability to another PD's object placed in this PD's CSpace. */
export interface CapMap {
  type: CapMapType;
  pd: string;
  slot: number;
  location: SourceLocation;
}

export interface Vcpu {
  id: number;
  /** The core it runs on; defaults to the VMM PD's cpu. */
  cpu: number;
  setvarId?: string;
  location: SourceLocation;
}

export interface VirtualMachine {
  name: string;
  priority: number;
  budget: number;
  period: number;
  vcpus: Vcpu[];
  maps: Map[];
  location: SourceLocation;
}

/** One end of a channel as seen from the PD that owns it. */
export interface ChannelEnd {
  /** The id this PD uses for the channel. */
  id: number;
  /** The PD on the other end. */
  peer: string;
  /** The id the peer uses. */
  peerId: number;
  /** This end may PPC the peer. */
  pp: boolean;
  /** This end may notify the peer. */
  notify: boolean;
  setvarId?: string;
}

export interface Channel {
  ends: [ChannelEndDecl, ChannelEndDecl];
  location: SourceLocation;
}

export interface ChannelEndDecl {
  pd: string;
  id: number;
  pp: boolean;
  notify: boolean;
  setvarId?: string;
  location: SourceLocation;
}

export interface ProtectionDomain {
  name: string;
  priority: number;
  budget: number;
  period: number;
  passive: boolean;
  stackSize: number;
  cpu: number;
  smc: boolean;
  fpu: boolean;
  domain?: string;
  /** Child id within the parent; undefined for top-level PDs. */
  id?: number;
  setvarId?: string;
  /** Name of the parent PD for child PDs. */
  parent?: string;
  programImage: { path: string; pathForSymbols?: string };
  maps: Map[];
  irqs: Irq[];
  setvars: Setvar[];
  capMaps: CapMap[];
  children: ProtectionDomain[];
  virtualMachine?: VirtualMachine;
  /** Channel ends owned by this PD, sorted by id. */
  channels: ChannelEnd[];
  /** Bitmasks as libmicrokit sees them (bit n = channel/irq id n): microkit_irqs, microkit_notifications, microkit_pps. */
  irqMask: bigint;
  notifyMask: bigint;
  ppMask: bigint;
  /** A PD gets an endpoint if it has children, a VM, or is the target of a pp end. */
  hasEndpoint: boolean;
  location: SourceLocation;
}

export interface Domain {
  name: string;
  /** The id from the file, or the lowest free one the tool assigned. */
  id: number;
  location: SourceLocation;
}

export interface DomainScheduleEntry {
  domain: string;
  duration: number;
  unit: "us" | "ticks";
  location: SourceLocation;
}

export interface DomainSchedule {
  domains: Domain[];
  startIndex?: number;
  indexShift?: number;
  entries: DomainScheduleEntry[];
  endMarker: boolean;
  location: SourceLocation;
}

export interface SystemDescription {
  file: string;
  /** Top-level PDs, with children nested. */
  protectionDomains: ProtectionDomain[];
  /** Every PD, children included, in document order (parents before children). */
  allProtectionDomains: ProtectionDomain[];
  memoryRegions: MemoryRegion[];
  channels: Channel[];
  /** Every virtual machine with the name of the PD that runs it, in document order. */
  virtualMachines: { vm: VirtualMachine; vmm: string }[];
  domainSchedule?: DomainSchedule;
  /** The board and kernel configuration the description was checked against. */
  platform: Platform;
  warnings: string[];
}
