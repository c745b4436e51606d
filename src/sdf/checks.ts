// The checks the Microkit tool makes once the whole file is parsed, in the same order, so the
// first error reported is the one a Microkit user would see. Where the Microkit tool gives no
// location we name the element at fault.
import type { MapDecl, MemoryRegionDecl, ProtectionDomainDecl } from "./declarations.ts";
import type { SystemDecl } from "./parse-system.ts";
import type { Platform } from "./platform.ts";
import { SdfError, errorAt, formatLocation } from "./errors.ts";
import { DisjointIntervals } from "./intervals.ts";
import { hex } from "../util/hex.ts";
import { pdMapMaxVaddr, platformRam, vmMapMaxVaddr } from "./platform.ts";

/** libmicrokit reserves PD index 63 for the monitor's view of PD ids. */
const MAX_PDS = 63;
const MONITOR_PD_NAME = "monitor";

export function checkSystem(system: SystemDecl, platform: Platform): string[] {
  const { allPds: pds, memoryRegions } = system;
  checkProtectionDomains(system);
  firstDuplicate(
    memoryRegions,
    (mr) => mr.name,
    (mr) => errorAt(`Error: duplicate memory region name '${mr.name}'.`, mr.location),
  );
  const vms = pds.flatMap((pd) => (pd.virtualMachine ? [pd.virtualMachine] : []));
  firstDuplicate(
    vms,
    (vm) => vm.name,
    (vm) => errorAt(`Error: duplicate virtual machine name '${vm.name}'.`, vm.location),
  );
  checkIrqNumbers(pds);
  checkChannels(system);
  const regions = new Map<string, MemoryRegionDecl>();
  for (const mr of memoryRegions) regions.set(mr.name, mr);
  for (const pd of pds) {
    checkMaps(pd.maps, regions, `protection domain '${pd.name}'`, pdMapMaxVaddr(platform, pd.stackSize));
    const vm = pd.virtualMachine;
    if (vm) checkMaps(vm.maps, regions, `virtual machine '${vm.name}'`, vmMapMaxVaddr(platform));
  }
  checkCapMaps(pds);
  checkPhysicalOverlaps(memoryRegions);
  checkPhysicalMemory(memoryRegions, platform);
  return unusedRegionWarnings(system);
}

function checkProtectionDomains({ allPds: pds, location }: SystemDecl): void {
  if (pds.length === 0) throw errorAt("Error: at least one protection domain must be defined", location);
  if (pds.length > MAX_PDS) {
    throw errorAt(
      `Error: too many protection domains (${pds.length}) defined. Maximum is ${MAX_PDS}.`,
      pds[MAX_PDS]!.location,
    );
  }
  firstDuplicate(
    pds,
    (pd) => pd.name,
    (pd) => errorAt(`Error: duplicate protection domain name '${pd.name}'.`, pd.location),
  );
  const monitor = pds.find((pd) => pd.name === MONITOR_PD_NAME);
  if (monitor) {
    throw errorAt("Error: the PD name 'monitor' is reserved for the Microkit Monitor.", monitor.location);
  }
}

/** Throws for the second item with a key already seen. */
function firstDuplicate<T>(
  items: readonly T[],
  key: (item: T) => string,
  error: (item: T) => SdfError,
): void {
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(key(item))) throw error(item);
    seen.add(key(item));
  }
}

/** An interrupt can be delivered to one PD only. */
function checkIrqNumbers(pds: readonly ProtectionDomainDecl[]): void {
  const seen = new Set<number>();
  for (const pd of pds) {
    for (const irq of pd.irqs) {
      if (seen.has(irq.irq))
        throw errorAt(`Error: duplicate irq: ${irq.irq} in protection domain: '${pd.name}'`, irq.location);
      seen.add(irq.irq);
    }
  }
}

/**
 * IRQ ids and channel ids of one PD share its notification badge bits. A PPC runs the callee on
 * the caller's priority, so it must go strictly up in priority.
 */
