import type { MemoryRegionDecl } from "./declarations.ts";
import type { Platform } from "./platform.ts";
import { errorAt } from "./errors.ts";
import { DisjointIntervals } from "./intervals.ts";
import { hex } from "./numbers.ts";

/**
 * Chooses a physical address for every region without phys_addr: the lowest address in board
 * RAM, aligned to the region's page size, that overlaps no region placed before it or fixed by
 * the file. Regions are placed in document order, so the layout is deterministic.
 */
export function placeMemoryRegions(
  regions: readonly MemoryRegionDecl[],
  platform: Platform,
): Map<string, number> {
  const occupied = new DisjointIntervals();
  const paddrs = new Map<string, number>();
  for (const mr of regions) {
    if (mr.physAddr === undefined) continue;
    occupied.add({ name: mr.name, start: mr.physAddr, end: mr.physAddr + mr.size });
    paddrs.set(mr.name, mr.physAddr);
  }
  const ramEnd = platform.ram.base + platform.ram.size;
  for (const mr of regions) {
    if (mr.physAddr !== undefined) continue;
    let start = alignUp(platform.ram.base, mr.pageSize);
    for (;;) {
      const blocker = occupied.firstOverlap(start, start + mr.size);
      if (!blocker) break;
      start = alignUp(blocker.end, mr.pageSize);
    }
    if (start + mr.size > ramEnd) {
      throw errorAt(
        `Error: memory region '${mr.name}' (size ${hex(mr.size)}) does not fit in the free RAM of ${platform.name} [${hex(platform.ram.base)}..${hex(ramEnd)})`,
        mr.location,
      );
    }
    occupied.add({ name: mr.name, start, end: start + mr.size });
    paddrs.set(mr.name, start);
  }
  return paddrs;
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}
