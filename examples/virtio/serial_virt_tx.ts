// Serial output of both clients to the UART, each client's output kept whole.
import { serialVirtTx } from "../../src/sddf/index.ts";

export default serialVirtTx({
  driver: { queue: "tx_queue_drv", data: "tx_data_drv", channel: 0 },
  clients: [
    { queue: "tx_queue_vmm", data: "tx_data_vmm", channel: 1, name: "VMM" },
    { queue: "tx_queue_hello", data: "tx_data_hello", channel: 2, name: "hello" },
  ],
});
