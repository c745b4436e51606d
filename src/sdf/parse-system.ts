// The `<system>` root: its children in document order, PDs flattened.

import type { ChannelDecl, MemoryRegionDecl, ProtectionDomainDecl } from "./declarations.ts";
import type { DomainSchedule, SourceLocation } from "./model.ts";
import type { Platform } from "./platform.ts";
import type { XmlElement } from "./xml.ts";
import { errorAt, locatedError, valueError } from "./errors.ts";
import { parseChannel } from "./parse-channel.ts";
import { parseDomains } from "./parse-domains.ts";
import { parseMemoryRegion } from "./parse-memory-region.ts";
import { parseProtectionDomain } from "./parse-protection-domain.ts";
import { addSetvar, idSetvar } from "./setvars.ts";

/** Everything declared in the file, with PDs flattened (parents before their children). */
export interface SystemDecl {
  rootPds: ProtectionDomainDecl[];
  allPds: ProtectionDomainDecl[];
  memoryRegions: MemoryRegionDecl[];
  channels: ChannelDecl[];
  domainSchedule?: DomainSchedule;
  location: SourceLocation;
}

/** Interprets the children of `<system>` in document order, as the Microkit tool does. */
export function parseSystemElement(
  system: XmlElement,
  platform: Platform,
  searchPaths: readonly string[],
): SystemDecl {
  const rootPds: ProtectionDomainDecl[] = [];
  const memoryRegions: MemoryRegionDecl[] = [];
  const channelElements: XmlElement[] = [];
  let domainSchedule: DomainSchedule | undefined;

  for (const child of system.children) {
    switch (child.tag) {
      case "protection_domain": {
        const domains = domainSchedule && new Map(domainSchedule.domains.map((d) => [d.name, d.id]));
        rootPds.push(parseProtectionDomain(child, { platform, domains }, false));
        break;
      }
      case "channel":
        channelElements.push(child);
        break;
      case "memory_region":
        memoryRegions.push(parseMemoryRegion(child, searchPaths));
        break;
      case "io_address_space":
        throw locatedError(
          "Error: io address space requires seL4 to be built with IOMMU support",
          child.location,
        );
      case "virtual_machine":
        throw locatedError("Error: virtual machine must be a child of a protection domain", child.location);
      case "domains":
        if (domainSchedule) throw valueError(child, "domains must only be specified once");
        domainSchedule = parseDomains(child, platform);
        break;
      default:
        throw locatedError(`Error: invalid XML element '${child.tag}'`, child.location);
    }
  }

  const allPds = rootPds.flatMap((pd) => flatten(pd));
  // Like the Microkit tool, a channel end names the first PD of that name.
  const byName = new Map<string, ProtectionDomainDecl>();
  for (const pd of allPds) if (!byName.has(pd.name)) byName.set(pd.name, pd);
  const channels = channelElements.map((element) => {
    const channel = parseChannel(element, new Set(byName.keys()));
    for (const end of channel.ends) {
      if (end.setvarId !== undefined) {
        addSetvar(byName.get(end.pd)!.setvars, idSetvar(end.setvarId, end.id, element), element);
      }
    }
    return channel;
  });
  for (const pd of allPds) {
    for (const capMap of pd.capMaps) {
      if (!byName.has(capMap.pd))
        throw locatedError(`Error: unknown PD name '${capMap.pd}'`, capMap.location);
    }
  }
  const result: SystemDecl = { rootPds, allPds, memoryRegions, channels, location: system.location };
  if (domainSchedule) result.domainSchedule = domainSchedule;
  return result;
}

/**
 * A PD followed by its descendants, depth first. Child ids and vCPU ids share the parent's
 * fault badge space, so they must all differ.
 */
function flatten(pd: ProtectionDomainDecl): ProtectionDomainDecl[] {
  const seen = new Set<number>();
  for (const child of pd.children) {
    const id = child.id!;
    if (seen.has(id)) {
      throw errorAt(`Error: duplicate id: ${id} in protection domain: '${pd.name}'`, child.location);
    }
    if (pd.virtualMachine?.vcpus.some((vcpu) => vcpu.id === id)) {
      throw errorAt(
        `Error: duplicate id: ${id} clashes with virtual machine vcpu id in protection domain: '${pd.name}'`,
        child.location,
      );
    }
    seen.add(id);
  }
  for (const child of pd.children) child.parent = pd.name;
  return [pd, ...pd.children.flatMap((child) => flatten(child))];
}
