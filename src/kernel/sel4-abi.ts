// seL4's user ABI on AArch64 (MCS kernel, hypervisor configuration), as native threads see it:
// syscall numbers, the registers a syscall uses, the message-info word, the IPC buffer and the
// invocation labels and error codes. The SDK's C headers are generated from these tables.

import { messageInfo, type MessageInfo } from "./message.ts";

/** seL4_Syscall_ID of the MCS kernel, and the debug syscalls of a build with printing. */
export const Syscall = {
  Call: -1,
  ReplyRecv: -2,
  NBSendRecv: -3,
  NBSendWait: -4,
  Send: -5,
  NBSend: -6,
  Recv: -7,
  NBRecv: -8,
  Wait: -9,
  NBWait: -10,
  Yield: -11,
  DebugPutChar: -12,
  DebugDumpScheduler: -13,
  DebugHalt: -14,
  DebugCapIdentify: -15,
  DebugSnapshot: -16,
  DebugNameThread: -17,
} as const;

export type SyscallName = keyof typeof Syscall;

/** The syscall's name from the value of x7 (a negative number as a 64-bit word). */
export function syscallName(x7: bigint): SyscallName | undefined {
  const number = Number(BigInt.asIntN(64, x7));
  return (Object.keys(Syscall) as SyscallName[]).find((name) => Syscall[name] === number);
}

/**
 * Registers of a syscall: x7 holds its number, x0 the capability (badge on return), x1 the
 * message info, x2–x5 the first message registers, x6 the reply object of a receive.
 */
export const SyscallRegister = { cap: 0, info: 1, firstMr: 2, reply: 6, number: 7 } as const;
/** seL4_FastMessageRegisters: message registers passed in x2–x5; the rest are in the IPC buffer. */
export const FAST_MESSAGE_REGISTERS = 4;
/** seL4_MsgMaxLength on AArch64. */
export const MSG_MAX_LENGTH = 120;

/** seL4_IPCBuffer: tag, msg[120], userData, caps_or_badges[3], receiveCNode/Index/Depth. */
export const IpcBuffer = {
  tag: 0,
  msg: 8,
  userData: 8 + 8 * MSG_MAX_LENGTH,
  size: 8 * (1 + MSG_MAX_LENGTH + 1 + 3 + 3),
} as const;

/** seL4_MessageInfo: label 63:12, capsUnwrapped 11:9, extraCaps 8:7, length 6:0. */
export const MessageInfoLayout = {
  labelShift: 12,
  labelBits: 52,
  capsUnwrappedShift: 9,
  extraCapsShift: 7,
  lengthBits: 7,
} as const;

export function decodeMessageInfo(word: bigint): MessageInfo {
  const label = Number((word >> BigInt(MessageInfoLayout.labelShift)) & ((1n << 52n) - 1n));
  return messageInfo(label, Number(word & 0x7fn));
}

export function encodeMessageInfo(info: MessageInfo): bigint {
  return (BigInt(info.label) << BigInt(MessageInfoLayout.labelShift)) | BigInt(info.count & 0x7f);
}

/**
 * seL4's invocation labels for this configuration (MCS, AArch64, hypervisor support, SMC calls
 * allowed, no hardware debug API): the generic ones from 1, then the AArch64 and ARM ones.
 */
