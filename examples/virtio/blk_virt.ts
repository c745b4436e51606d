// The block virtualiser: partition 0 of the disk to the VMM (the guest's /dev/vda).
import { blkVirt } from "../../src/sddf/index.ts";
import { BLK_QUEUE_CAPACITY } from "./config.ts";

export default blkVirt({
  driver: {
    request: "req_queue_drv",
    response: "resp_queue_drv",
    capacity: BLK_QUEUE_CAPACITY,
    storageInfo: "storage_info_drv",
    data: "data_virt",
    channel: 0,
  },
  clients: [
    {
      request: "req_queue_vmm",
      response: "resp_queue_vmm",
      capacity: BLK_QUEUE_CAPACITY,
      storageInfo: "storage_info_vmm",
      data: "data_vmm",
      channel: 1,
      partition: 0,
    },
  ],
});
