// libvmm in TypeScript: what a VMM PD imports.
export {
  Vmm,
  decodeFault,
  type VcpuFault,
  type VmmOptions,
  type VmmInterruptControl,
  type GicPlacement,
} from "./vmm.ts";
export { Guest, MAX_VCPUS, type GuestOptions, type VcpuStartState } from "./guest.ts";
export { GuestRam, MAX_RAM_REGIONS, type GuestRamRegion } from "./guest-ram.ts";
export { bootLinux, loadLinux, describeBoot, type LinuxImages, type LinuxBoot } from "./linux.ts";
export { createVmmLog, type VmmLog } from "./log.ts";
export {
  microkitVcpuControl,
  microkitInterrupts,
  microkitFault,
  microkitStage1Registers,
  type MicrokitVmmApi,
} from "./microkit.ts";
export {
  guestInstructionReader,
  readGuestInstruction,
  translateGuestVirtual,
  type Stage1Register,
  type Stage1RegisterReader,
} from "./stage1.ts";
export { SmcccDispatcher, type SipHandler, type SipCall, type SmcccOutcome } from "./smc.ts";
export { PSCI_VERSION_1_1, PsciReturn, type PsciPlatform } from "./psci.ts";
export { MmioRegions, GuestAccessError } from "./fault/mmio.ts";
export type { MmioDevice, AccessSize } from "../machine/devices/mmio.ts";
export { emulateDataAbort, type DataAbortOutcome } from "./fault/data-abort.ts";
// ARM facts a VMM author uses, from src/machine/arch (the layer below): the syndrome and the disassembler.
export { decodeDataAbort, disassemble, type DataAbortSyndrome } from "../machine/arch/index.ts";
export { deviceTreeRegions, type DeviceTreeRegion } from "./fault/device-tree-regions.ts";
export { formatFaultReport, reportUnhandledFault } from "./fault/report.ts";
export { Vgic, VTIMER_PPI, type InjectResult } from "./vgic/vgic.ts";
export { PSTATE_EL1H_DAIF_MASKED, type VcpuControl, type VcpuRegisters } from "./vcpu.ts";
export { Gicv2Distributor } from "./vgic/gicv2-distributor.ts";
export { Gicv3Distributor } from "./vgic/gicv3-distributor.ts";
export { Gicv3Redistributors } from "./vgic/gicv3-redistributor.ts";
export type { VirtualIrqSink } from "./vgic/list-registers.ts";
export { startMicrokitLinuxVm, type MicrokitLinuxVm } from "./microkit-linux.ts";
export {
  CrossVm,
  CrossVmConfigError,
  readDataportString,
  CROSSVM_PAGE_SIZE,
  CONSUMES_EVENT_REG_ID,
  CONSUMES_EVENT_REG_COUNT,
  UIO_KERNEL_ARGUMENT,
  type CrossVmModel,
  type CrossVmConnections,
  type CrossVmDataport,
  type CrossVmEmittedEvent,
  type CrossVmConsumedEvent,
  type CrossVmNative,
} from "./crossvm.ts";
// virtIO devices over sDDF (src/libvmm/virtio).
export * from "./virtio/index.ts";
