// Numbers as the Microkit tool reads them, with its error texts and our locations.

import type { Located } from "./errors.ts";
import { errorAt } from "./errors.ts";

const U64_MAX = (1n << 64n) - 1n;

/**
 * Parses a number the way the Microkit tool does: underscores are ignored, a lowercase `0x`
 * prefix means hexadecimal, the result is an unsigned 64-bit value. The reasons are Rust's,
 * so messages match the Microkit tool; the location is ours.
 */
export function parseU64(text: string, element: Located): bigint {
  let digits = text.replaceAll("_", "");
  let radix = 10;
  if (digits.startsWith("0x")) {
    digits = digits.slice(2);
    radix = 16;
  }
  if (digits === "") throw numberError(text, element, "cannot parse integer from empty string");
  if (digits.startsWith("+")) digits = digits.slice(1);
  const pattern = radix === 16 ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/;
  if (!pattern.test(digits)) throw numberError(text, element, "invalid digit found in string");
  // Very long digit strings cannot fit; refusing them early keeps BigInt from spending
  // quadratic time on hostile input.
  const significant = digits.replace(/^0+/, "");
  const value = significant.length > 20 ? U64_MAX + 1n : BigInt(radix === 16 ? `0x${digits}` : digits);
  if (value > U64_MAX) throw numberError(text, element, "number too large to fit in target type");
  return value;
}

/**
 * Parses a decimal that may be negative, for the ids the Microkit tool reads with Rust's
 * `parse::<i64>()` (irq and channel ids): `-1` must reach the `id must be >= 0` check, while
 * hex or junk, where the Microkit tool panics, gets a located error.
 */
export function parseDecimalId(text: string, element: Located): bigint {
  if (text === "") throw numberError(text, element, "cannot parse integer from empty string");
  if (!/^[+-]?[0-9]+$/.test(text)) {
    const hint = text.startsWith("0x") ? " (ids are decimal only)" : "";
    throw numberError(text, element, `invalid digit found in string${hint}`);
  }
  const negative = text.startsWith("-");
  const tooLong = text.replace(/^[+-]?0*/, "").length > 20;
  const value = tooLong ? (negative ? -U64_MAX : U64_MAX + 1n) : BigInt(text);
  if (value > U64_MAX) throw numberError(text, element, "number too large to fit in target type");
  if (value < -(1n << 63n)) throw numberError(text, element, "number too small to fit in target type");
  return value;
}

/**
 * Converts a parsed value to a JavaScript number. Everything meaningful on AArch64 fits in
 * 53 bits; larger values are refused here so no later arithmetic silently loses precision.
 */
export function toSafeNumber(value: bigint, text: string, element: Located): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw numberError(
      text,
      element,
      "number too large for virtkit, which accepts values up to 0x1fffffffffffff (2^53 - 1)",
    );
  }
  return Number(value);
}

function numberError(text: string, element: Located, reason: string) {
  return errorAt(
    `Error: failed to parse integer '${text}' on element '${element.tag}': ${reason}`,
    element.location,
  );
}
