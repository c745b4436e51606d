// The sDDF serial RX virtualiser (serial/components/virt_rx.c): input goes to the current client; `\x1c<n>\r` switches client.

import { definePd, type Pd, type PdProgramDefinition } from "../../microkit/index.ts";
import { SerialQueueHandle } from "./queue.ts";
import type { SerialConnection } from "./driver-pl011.ts";

export interface SerialVirtRxConfig {
  /** The queue the driver fills, and the channel to the driver. */
  driver: SerialConnection;
  /** Each client's RX queue and the channel to it; client n is `clients[n]`. */
  clients: SerialConnection[];
  /** Starts a client switch (default 0x1c, Ctrl-\). Typed twice, it reaches the client as itself. */
  switchChar?: number;
  /** Ends the client number (default `\r`). */
  terminateNumChar?: number;
  /** Print the VIRT_RX|LOG lines sDDF's debug build prints (default true). */
  log?: boolean;
}

/** MAX_CLI_BASE_10: client numbers have at most this many digits. */
const MAX_CLIENT_DIGITS = 4;

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** A PD program: the serial RX virtualiser. */
export function serialVirtRx(config: SerialVirtRxConfig): PdProgramDefinition {
  const switchChar = config.switchChar ?? 0x1c;
  const terminateNumChar = config.terminateNumChar ?? 0x0d;
  return definePd(() => {
    let driver: SerialQueueHandle;
    let clients: SerialQueueHandle[] = [];
    let mode: "normal" | "switched" | "number" = "normal";
    let current = 0;
    let digits = "";

    const log = (pd: Pd, text: string): void => {
      if (config.log ?? true) pd.dbgPuts(`VIRT_RX|LOG: ${text}\n`);
    };
    const reset = (): void => {
      mode = "normal";
      digits = "";
    };

    function rxReturn(pd: Pd): void {
      let transferred = false;
      const deliver = (c: number): void => {
        // A full client loses the character, so that one slow client never stalls the others.
        if (clients[current]!.enqueueLocal(c)) transferred = true;
      };
      for (let c = driver.dequeue(); c !== undefined; c = driver.dequeue()) {
        if (mode === "normal") {
          if (c === switchChar) mode = "switched";
          else deliver(c);
        } else if (mode === "switched") {
          if (isDigit(c)) {
            digits = String.fromCharCode(c);
            mode = "number";
          } else {
            // The switch character twice is the character itself; anything else is a typing error.
            if (c === switchChar) deliver(c);
            else log(pd, `User entered an invalid digit ${String.fromCharCode(c)}`);
            reset();
          }
        } else if (c === terminateNumChar) {
          const next = Number.parseInt(digits, 10);
          if (next < clients.length) {
            if (clients[current]!.publishTail() && transferred) pd.notify(config.clients[current]!.channel);
            current = next;
            transferred = false;
            log(pd, `switching to client ${next}`);
          } else {
            log(pd, `User requested to switch to an invalid client ${next}`);
          }
          reset();
        } else if (digits.length < MAX_CLIENT_DIGITS && isDigit(c)) {
          digits += String.fromCharCode(c);
        } else {
          log(
            pd,
            `User entered too many digits (at most ${MAX_CLIENT_DIGITS}) or an invalid digit (${String.fromCharCode(c)})`,
          );
          reset();
        }
      }
      clients[current]!.publishTail();
      if (!driver.full()) driver.signalIfRequired(() => pd.notify(config.driver.channel));
      if (transferred) pd.notify(config.clients[current]!.channel);
    }

    return {
      init(pd) {
        driver = SerialQueueHandle.fromPd(pd, config.driver, "serial RX virtualiser");
        clients = config.clients.map((c) => SerialQueueHandle.fromPd(pd, c, "serial RX virtualiser"));
        // It drops input a full client has no room for and never waits, so no client need signal it
        // when it makes room (the flag starts zeroed, which the protocol reads as "signal me").
        for (const client of clients) client.cancelSignal();
        if (clients.length === 0)
          throw new Error(`serial RX virtualiser '${pd.name}': no clients configured`);
      },

      notified(pd, channel) {
        if (channel === config.driver.channel) rxReturn(pd);
        else log(pd, `received notification on unexpected channel: ${channel}`);
      },
    };
  });
}
