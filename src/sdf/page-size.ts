// Promoting memory regions to 2 MiB pages where everything about them is 2 MiB aligned.

import type { MemoryRegionDecl } from "./declarations.ts";
import type { SystemDecl } from "./parse-system.ts";
import { LARGE_PAGE } from "./platform.ts";

/**
 * Gives a region 2 MiB pages when the file left the page size open and nothing stops it: the
 * size, the phys_addr and every vaddr it is mapped at are 2 MiB aligned. Fewer, larger pages
 * are what the Microkit tool builds, and the guest sees the same translation either way.
 */
export function promotePageSizes(system: SystemDecl): void {
  const addresses = new Map<string, number[]>();
  for (const pd of system.allPds) {
    for (const map of [...pd.maps, ...(pd.virtualMachine?.maps ?? [])]) {
      addresses.set(map.mr, [...(addresses.get(map.mr) ?? []), map.vaddr]);
    }
  }
  for (const mr of system.memoryRegions) {
    if (canPromote(mr, addresses.get(mr.name) ?? [])) mr.pageSize = LARGE_PAGE;
  }
}

function canPromote(mr: MemoryRegionDecl, vaddrs: readonly number[]): boolean {
  if (mr.pageSizeExplicit || mr.pageSize === LARGE_PAGE || mr.size % LARGE_PAGE !== 0) return false;
  const fixed = mr.physAddr === undefined ? [] : [mr.physAddr];
  return [...vaddrs, ...fixed].every((address) => address % LARGE_PAGE === 0);
}
