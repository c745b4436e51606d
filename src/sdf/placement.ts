// Placing memory regions without a phys_addr in the board's free RAM, as the Microkit tool does.

import type { MemoryRegionDecl } from "./declarations.ts";
import { platformRam, type Platform } from "./platform.ts";
import { errorAt } from "./errors.ts";
import { hex } from "../util/hex.ts";

interface Gap {
  start: number;
  end: number;
}

/**
 * Chooses a physical address for every region without phys_addr: the lowest address in board
 * RAM, aligned to the region's page size, that overlaps no region placed before it or fixed by
 * the file. Regions are placed in document order, so the layout is deterministic.
 */
export function placeMemoryRegions(
  regions: readonly MemoryRegionDecl[],
  platform: Platform,
): Map<string, number> {
  const paddrs = new Map<string, number>();
  const ram = platformRam(platform);
  let gaps: Gap[] = ram.map((r) => ({ start: r.base, end: r.base + r.size }));
  for (const mr of regions) {
    if (mr.physAddr === undefined) continue;
    gaps = gaps.flatMap((gap) => subtract(gap, mr.physAddr!, mr.physAddr! + mr.size));
    paddrs.set(mr.name, mr.physAddr);
  }
  for (const mr of regions) {
    if (mr.physAddr !== undefined) continue;
    const index = gaps.findIndex((gap) => alignUp(gap.start, mr.pageSize) + mr.size <= gap.end);
    if (index < 0) {
      throw errorAt(
        `Error: memory region '${mr.name}' (size ${hex(mr.size)}) does not fit in the free RAM of ${platform.name} ${ram.map((r) => `[${hex(r.base)}..${hex(r.base + r.size)})`).join(", ")}`,
        mr.location,
      );
    }
    const gap = gaps[index]!;
    const start = alignUp(gap.start, mr.pageSize);
    gaps.splice(index, 1, ...subtract(gap, start, start + mr.size));
    paddrs.set(mr.name, start);
  }
  return paddrs;
}

/** What remains of a gap once [start, end) is taken out of it. */
function subtract(gap: Gap, start: number, end: number): Gap[] {
  if (end <= gap.start || start >= gap.end) return [gap];
  const left = { start: gap.start, end: start };
  const right = { start: end, end: gap.end };
  return [left, right].filter((part) => part.end > part.start);
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}
