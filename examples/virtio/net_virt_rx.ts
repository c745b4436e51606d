// Received frames to the VMM's copier by MAC (broadcasts too), the rest back to the driver.
import { netVirtRx } from "../../src/sddf/index.ts";
import { GUEST_MAC, NET_QUEUE_CAPACITY as capacity } from "./config.ts";

export default netVirtRx({
  driver: { free: "rx_free_drv", active: "rx_active_drv", capacity, channel: 0 },
  data: "rx_dma",
  clients: [{ free: "rx_free_copy", active: "rx_active_copy", capacity, channel: 1, macs: [GUEST_MAC] }],
});
