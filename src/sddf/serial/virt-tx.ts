// The sDDF serial TX virtualiser (serial/components/virt_tx.c): each client's output whole into the driver's queue, optionally in the client's colour.

import { definePd, type Pd, type PdProgramDefinition } from "../../microkit/index.ts";
import { SerialQueueHandle, serialTransferAll } from "./queue.ts";
import type { SerialConnection } from "./driver-pl011.ts";

export interface SerialVirtTxClient extends SerialConnection {
  /** Shown in the colour legend printed at start-up (default `client<n>`). */
  name?: string;
}

export interface SerialVirtTxConfig {
  /** The queue the driver drains, and the channel to the driver. */
  driver: SerialConnection;
  clients: SerialVirtTxClient[];
  /** Wrap each client's output in its own ANSI colour (red, green, yellow, blue, magenta, cyan, then again). */
  colour?: boolean;
  /** Printed first, once the system is up: sDDF prints one when RX is enabled so a test knows input may begin. */
  beginString?: string;
}

/** The colours sDDF's TX virtualiser gives clients 0, 1, 2, …; reused when there are more clients. */
export const SERIAL_CLIENT_COLOURS = ["\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[34m", "\x1b[35m", "\x1b[36m"];
export const SERIAL_COLOUR_END = "\x1b[0m";

/** A PD program: the serial TX virtualiser. */
export function serialVirtTx(config: SerialVirtTxConfig): PdProgramDefinition {
  const encoder = new TextEncoder();
  const colours = config.clients.map((_, i) => ({
    start: encoder.encode(SERIAL_CLIENT_COLOURS[i % SERIAL_CLIENT_COLOURS.length]!),
    end: encoder.encode(SERIAL_COLOUR_END),
  }));
  return definePd(() => {
    let driver: SerialQueueHandle;
    let clients: SerialQueueHandle[] = [];
    /** Clients whose output waits for room in the driver's queue, in the order they asked. */
    const pending: number[] = [];
    /** Clients whose broken queue has been reported (once each). */
    const reported = new Set<number>();

    /** Moves client `i`'s output to the driver; false if it must wait for room. */
    function processTxQueue(pd: Pd, i: number): boolean {
      const client = clients[i]!;
      const violation = client.violation();
      if (violation && !reported.has(i)) {
        reported.add(i);
        pd.dbgPuts(
          `VIRT_TX|LOG: client ${i} ('${clientName(i)}'): ${violation}; its output is ignored until it repairs its queue\n`,
        );
      }
      if (client.empty()) return false;
      const colour = config.colour ? colours[i] : undefined;
      const needed = client.length() + (colour ? colour.start.length + colour.end.length : 0);
      if (needed > driver.free()) {
        driver.requestSignal();
        // Re-check after asking for the signal: the driver may have drained meanwhile.
        if (needed > driver.free()) {
          if (needed > driver.capacity && driver.free() === driver.capacity) return transferPart(i, colour);
          if (!pending.includes(i)) pending.push(i);
          return false;
        }
      }
      return serialTransferAll(driver, client, colour) > 0;
    }

    /**
     * A client holding more than the driver's queue can ever take (its queue is larger) goes in
     * pieces once the driver's queue is empty; otherwise it would wait for ever.
     */
    function transferPart(i: number, colour: { start: Uint8Array; end: Uint8Array } | undefined): boolean {
      const room = driver.free() - (colour ? colour.start.length + colour.end.length : 0);
      if (room <= 0) return false;
      if (colour) driver.enqueueBatch(colour.start);
      driver.enqueueBatch(clients[i]!.dequeueBatch(room));
      if (colour) driver.enqueueBatch(colour.end);
      if (!clients[i]!.empty() && !pending.includes(i)) pending.push(i);
      return true;
    }

    const clientName = (i: number): string => config.clients[i]!.name ?? `client${i}`;

    function notifyClient(pd: Pd, i: number): void {
      clients[i]!.signalIfRequired(() => pd.notify(config.clients[i]!.channel));
    }

    return {
      init(pd) {
        driver = SerialQueueHandle.fromPd(pd, config.driver, "serial TX virtualiser");
        clients = config.clients.map((c) => SerialQueueHandle.fromPd(pd, c, "serial TX virtualiser"));
        if (config.beginString) {
          driver.enqueueBatch(config.beginString);
          pd.notify(config.driver.channel);
        }
        if (config.colour) {
          config.clients.forEach((_, i) =>
            pd.dbgPuts(
              `${SERIAL_CLIENT_COLOURS[i % SERIAL_CLIENT_COLOURS.length]}'${clientName(i)}' is client ${i}${SERIAL_COLOUR_END}\n`,
            ),
          );
        }
      },

      notified(pd, channel) {
        if (channel === config.driver.channel) {
          // The driver made room: retry the waiting clients in order.
          const waiting = pending.splice(0);
          const moved = waiting.filter((i) => processTxQueue(pd, i));
          if (moved.length > 0) pd.notify(config.driver.channel);
          for (const i of moved) notifyClient(pd, i);
          return;
        }
        const i = config.clients.findIndex((c) => c.channel === channel);
        if (i < 0) {
          pd.dbgPuts(`VIRT_TX|LOG: Received notification from unknown channel ${channel}\n`);
          return;
        }
        if (processTxQueue(pd, i)) {
          pd.notify(config.driver.channel);
          notifyClient(pd, i);
        }
      },
    };
  });
}
