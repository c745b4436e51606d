// Emulated devices are registered by guest-physical range, like libvmm's
// fault_register_vm_exception_handler; a stage-2 fault inside a range is emulated by its handler.
import { hex } from "../../util/hex.ts";
import type { MmioDevice } from "../../machine/devices/mmio.ts";

/**
 * Thrown by a handler for an access the device's architecture does not allow (a size or alignment the
 * registers do not support). The fault is reported for that VM alone; the VMM carries on.
 */
export class GuestAccessError extends Error {}

export interface MmioRegion {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly handler: MmioDevice;
}

export function describeRange(base: number, size: number): string {
  return `[${hex(base)}..${hex(base + size)})`;
}

export class MmioRegions {
  private readonly regions: MmioRegion[] = [];

  /** Registers `handler` for guest-physical [base, base+size). Overlapping another range is an error. */
  register(name: string, base: number, size: number, handler: MmioDevice): MmioRegion {
    if (!Number.isSafeInteger(base) || base < 0 || !Number.isSafeInteger(size) || size <= 0) {
      throw new Error(
        `cannot register '${name}': base ${hex(base)} and size ${hex(size)} must be non-negative integers and the size non-zero`,
      );
    }
    const clash = this.regions.find((r) => base < r.base + r.size && r.base < base + size);
    if (clash) {
      throw new Error(
        `cannot register '${name}' at ${describeRange(base, size)}: it overlaps '${clash.name}' at ` +
          `${describeRange(clash.base, clash.size)}; give each emulated device its own guest-physical range`,
      );
    }
    const region = { name, base, size, handler };
    this.regions.push(region);
    this.regions.sort((a, b) => a.base - b.base);
    return region;
  }

  /** The region containing `ipa`, if any. */
  find(ipa: number): MmioRegion | undefined {
    return this.regions.find((r) => ipa >= r.base && ipa < r.base + r.size);
  }

  get all(): readonly MmioRegion[] {
    return this.regions;
  }
}
