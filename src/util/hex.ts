// Hexadecimal formatting for addresses and register values in messages: one spelling everywhere.

/** `0x` followed by lowercase hex digits, no padding: 0x9000000. */
export function hex(value: number | bigint): string {
  return `0x${value.toString(16)}`;
}
