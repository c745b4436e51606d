// Access-size checks shared by the distributor and redistributor front ends.
import { GuestAccessError } from "../fault/mmio.ts";
import type { AccessSize } from "../../machine/devices/mmio.ts";

/** Throws unless the access has one of `sizes` and is naturally aligned. */
export function checkAccess(
  frame: string,
  register: string,
  offset: number,
  size: AccessSize,
  write: boolean,
  sizes: readonly AccessSize[],
): void {
  if (sizes.includes(size) && offset % size === 0) return;
  const allowed = sizes.map((s) => `${s}-byte`).join(" or ");
  throw new GuestAccessError(
    `${frame}: a ${size}-byte ${write ? "write" : "read"} of ${register} at offset 0x${offset.toString(16)} is not allowed; ` +
      `the GIC takes aligned ${allowed} accesses to this register`,
  );
}
