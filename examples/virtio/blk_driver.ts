// The virtio-blk driver for the board's disk in virtio-mmio slot 1 (0xa000200, IRQ 49 on channel 1).
import { blkDriverVirtio } from "../../src/sddf/index.ts";
import { BLK_QUEUE_CAPACITY } from "./config.ts";

export default blkDriverVirtio({
  regs: "regs",
  regsOffset: 0x200,
  irq: 1,
  dma: "dma",
  virt: {
    request: "req_queue",
    response: "resp_queue",
    capacity: BLK_QUEUE_CAPACITY,
    storageInfo: "storage_info",
    channel: 0,
  },
});
