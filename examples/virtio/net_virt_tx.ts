// The VMM's frames to the driver, sent buffers back to the VMM.
import { netVirtTx } from "../../src/sddf/index.ts";
import { NET_QUEUE_CAPACITY as capacity } from "./config.ts";

export default netVirtTx({
  driver: { free: "tx_free_drv", active: "tx_active_drv", capacity, channel: 0 },
  clients: [{ free: "tx_free_vmm", active: "tx_active_vmm", capacity, channel: 1, data: "tx_data_vmm" }],
});
