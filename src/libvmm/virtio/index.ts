// libvmm's virtIO layer: virtio devices for a guest, placed on the VMM's emulated MMIO and connected to
// sDDF queues as an sDDF client (console ↔ serial, block ↔ blk, net ↔ net, sound ↔ sound).
export {
  LIBVMM_VIRTIO_PLACEMENT,
  SPI_BASE,
  addVirtioMmioDevice,
  vgicLevelLine,
  virtioHost,
  type VirtioMmioPlacement,
  type VirtioVmm,
  type VirtioWiring,
} from "./mmio.ts";
export {
  addVirtioDevice,
  virtioDeviceName,
  type VirtioPlacement,
  type VirtioPciPlacement,
  type VirtioDeviceWiring,
} from "./device.ts";
export {
  VirtioPciBus,
  LIBVMM_VIRTIO_PCI_PLACEMENT,
  ECAM_BUS_SIZE,
  ECAM_FUNCTION_SIZE,
  type VirtioPciBusOptions,
  type VirtioPciSlot,
} from "./pci.ts";
export { virtioConsole, type VirtioConsoleOptions, type VmmVirtioConsole } from "./console.ts";
export {
  virtioBlk,
  SddfBlockBackend,
  type SddfBlockBackendOptions,
  type VirtioBlkOptions,
  type VmmVirtioBlk,
} from "./blk.ts";
export { virtioNet, type VirtioNetOptions, type VmmVirtioNet, type VmmVirtioNetStats } from "./net.ts";
export {
  virtioSound,
  SddfSoundBackend,
  type SddfSoundBackendOptions,
  type VirtioSoundOptions,
  type VmmVirtioSound,
} from "./sound.ts";
// The device models and their back-end interfaces, from src/machine (the layer below).
export { VirtioConsole, type ConsolePort } from "../../machine/devices/virtio/console.ts";
export {
  VirtioBlk,
  memoryBlockBackend,
  type BlockBackend,
  type BlockDone,
} from "../../machine/devices/virtio/blk.ts";
export { VirtioNet } from "../../machine/devices/virtio/net.ts";
export { VirtioPciFunction, VIRTIO_PCI_BAR_SIZE } from "../../machine/devices/virtio/pci-transport.ts";
export {
  VirtioSound,
  type SoundBackend,
  type SoundDone,
  type SoundPcmParams,
  type SoundStreamInfo,
} from "../../machine/devices/virtio/sound.ts";
