// ARM architecture facts, once: syndromes, fault status codes, system registers, the stage-1 walk, A64 text.
export {
  EXCEPTION_CLASS_NAMES,
  ExceptionClass,
  abortSyndrome,
  callImmediate,
  callSyndrome,
  decodeDataAbort,
  decodeSysregAccess,
  exceptionClass,
  extendLoadedValue,
  instructionLength,
  instructionSpecificSyndrome,
  isDataAbort,
  isInstructionAbort,
  isWfe,
  stepBackToInstruction,
  stepPastInstruction,
  syndrome,
  wfxSyndrome,
  type DataAbortSyndrome,
  type ProgramCounter,
  type SysregAccess,
  type SystemRegisterEncoding,
} from "./esr.ts";
export { FaultStatus, faultStatus, faultStatusName, isPermissionFault } from "./fault-status.ts";
export {
  CORE_SYSTEM_REGISTER_KEYS,
  systemInstructionName,
  systemRegisterKey,
  systemRegisterName,
} from "./system-registers.ts";
export {
  Stage1Attributes,
  el0PageDescriptor,
  tableDescriptor,
  translateStage1,
  type DescriptorReader,
  type Stage1Register,
} from "./stage1.ts";
export { disassemble } from "./a64/disassemble.ts";
