// A plain, serialisable view of a checked system for people and tools: what `virtkit report`
// prints and what `--json` emits. Masks are bigints (hex strings in JSON).
import type { Map, MemoryRegion, ProtectionDomain, SystemDescription, VirtualMachine } from "./model.ts";

export interface MapSummary {
  mr: string;
  vaddr: number;
  size: number;
  pageSize: number;
  perms: string;
  cached: boolean;
}

export interface ProtectionDomainSummary {
  name: string;
  parent?: string;
  childId?: number;
  priority: number;
  budget: number;
  period: number;
  passive: boolean;
  cpu: number;
  stackSize: number;
  smc: boolean;
  fpu: boolean;
  domain?: string;
  programImage: string;
  hasEndpoint: boolean;
  maps: MapSummary[];
  irqs: { irq: number; id: number; trigger: string }[];
  channels: { id: number; peer: string; peerId: number; pp: boolean; notify: boolean }[];
  masks: { irqs: bigint; notifications: bigint; pps: bigint };
  setvars: { symbol: string; kind: string; value: number }[];
  virtualMachine?: string;
}

export interface MemoryRegionSummary {
  name: string;
  size: number;
  pageSize: number;
  paddr: number;
  /** "phys_addr" when the file fixes the address, "placed" when the tool chose it. */
  placement: "phys_addr" | "placed";
  prefillPath?: string;
}

export interface VirtualMachineSummary {
  name: string;
  vmm: string;
  priority: number;
  budget: number;
  period: number;
  vcpus: { id: number; cpu: number }[];
  maps: MapSummary[];
}

export interface PhysicalRange {
  start: number;
  end: number;
  mr: string;
  /** Whether the range lies in board RAM or elsewhere (device memory). */
  memory: "RAM" | "device";
  placement: "phys_addr" | "placed";
}

export interface SystemSummary {
  file: string;
  platform: { name: string; cores: number; ram: { base: number; size: number } };
  protectionDomains: ProtectionDomainSummary[];
  memoryRegions: MemoryRegionSummary[];
  channels: { a: ChannelEndSummary; b: ChannelEndSummary }[];
  virtualMachines: VirtualMachineSummary[];
  physicalMemory: PhysicalRange[];
  warnings: string[];
}

export interface ChannelEndSummary {
  pd: string;
  id: number;
  pp: boolean;
  notify: boolean;
}

export function summarise(system: SystemDescription): SystemSummary {
  const { ram } = system.platform;
  return {
    file: system.file,
    platform: { name: system.platform.name, cores: system.platform.cores, ram: { ...ram } },
    protectionDomains: system.allProtectionDomains.map(summarisePd),
    memoryRegions: system.memoryRegions.map(summariseRegion),
    channels: system.channels.map(({ ends: [a, b] }) => ({
      a: { pd: a.pd, id: a.id, pp: a.pp, notify: a.notify },
      b: { pd: b.pd, id: b.id, pp: b.pp, notify: b.notify },
    })),
    virtualMachines: system.virtualMachines.map(({ vm, vmm }) => summariseVm(vm, vmm)),
    physicalMemory: [...system.memoryRegions]
      .sort((x, y) => x.paddr - y.paddr)
      .map((mr) => ({
        start: mr.paddr,
        end: mr.paddr + mr.size,
        mr: mr.name,
        memory: mr.paddr >= ram.base && mr.paddr + mr.size <= ram.base + ram.size ? "RAM" : "device",
        placement: placementOf(mr),
      })),
    warnings: [...system.warnings],
  };
}

function summarisePd(pd: ProtectionDomain): ProtectionDomainSummary {
  const summary: ProtectionDomainSummary = {
    name: pd.name,
    priority: pd.priority,
    budget: pd.budget,
    period: pd.period,
    passive: pd.passive,
    cpu: pd.cpu,
    stackSize: pd.stackSize,
    smc: pd.smc,
    fpu: pd.fpu,
    programImage: pd.programImage.path,
    hasEndpoint: pd.hasEndpoint,
    maps: pd.maps.map(summariseMap),
    irqs: pd.irqs.map(({ irq, id, trigger }) => ({ irq, id, trigger })),
    channels: pd.channels.map(({ id, peer, peerId, pp, notify }) => ({ id, peer, peerId, pp, notify })),
    masks: { irqs: pd.irqMask, notifications: pd.notifyMask, pps: pd.ppMask },
    setvars: pd.setvars.map(({ symbol, kind, value }) => ({ symbol, kind, value })),
  };
  if (pd.parent !== undefined) summary.parent = pd.parent;
  if (pd.id !== undefined) summary.childId = pd.id;
  if (pd.domain !== undefined) summary.domain = pd.domain;
  if (pd.virtualMachine) summary.virtualMachine = pd.virtualMachine.name;
  return summary;
}

function summariseRegion(mr: MemoryRegion): MemoryRegionSummary {
  const summary: MemoryRegionSummary = {
    name: mr.name,
    size: mr.size,
    pageSize: mr.pageSize,
    paddr: mr.paddr,
    placement: placementOf(mr),
  };
  if (mr.prefillPath !== undefined) summary.prefillPath = mr.prefillPath;
  return summary;
}

function summariseVm(vm: VirtualMachine, vmm: string): VirtualMachineSummary {
  return {
    name: vm.name,
    vmm,
    priority: vm.priority,
    budget: vm.budget,
    period: vm.period,
    vcpus: vm.vcpus.map(({ id, cpu }) => ({ id, cpu })),
    maps: vm.maps.map(summariseMap),
  };
}

function summariseMap(map: Map): MapSummary {
  const { read, write, execute } = map.perms;
  return {
    mr: map.mr,
    vaddr: map.vaddr,
    size: map.region.size,
    pageSize: map.region.pageSize,
    perms: `${read ? "r" : ""}${write ? "w" : ""}${execute ? "x" : ""}`,
    cached: map.cached,
  };
}

function placementOf(mr: MemoryRegion): "phys_addr" | "placed" {
  return mr.physAddr === undefined ? "placed" : "phys_addr";
}
