// sDDF: the queue protocols over shared memory regions, and drivers and virtualisers as PDs.

export {
  SddfError,
  SharedFields,
  PeerComplaints,
  isPowerOfTwo,
  setvarAddress,
  regionBytes,
  mapSizeFrom,
  ioRegion,
} from "./shared.ts";
export * from "./serial/queue.ts";
export * from "./blk/queue.ts";
export * from "./net/queue.ts";
export * from "./sound/queue.ts";
export * from "./timer/protocol.ts";
export { timerDriver, type TimerDriverConfig } from "./timer/driver.ts";
export { serialDriverPl011, type SerialDriverConfig, type SerialConnection } from "./serial/driver-pl011.ts";
export { serialVirtRx, type SerialVirtRxConfig } from "./serial/virt-rx.ts";
export {
  serialVirtTx,
  SERIAL_CLIENT_COLOURS,
  SERIAL_COLOUR_END,
  type SerialVirtTxConfig,
  type SerialVirtTxClient,
} from "./serial/virt-tx.ts";
export { blkVirt, type BlkVirtConfig, type BlkVirtClient, type BlkConnection } from "./blk/virt.ts";
export * from "./blk/partitions.ts";
export {
  netVirtRx,
  parseMac,
  macString,
  type NetVirtRxConfig,
  type NetVirtRxClient,
  type NetConnection,
} from "./net/virt-rx.ts";
export { netVirtTx, type NetVirtTxConfig, type NetVirtTxClient } from "./net/virt-tx.ts";
export { netCopy, type NetCopyConfig } from "./net/copy.ts";
export { blkDriverVirtio, type BlkDriverVirtioConfig } from "./blk/driver-virtio.ts";
export * from "./virtio/driver.ts";
export { netDriverVirtio, type NetDriverVirtioConfig } from "./net/driver-virtio.ts";
export { soundDriver, type SoundDriverConfig, type SoundDriverClient } from "./sound/driver.ts";
