// The PL011 driver: the board's UART (IRQ 33 on channel 0) under the serial virtualisers.
import { serialDriverPl011 } from "../../src/sddf/index.ts";

export default serialDriverPl011({
  irq: 0,
  tx: { queue: "tx_queue_drv", data: "tx_data_drv", channel: 1 },
  rx: { queue: "rx_queue_drv", data: "rx_data_drv", channel: 2 },
});
