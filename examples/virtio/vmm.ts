// The VMM of the virtio example: one Linux guest whose console, disk, network and sound card are
// virtIO devices it emulates at libvmm's addresses, each an sDDF client of the native drivers' PDs
// (channels as in virtio.system). The guest has no UART: its console is hvc0.
import { linuxVmm } from "../lib/linux-vmm.ts";
import {
  LIBVMM_VIRTIO_PLACEMENT as PLACE,
  virtioBlk,
  virtioConsole,
  virtioHost,
  virtioNet,
  virtioSound,
} from "../../src/libvmm/index.ts";
import {
  BlkQueueHandle,
  BlkStorageInfo,
  NetQueueHandle,
  SerialQueueHandle,
  SoundQueues,
  SoundSharedState,
  regionBytes,
} from "../../src/sddf/index.ts";
import { BLK_QUEUE_CAPACITY, GUEST_MAC, NET_QUEUE_CAPACITY } from "./config.ts";

const SERIAL_RX = 1;
const SERIAL_TX = 2;
const BLK = 3;
const NET_RX = 4;
const NET_TX = 5;
const SOUND = 6;

export default linuxVmm(() => {
  const devices: { handleNotification(channel: number): boolean }[] = [];
  return {
    example: "virtio",
    uart: false,
    bootargs: "console=hvc0",
    powerOffBoard: true,
    emulatedVirtio: [PLACE.console, PLACE.blk, PLACE.net, PLACE.sound],
    setup(pd, vmm) {
      const host = virtioHost(vmm);
      const notify = (channel: number): void => pd.notify(channel);
      devices.push(
        virtioConsole(host, {
          ...PLACE.console,
          rx: SerialQueueHandle.fromPd(pd, { queue: "serial_rx_queue", data: "serial_rx_data" }),
          tx: SerialQueueHandle.fromPd(pd, { queue: "serial_tx_queue", data: "serial_tx_data" }),
          rxChannel: SERIAL_RX,
          txChannel: SERIAL_TX,
          notify,
        }),
        virtioBlk(host, {
          ...PLACE.blk,
          queue: BlkQueueHandle.fromPd(pd, {
            request: "blk_req_queue",
            response: "blk_resp_queue",
            capacity: BLK_QUEUE_CAPACITY,
          }),
          storageInfo: BlkStorageInfo.fromPd(pd, "blk_storage_info"),
          data: regionBytes(pd, "blk_data", "vmm"),
          channel: BLK,
          notify,
        }),
        virtioNet(host, {
          ...PLACE.net,
          mac: GUEST_MAC,
          rx: NetQueueHandle.fromPd(pd, {
            free: "net_rx_free",
            active: "net_rx_active",
            capacity: NET_QUEUE_CAPACITY,
          }),
          rxData: regionBytes(pd, "net_rx_data", "vmm"),
          tx: NetQueueHandle.fromPd(pd, {
            free: "net_tx_free",
            active: "net_tx_active",
            capacity: NET_QUEUE_CAPACITY,
          }),
          txData: regionBytes(pd, "net_tx_data", "vmm"),
          rxChannel: NET_RX,
          txChannel: NET_TX,
          notify,
        }),
        virtioSound(host, {
          ...PLACE.sound,
          queues: SoundQueues.fromPd(pd, {
            cmdReq: "sound_cmd_req",
            cmdRes: "sound_cmd_res",
            pcmReq: "sound_pcm_req",
            pcmRes: "sound_pcm_res",
          }),
          sharedState: SoundSharedState.fromPd(pd, "sound_shared_state"),
          data: regionBytes(pd, "sound_data", "vmm"),
          channel: SOUND,
          notify,
        }),
      );
    },
    notified(_pd, channel) {
      devices.some((device) => device.handleNotification(channel));
    },
  };
});
