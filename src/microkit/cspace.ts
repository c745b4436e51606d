// Microkit's fixed CSpace layout of a PD and the badges its handler loop decodes: the one home of
// these numbers for the TypeScript API, the monitor, the ELF runtime and the SDK's C headers.

/** The PD's endpoint (PPCs and faults) with its bound notification: what the handler loop receives on. */
export const INPUT_CAP = 1;
/** The MCS reply object of the handler loop's receive. */
export const REPLY_CAP = 4;
export const MONITOR_EP = 5;
/** Valid only when the PD has smc="true". */
export const ARM_SMC_CAP = 7;
export const BASE_OUTPUT_NOTIFICATION_CAP = 10;
export const BASE_ENDPOINT_CAP = 74;
export const BASE_IRQ_CAP = 138;
export const BASE_TCB_CAP = 202;
export const BASE_VM_TCB_CAP = 266;
export const BASE_VCPU_CAP = 330;
/** libmicrokit's MICROKIT_MAX_CHANNELS: channel ids 0..61. */
export const MAX_CHANNELS = 62;
/** The length of microkit_name, the PD's name as the tool patches it in. */
export const PD_NAME_LENGTH = 64;

/** Badge bit of a PPC on the input endpoint (the channel id is in the low bits). */
export const PPC_BADGE_BIT = 63n;
/** Badge bit of a child's fault on the input endpoint (the child id is in the low bits). */
export const FAULT_BADGE_BIT = 62n;

export type CapSlot =
  | { kind: "input" }
  | { kind: "reply" }
  | { kind: "smc" }
  | { kind: "notification"; channel: number }
  | { kind: "endpoint"; channel: number }
  | { kind: "irq"; channel: number }
  | { kind: "tcb"; child: number }
  | { kind: "vm-tcb"; vcpu: number }
  | { kind: "vcpu"; vcpu: number };

/** What Microkit would put in slot `slot`, if anything (whether the PD has it is the caller's question). */
export function capSlot(slot: number): CapSlot | undefined {
  const ranges: [number, (n: number) => CapSlot][] = [
    [BASE_OUTPUT_NOTIFICATION_CAP, (n) => ({ kind: "notification", channel: n })],
    [BASE_ENDPOINT_CAP, (n) => ({ kind: "endpoint", channel: n })],
    [BASE_IRQ_CAP, (n) => ({ kind: "irq", channel: n })],
    [BASE_TCB_CAP, (n) => ({ kind: "tcb", child: n })],
    [BASE_VM_TCB_CAP, (n) => ({ kind: "vm-tcb", vcpu: n })],
    [BASE_VCPU_CAP, (n) => ({ kind: "vcpu", vcpu: n })],
  ];
  if (slot === INPUT_CAP) return { kind: "input" };
  if (slot === REPLY_CAP) return { kind: "reply" };
  if (slot === ARM_SMC_CAP) return { kind: "smc" };
  for (const [base, make] of ranges) {
    if (slot >= base && slot < base + 64) return make(slot - base);
  }
  return undefined;
}
