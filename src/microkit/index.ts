export { Pd, MAX_CHANNEL_ID } from "./pd.ts";
export { ProgramError, definePd, type PdProgram, type PdProgramDefinition } from "./program.ts";
export { PdAddressSpace, type MappedRegion } from "./address-space.ts";
export {
  bootSystem,
  bootSystemFile,
  type BootOptions,
  type RunningPd,
  type RunningSystem,
} from "./system.ts";
export { Monitor } from "./monitor.ts";
export { EMPTY_MESSAGE, VcpuReg, messageInfo, type MessageInfo } from "../kernel/index.ts";