function checkChannels({ allPds: pds, channels }: SystemDecl): void {
  const used = new Map<string, Set<number>>(pds.map((pd) => [pd.name, new Set<number>()]));
  const duplicate = (pd: string, id: number, location: SdfError["location"]) =>
    errorAt(`Error: duplicate channel id: ${id} in protection domain: '${pd}'`, location);
  for (const pd of pds) {
    const ids = used.get(pd.name)!;
    for (const irq of pd.irqs) {
      if (ids.has(irq.id)) throw duplicate(pd.name, irq.id, irq.location);
      ids.add(irq.id);
    }
  }
  const priorityOf = new Map<string, number>();
  for (const pd of pds) if (!priorityOf.has(pd.name)) priorityOf.set(pd.name, pd.priority);
  for (const channel of channels) {
    const [a, b] = channel.ends;
    if (used.get(a.pd)!.has(a.id)) throw duplicate(a.pd, a.id, a.location);
    if (used.get(b.pd)!.has(b.id)) throw duplicate(b.pd, b.id, b.location);
    for (const [caller, callee] of [
      [a, b],
      [b, a],
    ] as const) {
      const callerPriority = priorityOf.get(caller.pd)!;
      const calleePriority = priorityOf.get(callee.pd)!;
      if (caller.pp && callerPriority >= calleePriority) {
        throw new SdfError(
          "Error: PPCs must be to protection domains of strictly higher priorities; " +
            `channel with PPC exists from pd ${caller.pd} (priority: ${callerPriority}) ` +
            `to pd ${callee.pd} (priority: ${calleePriority}) @ ${formatLocation(caller.location)}`,
          caller.location,
          `Raise the priority of '${callee.pd}' above ${callerPriority}, or lower '${caller.pd}'.`,
        );
      }
    }
    used.get(a.pd)!.add(a.id);
    used.get(b.pd)!.add(b.id);
  }
}

/** Each map names a region, is aligned to its page size and fits, without overlap, in the space. */
function checkMaps(
  maps: readonly MapDecl[],
  regions: ReadonlyMap<string, MemoryRegionDecl>,
  addressSpace: string,
  maxEnd: number,
): void {
  const mapped = new DisjointIntervals();
  for (const map of maps) {
    const region = regions.get(map.mr);
    if (!region) throw errorAt(`Error: invalid memory region name '${map.mr}' on 'map'`, map.location);
    if (map.vaddr % region.pageSize !== 0) {
      throw new SdfError(
        `Error: invalid vaddr alignment on 'map' @ ${formatLocation(map.location)}`,
        map.location,
        `vaddr ${hex(map.vaddr)} must be a multiple of the page size of '${region.name}' (${hex(region.pageSize)}).`,
      );
    }
    const start = map.vaddr;
    const end = start + region.size;
    const range = `[${hex(start)}..${hex(BigInt(start) + BigInt(region.size))})`;
    if (end > maxEnd) {
      throw errorAt(
        `Error: map for '${map.mr}' has virtual address range ${range} which exceeds valid address space [0x0..${hex(maxEnd)})`,
        map.location,
      );
    }
    const other = mapped.firstOverlap(start, end);
    if (other) {
      throw errorAt(
        `Error: map for '${map.mr}' has virtual address range ${range} which overlaps with map for '${other.name}' [${hex(other.start)}..${hex(other.end)}) in ${addressSpace}`,
        map.location,
      );
    }
    mapped.add({ name: map.mr, start, end });
  }
}

const CAP_TYPE_NAMES = { tcb: "Tcb", sc: "Sc", vspace: "VSpace" } as const;

