// Turns the parsed declarations into the resolved system model the runtime builds from.

import type { MapDecl, ProtectionDomainDecl, SetvarDecl } from "./declarations.ts";
import type { ChannelEnd, Map, MemoryRegion, ProtectionDomain, Setvar, SystemDescription } from "./model.ts";
import type { SystemDecl } from "./parse-system.ts";
import type { Platform } from "./platform.ts";
import { SdfError, errorAt, formatLocation } from "./errors.ts";

/**
 * Turns checked declarations into the model: maps point at their regions, every PD knows its
 * channel ends and libmicrokit's masks, and every setvar has its value.
 */
export function buildModel(
  system: SystemDecl,
  paddrs: ReadonlyMap<string, number>,
  platform: Platform,
  file: string,
  warnings: string[],
): SystemDescription {
  const regions = new Map<string, MemoryRegion>();
  const memoryRegions = system.memoryRegions.map((decl) => {
    const mr: MemoryRegion = { ...decl, paddr: paddrs.get(decl.name)! };
    regions.set(mr.name, mr);
    return mr;
  });
  const resolveMap = (map: MapDecl): Map => ({ ...map, region: regions.get(map.mr)! });

  const ppTargets = new Set<string>();
  const endsByPd = new Map<string, ChannelEnd[]>();
  for (const { ends } of system.channels) {
    for (const [self, peer] of [ends, [ends[1], ends[0]]] as const) {
      if (self.pp) ppTargets.add(peer.pd);
      const end: ChannelEnd = {
        id: self.id,
        peer: peer.pd,
        peerId: peer.id,
        pp: self.pp,
        notify: self.notify,
      };
      if (self.setvarId !== undefined) end.setvarId = self.setvarId;
      endsByPd.set(self.pd, [...(endsByPd.get(self.pd) ?? []), end]);
    }
  }

  const build = (decl: ProtectionDomainDecl): ProtectionDomain => {
    const channels = (endsByPd.get(decl.name) ?? []).sort((x, y) => x.id - y.id);
    const children = decl.children.map(build);
    const { virtualMachine, ...rest } = decl;
    const pd: ProtectionDomain = {
      ...rest,
      maps: decl.maps.map(resolveMap),
      setvars: decl.setvars.map((setvar) => resolveSetvar(setvar, regions)),
      children,
      channels,
      irqMask: mask(decl.irqs.map((irq) => irq.id)),
      notifyMask: mask(channels.filter((end) => end.notify).map((end) => end.id)),
      ppMask: mask(channels.filter((end) => end.pp).map((end) => end.id)),
      hasEndpoint: children.length > 0 || virtualMachine !== undefined || ppTargets.has(decl.name),
    };
    if (virtualMachine) pd.virtualMachine = { ...virtualMachine, maps: virtualMachine.maps.map(resolveMap) };
    return pd;
  };
  const protectionDomains = system.rootPds.map(build);
  const allProtectionDomains = protectionDomains.flatMap(function walk(pd): ProtectionDomain[] {
    return [pd, ...pd.children.flatMap(walk)];
  });

  const description: SystemDescription = {
    file,
    protectionDomains,
    allProtectionDomains,
    memoryRegions,
    channels: system.channels,
    virtualMachines: allProtectionDomains.flatMap((pd) =>
      pd.virtualMachine ? [{ vm: pd.virtualMachine, vmm: pd.name }] : [],
    ),
    platform,
    warnings,
  };
  if (system.domainSchedule) description.domainSchedule = system.domainSchedule;
  return description;
}

function mask(ids: readonly number[]): bigint {
  return ids.reduce((bits, id) => bits | (1n << BigInt(id)), 0n);
}

function resolveSetvar(setvar: SetvarDecl, regions: ReadonlyMap<string, MemoryRegion>): Setvar {
  const { tag: _tag, ...rest } = setvar;
  if (setvar.value !== undefined) return { ...rest, value: setvar.value };
  const regionName = setvar.kind === "paddr" ? setvar.regionPaddr! : setvar.mr!;
  const region = regions.get(regionName)!;
  const value =
    setvar.kind === "paddr" ? region.paddr : setvar.kind === "size" ? region.size : region.prefillSize!;
  return { ...rest, value };
}

/**
 * Setvars that name regions: region_paddr must name a region (the Microkit tool panics
 * otherwise), and setvar_prefill_size needs a region with a prefill file.
 */
export function checkSetvarRegions(system: SystemDecl): void {
  const regions = new Map(system.memoryRegions.map((mr) => [mr.name, mr]));
  for (const pd of system.allPds) {
    for (const setvar of pd.setvars) {
      if (setvar.kind === "prefill_size") {
        const region = regions.get(setvar.mr!)!;
        if (region.prefillPath === undefined) {
          throw new SdfError(
            `Error: 'setvar_prefill_size' used for MR without a \`prefill_path\` @ '${region.name}' ${formatLocation(region.location)}`,
            region.location,
          );
        }
      }
      if (setvar.kind === "paddr" && !regions.has(setvar.regionPaddr!)) {
        throw errorAt(
          `Error: invalid memory region name '${setvar.regionPaddr}' on 'setvar'`,
          setvar.location,
        );
      }
    }
  }
}
