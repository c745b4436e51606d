// The virtio-net driver for the board's NIC in virtio-mmio slot 31 (0xa003e00, IRQ 79 on channel 2).
import { netDriverVirtio } from "../../src/sddf/index.ts";
import { NET_QUEUE_CAPACITY as capacity } from "./config.ts";

export default netDriverVirtio({
  regs: "regs",
  regsOffset: 0xe00,
  irq: 2,
  dma: "dma",
  rx: { free: "rx_free", active: "rx_active", capacity, channel: 0 },
  tx: { free: "tx_free", active: "tx_active", capacity, channel: 1 },
});
