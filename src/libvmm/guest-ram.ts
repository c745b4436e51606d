// The guest's RAM as the VMM sees it: up to three regions (as libvmm allows), each a guest-physical
// range and the VMM's own view of the same bytes (its mapping of the memory region).
import { describeRange } from "./fault/mmio.ts";
import { hex } from "../util/hex.ts";

export const MAX_RAM_REGIONS = 3;

export interface GuestRamRegion {
  /** Guest-physical address of the first byte. */
  gpa: number;
  /** The VMM's mapping of the region. */
  bytes: Uint8Array;
}

export class GuestRam {
  readonly regions: readonly GuestRamRegion[];

  constructor(regions: readonly GuestRamRegion[]) {
    if (regions.length < 1 || regions.length > MAX_RAM_REGIONS) {
      throw new Error(`guest RAM: ${regions.length} regions given; libvmm supports 1 to ${MAX_RAM_REGIONS}`);
    }
    const sorted = [...regions].sort((a, b) => a.gpa - b.gpa);
    sorted.forEach((r, i) => {
      if (r.bytes.length === 0) throw new Error(`guest RAM: the region at ${hex(r.gpa)} is empty`);
      const next = sorted[i + 1];
      if (next && r.gpa + r.bytes.length > next.gpa) {
        throw new Error(
          `guest RAM: regions ${describeRange(r.gpa, r.bytes.length)} and ` +
            `${describeRange(next.gpa, next.bytes.length)} overlap`,
        );
      }
    });
    this.regions = sorted;
  }

  /** The lowest guest-physical RAM address: Linux's kernel is placed relative to it. */
  get base(): number {
    return this.regions[0]!.gpa;
  }

  contains(gpa: number, size = 1): boolean {
    return this.regions.some((r) => gpa >= r.gpa && gpa + size <= r.gpa + r.bytes.length);
  }

  /** The VMM's view of [gpa, gpa+size), which must lie inside one region. */
  view(gpa: number, size: number): Uint8Array {
    const region = this.regions.find((r) => gpa >= r.gpa && gpa + size <= r.gpa + r.bytes.length);
    if (!region) {
      throw new RangeError(
        `guest RAM: ${describeRange(gpa, size)} is not inside one RAM region (${this.regions
          .map((r) => describeRange(r.gpa, r.bytes.length))
          .join(", ")})`,
      );
    }
    return region.bytes.subarray(gpa - region.gpa, gpa - region.gpa + size);
  }

  write(gpa: number, data: Uint8Array): void {
    this.view(gpa, data.length).set(data);
  }
}
