// Channel, irq and vCPU ids: decimal, 0 to 61, with located errors.

import type { XmlElement } from "./xml.ts";
import { requiredAttribute } from "./attributes.ts";
import { valueError } from "./errors.ts";
import { parseDecimalId } from "./numbers.ts";

/**
 * Ids become bits of a 64-bit badge; two bits are taken by the PPC and fault flags, so ids run
 * from 0 to 61 (not 63, as the Microkit manual still says).
 */
export const MAX_ID = 61;

/** A required decimal id in 0..=61 (irq, channel end and vCPU ids). */
export function requiredId(element: XmlElement, name = "id"): number {
  const value = parseDecimalId(requiredAttribute(element, name), element);
  if (value > BigInt(MAX_ID)) throw valueError(element, `${name} must be < ${MAX_ID + 1}`);
  if (value < 0n) throw valueError(element, `${name} must be >= 0`);
  return Number(value);
}
