// The Microkit runtime: what examples, libvmm and the CLI use of it.

export { Pd, MAX_CHANNEL_ID } from "./pd.ts";
export {
  ProgramError,
  definePd,
  type PdProgram,
  type PdProgramDefinition,
  type ProgramContext,
  type GuestBootOptions,
  type HostOutputOptions,
} from "./program.ts";
export { microkitPlatform } from "./platform.ts";
export { PdAddressSpace, type MappedRegion } from "./address-space.ts";
export {
  bootSystem,
  bootSystemFile,
  type BootOptions,
  type SystemNetwork,
  type SystemDisk,
  type RunningPd,
  type RunningSystem,
} from "./system.ts";
export { Monitor } from "./monitor.ts";
export { buildSystemImage, isSystemImage, unpackSystemImage, type UnpackedImage } from "./system-image.ts";
export { elfReport } from "./elf-report.ts";
export { ElfProgram } from "./elf-program.ts";
export { PhysicalTimer, PHYSICAL_TIMER_PPI, TimerControl } from "./generic-timer.ts";
export { EMPTY_MESSAGE, VcpuReg, messageInfo, type MessageInfo } from "../kernel/index.ts";
