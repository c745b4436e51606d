// Serial input to the current client: the guest's hvc0 (client 0) or the native PD hello (client 1);
// Ctrl-\ <n> Enter switches.
import { serialVirtRx } from "../../src/sddf/index.ts";

export default serialVirtRx({
  driver: { queue: "rx_queue_drv", data: "rx_data_drv", channel: 0 },
  clients: [
    { queue: "rx_queue_vmm", data: "rx_data_vmm", channel: 1 },
    { queue: "rx_queue_hello", data: "rx_data_hello", channel: 2 },
  ],
});