/** Two capabilities cannot occupy one CSpace slot. */
function checkCapMaps(pds: readonly ProtectionDomainDecl[]): void {
  for (const pd of pds) {
    const bySlot = new Map<number, ProtectionDomainDecl["capMaps"]>();
    for (const capMap of pd.capMaps) bySlot.set(capMap.slot, [...(bySlot.get(capMap.slot) ?? []), capMap]);
    for (const [slot, capMaps] of bySlot) {
      if (capMaps.length < 2) continue;
      const uses = capMaps.map(
        (capMap) =>
          `type ${CAP_TYPE_NAMES[capMap.type]} from '${capMap.pd}' at '${formatLocation(capMap.location)}'`,
      );
      throw new SdfError(
        `Error: overlapping user caps in slot ${slot} of protection domain '${pd.name}': ${uses.join(", ")}`,
        capMaps[1]!.location,
      );
    }
  }
}

/** Regions with a fixed phys_addr may not share physical memory. */
function checkPhysicalOverlaps(regions: readonly MemoryRegionDecl[]): void {
  const placed = new DisjointIntervals();
  for (const mr of regions) {
    if (mr.physAddr === undefined) continue;
    const start = mr.physAddr;
    const end = start + mr.size;
    const other = placed.firstOverlap(start, end);
    if (other) {
      throw errorAt(
        `Error: memory region '${mr.name}' physical address range [${hex(start)}..${hex(BigInt(start) + BigInt(mr.size))}) overlaps with another memory region '${other.name}' [${hex(other.start)}..${hex(other.end)})`,
        mr.location,
      );
    }
    placed.add({ name: mr.name, start, end });
  }
}

/**
 * Every page of a region with a phys_addr must come from one untyped of the seL4 build, as the Microkit
 * tool checks when it allocates them: RAM, or device memory, which is everything else below the
 * physical address top except the devices the kernel keeps for itself.
 */
function checkPhysicalMemory(regions: readonly MemoryRegionDecl[], platform: Platform): void {
  const top = platform.physicalAddressTop;
  if (top === undefined) return;
  const kernelDevices = platform.kernelDevices ?? [];
  const span = (base: number, size: number) => `[${hex(base)}..${hex(BigInt(base) + BigInt(size))})`;
  for (const mr of regions) {
    if (mr.physAddr === undefined) continue;
    const start = mr.physAddr;
    const end = start + mr.size;
    const device = kernelDevices.find((d) => start < d.base + d.size && d.base < end);
    const why = device
      ? `it overlaps the ${device.name} ${span(device.base, device.size)}, which the seL4 kernel keeps for itself`
      : end > top
        ? `it ends above ${hex(top)}, the top of the board's physical address space`
        : undefined;
    if (!why) continue;
    throw new SdfError(
      `Error: memory region '${mr.name}' physical address range ${span(start, mr.size)} is not in any valid memory region of board ${platform.name}: ${why} @ ${formatLocation(mr.location)}`,
      mr.location,
      `the valid ranges on ${platform.name} are RAM ${platformRam(platform)
        .map((r) => span(r.base, r.size))
        .join(", ")} and device memory ${deviceRanges(platform, top)
        .map((r) => span(r.base, r.size))
        .join(", ")}`,
    );
  }
}

/** Device memory: below `top`, outside RAM and the kernel's devices. */
function deviceRanges(platform: Platform, top: number): { base: number; size: number }[] {
  const taken = [...platformRam(platform), ...(platform.kernelDevices ?? [])].sort((a, b) => a.base - b.base);
  const ranges: { base: number; size: number }[] = [];
  let next = 0;
  for (const t of taken) {
    if (t.base > next) ranges.push({ base: next, size: t.base - next });
    next = Math.max(next, t.base + t.size);
  }
  if (top > next) ranges.push({ base: next, size: top - next });
  return ranges;
}

function unusedRegionWarnings({ allPds, memoryRegions }: SystemDecl): string[] {
  const used = new Set<string>();
  for (const pd of allPds) {
    for (const map of [...pd.maps, ...(pd.virtualMachine?.maps ?? [])]) used.add(map.mr);
  }
  return memoryRegions
    .filter((mr) => !used.has(mr.name))
    .map((mr) => `WARNING: unused memory region '${mr.name}' @ ${formatLocation(mr.location)}`);
}
