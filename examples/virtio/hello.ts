// A native PD sharing the UART with the guest through the serial virtualisers: it greets, then
// answers each line typed to it (Ctrl-\ 1 Enter switches the input to it, Ctrl-\ 0 Enter back).
import { definePd, type Pd } from "../../src/microkit/index.ts";
import { SerialQueueHandle } from "../../src/sddf/index.ts";

const TX = 0;
const RX = 1;

export default definePd(() => {
  let tx: SerialQueueHandle;
  let rx: SerialQueueHandle;
  let line = "";
  const say = (pd: Pd, text: string): void => {
    tx.enqueueBatch(text);
    pd.notify(TX);
  };
  return {
    init(pd: Pd) {
      tx = SerialQueueHandle.fromPd(pd, { queue: "tx_queue", data: "tx_data" });
      rx = SerialQueueHandle.fromPd(pd, { queue: "rx_queue", data: "rx_data" });
      say(pd, "hello: a native PD on the same UART as the guest; type Ctrl-\\ 1 Enter to talk to me\r\n");
    },
    notified(pd: Pd, channel: number) {
      if (channel !== RX) return;
      let echo = "";
      for (const byte of rx.dequeueBatch()) {
        if (byte === 0x0d || byte === 0x0a) {
          echo += `\r\nhello: you said "${line}"\r\n`;
          line = "";
        } else {
          line += String.fromCharCode(byte);
          echo += String.fromCharCode(byte);
        }
      }
      if (echo !== "") say(pd, echo);
    },
  };
});
