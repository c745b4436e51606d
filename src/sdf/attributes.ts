// Attribute access with Microkit's errors: unknown, missing and numeric attributes.

import type { XmlElement } from "./xml.ts";
import { SdfError, formatLocation, valueError } from "./errors.ts";
import { parseU64, toSafeNumber } from "./numbers.ts";

/** Rejects any attribute not in `allowed`, naming the first one in document order. */
export function checkAttributes(element: XmlElement, allowed: readonly string[]): void {
  for (const name of element.attributes.keys()) {
    if (!allowed.includes(name)) throw valueError(element, `invalid attribute '${name}'`);
  }
}

export function requiredAttribute(element: XmlElement, name: string): string {
  const value = element.attributes.get(name);
  if (value === undefined) {
    throw new SdfError(
      `Error: Missing required attribute '${name}' on element '${element.tag}': ${formatLocation(element.location)}`,
      element.location,
    );
  }
  return value;
}

/** An optional u64 attribute, before any range check (which callers do on the bigint). */
export function optionalU64(element: XmlElement, name: string): bigint | undefined {
  const text = element.attributes.get(name);
  return text === undefined ? undefined : parseU64(text, element);
}

export function requiredU64(element: XmlElement, name: string): bigint {
  return parseU64(requiredAttribute(element, name), element);
}

/** Narrows a range-checked value to a number, refusing what does not fit in 53 bits. */
export function safeNumber(element: XmlElement, name: string, value: bigint): number {
  return toSafeNumber(value, element.attributes.get(name) ?? value.toString(), element);
}

/** Booleans are exactly `true` or `false`, as in the Microkit tool. */
export function booleanAttribute(element: XmlElement, name: string, fallback: boolean): boolean {
  const text = element.attributes.get(name);
  if (text === undefined) return fallback;
  if (text === "true") return true;
  if (text === "false") return false;
  throw valueError(element, `${name} must be 'true' or 'false'`);
}
