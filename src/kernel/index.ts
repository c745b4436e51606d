// The seL4 model: what the layers above use of it.

export { Kernel, type KernelOptions, type ThreadOptions } from "./kernel.ts";
export {
  HostEvents,
  hostWallClock,
  runEventLoop,
  type ClockMode,
  type EventLoopOptions,
  type WallClock,
} from "./event-loop.ts";
export {
  Thread,
  ThreadAbandoned,
  FaultError,
  type ComputeBody,
  type EventBody,
  type FaultHandler,
  type KernelEvent,
  type SliceResult,
  type ThreadState,
} from "./thread.ts";
export { IrqHandler, type IrqTrigger } from "./irq.ts";
export { Notification } from "./notification.ts";
export { SchedulingContext } from "./scheduling-context.ts";
export { VirtualClock, NS_PER_US } from "./time.ts";
export { EMPTY_MESSAGE, MESSAGE_REGISTERS, messageInfo, type MessageInfo } from "./message.ts";
export { FaultLabel, faultMessage, type Fault } from "./faults.ts";
export {
  NS_PER_COUNTER_TICK,
  NS_PER_INSTRUCTION,
  Sel4Error,
  VcpuObject,
  VcpuReg,
  type MachineExit,
  type MachineVcpu,
  type VcpuInspection,
  type VcpuRegisterView,
  type VcpuSystemRegister,
  type CounterSync,
  type PassthroughLookup,
} from "./vcpu.ts";
export {
  FAST_MESSAGE_REGISTERS,
  FaultMessageRegister,
  InvocationLabel,
  IpcBuffer,
  MSG_MAX_LENGTH,
  MessageInfoLayout,
  Sel4ErrorCode,
  Syscall,
  SyscallRegister,
  USER_CONTEXT_REGISTERS,
  decodeMessageInfo,
  encodeMessageInfo,
  illegalOperationMessage,
  invocationLabelName,
  nullCapMessage,
  syscallName,
  type InvocationLabelName,
  type SyscallName,
} from "./sel4-abi.ts";
