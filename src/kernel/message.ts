// seL4 IPC message info and message registers, as libmicrokit exposes them.

/** seL4_MessageInfo: a label and a count of message registers. */
export interface MessageInfo {
  readonly label: number;
  readonly count: number;
}

/** seL4_MsgMaxLength is 120 on AArch64; libmicrokit documents 64 usable words. */
export const MESSAGE_REGISTERS = 64;

// The label is a 52-bit field and the length a 7-bit field of one 64-bit word.
const LABEL_LIMIT = 2 ** 52;
const LENGTH_MASK = 0x7f;

/** microkit_msginfo_new: out-of-range values are truncated as the C bitfield would. */
export function messageInfo(label: number, count: number): MessageInfo {
  return Object.freeze({ label: Math.trunc(label) % LABEL_LIMIT, count: count & LENGTH_MASK });
}

export const EMPTY_MESSAGE: MessageInfo = messageInfo(0, 0);

/** Copies the first `count` message registers, as seL4 does on Call and Reply. */
export function transferMessageRegisters(from: BigUint64Array, to: BigUint64Array, count: number): void {
  const n = Math.min(count, MESSAGE_REGISTERS);
  to.set(from.subarray(0, n));
}
