// Copies each frame for the VMM from the shared RX DMA region into the VMM's own buffers.
import { netCopy } from "../../src/sddf/index.ts";
import { NET_QUEUE_CAPACITY as capacity } from "./config.ts";

export default netCopy({
  virt: { free: "rx_free_virt", active: "rx_active_virt", capacity, channel: 0 },
  rxData: "rx_dma",
  client: { free: "rx_free_vmm", active: "rx_active_vmm", capacity, channel: 1 },
  clientData: "rx_data_vmm",
});