const INVOCATION_LABEL_ORDER = [
  "InvalidInvocation",
  "UntypedRetype",
  "TCBReadRegisters",
  "TCBWriteRegisters",
  "TCBCopyRegisters",
  "TCBConfigure",
  "TCBSetPriority",
  "TCBSetMCPriority",
  "TCBSetSchedParams",
  "TCBSetTimeoutEndpoint",
  "TCBSetIPCBuffer",
  "TCBSetSpace",
  "TCBSuspend",
  "TCBResume",
  "TCBBindNotification",
  "TCBUnbindNotification",
  "TCBSetTLSBase",
  "CNodeRevoke",
  "CNodeDelete",
  "CNodeCancelBadgedSends",
  "CNodeCopy",
  "CNodeMint",
  "CNodeMove",
  "CNodeMutate",
  "CNodeRotate",
  "IRQIssueIRQHandler",
  "IRQAckIRQ",
  "IRQSetIRQHandler",
  "IRQClearIRQHandler",
  "DomainSetSet",
  "SchedControlConfigureFlags",
  "SchedContextBind",
  "SchedContextUnbind",
  "SchedContextUnbindObject",
  "SchedContextConsumed",
  "SchedContextYieldTo",
  "ARMVSpaceClean_Data",
  "ARMVSpaceInvalidate_Data",
  "ARMVSpaceCleanInvalidate_Data",
  "ARMVSpaceUnify_Instruction",
  "ARMSMCCall",
  "ARMPageTableMap",
  "ARMPageTableUnmap",
  "ARMPageMap",
  "ARMPageUnmap",
  "ARMPageClean_Data",
  "ARMPageInvalidate_Data",
  "ARMPageCleanInvalidate_Data",
  "ARMPageUnify_Instruction",
  "ARMPageGetAddress",
  "ARMASIDControlMakePool",
  "ARMASIDPoolAssign",
  "ARMVCPUSetTCB",
  "ARMVCPUInjectIRQ",
  "ARMVCPUReadReg",
  "ARMVCPUWriteReg",
  "ARMVCPUAckVPPI",
  "ARMIRQIssueIRQHandlerTrigger",
] as const;

export type InvocationLabelName = (typeof INVOCATION_LABEL_ORDER)[number];

export const InvocationLabel = Object.freeze(
  Object.fromEntries(INVOCATION_LABEL_ORDER.map((name, i) => [name, i])) as Record<
    InvocationLabelName,
    number
  >,
);

export function invocationLabelName(label: number): InvocationLabelName | undefined {
  return INVOCATION_LABEL_ORDER[label];
}

/** seL4_Error. */
export const Sel4ErrorCode = {
  seL4_NoError: 0,
  seL4_InvalidArgument: 1,
  seL4_InvalidCapability: 2,
  seL4_IllegalOperation: 3,
  seL4_RangeError: 4,
  seL4_AlignmentError: 5,
  seL4_FailedLookup: 6,
  seL4_TruncatedMessage: 7,
  seL4_DeleteFirst: 8,
  seL4_RevokeFirst: 9,
  seL4_NotEnoughMemory: 10,
} as const;

/** seL4_UserContext on AArch64: the order of the words TCB_ReadRegisters/WriteRegisters move. */
export const USER_CONTEXT_REGISTERS = [
  "pc",
  "sp",
  "spsr",
  ...Array.from({ length: 31 }, (_, i) => `x${i}`),
  "tpidr_el0",
  "tpidrro_el0",
] as const;

/** The kernel's complaint about an invocation of an empty slot (a debug build prints it). */
export function nullCapMessage(slot: number): string {
  return `<<seL4(CPU 0) [decodeInvocation]: Attempted to invoke a null cap #${slot}.>>`;
}

/** The kernel's complaint about an invocation label the object does not have. */
export function illegalOperationMessage(object: string): string {
  return `<<seL4(CPU 0) [decode${object}Invocation]: ${object}: Illegal operation attempted.>>`;
}

/** Labels of fault messages and the index of each word in the message (seL4's sel4_arch fault layouts). */
export const FaultMessageRegister = {
  VMFault: { IP: 0, Addr: 1, PrefetchFault: 2, FSR: 3, Length: 4 },
  UserException: { FaultIP: 0, SP: 1, SPSR: 2, Number: 3, Code: 4, Length: 5 },
  VCPUFault: { HSR: 0, Length: 1 },
  VGICMaintenance: { IDX: 0, Length: 1 },
  VPPIEvent: { IRQ: 0 },
} as const;
