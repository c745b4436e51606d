// The sDDF net TX virtualiser (network/components/virt_tx.c): clients' frames to the driver, checked, and the sent buffers back to their owners.

import { definePd, type Pd, type PdProgramDefinition } from "../../microkit/index.ts";
import { PeerComplaints, ioRegion } from "../shared.ts";
import { NET_BUFFER_SIZE, NetQueueHandle } from "./queue.ts";
import type { NetConnection } from "./virt-rx.ts";

export interface NetVirtTxClient extends NetConnection {
  /** setvar_vaddr of the virtualiser's map of the client's TX data region (the buffers its offsets name). */
  data: string;
}

export interface NetVirtTxConfig {
  /** The queues to the driver: frames go out as I/O addresses, sent buffers come back. */
  driver: NetConnection;
  clients: NetVirtTxClient[];
}

interface TxClient {
  queue: NetQueueHandle;
  region: { vaddr: number; size: number; ioAddr: number };
  buffers: number;
  /** Offsets of this client's buffers the driver holds. */
  inFlight: Set<number>;
}

/** A PD program: the net TX virtualiser. Each client fills its own TX free queue with its buffers. */
export function netVirtTx(config: NetVirtTxConfig): PdProgramDefinition {
  return definePd(() => {
    let driver: NetQueueHandle;
    let clients: TxClient[] = [];
    const complaints = new PeerComplaints("VIRT_TX|LOG: ");

    /** Why client `i`'s descriptor is refused, or undefined. */
    function refusal(
      client: TxClient,
      i: number,
      buffer: { ioOrOffset: number; len: number; oid: number },
    ): string | undefined {
      if (buffer.len === 0 || buffer.len > NET_BUFFER_SIZE) {
        return `client ${i} provided a buffer with len ${buffer.len} (must be 1..${NET_BUFFER_SIZE})`;
      }
      if (buffer.oid !== 0)
        return `client ${i} provided a buffer with oid ${buffer.oid}, which names no region of it`;
      const offset = buffer.ioOrOffset;
      if (offset % NET_BUFFER_SIZE !== 0 || offset >= client.buffers * NET_BUFFER_SIZE) {
        return `client ${i} provided offset 0x${offset.toString(16)}, which is not buffer aligned or is outside its ${client.buffers} buffers`;
      }
      return undefined;
    }

    function txProvide(pd: Pd): void {
      let enqueued = false;
      clients.forEach((client, i) => {
        const who = `client ${i}`;
        const violation = client.queue.violation("active");
        if (violation) complaints.report(pd, who, `${who}: ${violation}`);
        for (let reprocess = true; reprocess;) {
          while (!driver.full("active")) {
            const buffer = client.queue.dequeueActive();
            if (!buffer) break;
            const why = refusal(client, i, buffer);
            if (why) {
              complaints.report(pd, who, `${why}; returned to it unsent`);
              client.queue.enqueueFree(buffer);
              continue;
            }
            if (client.inFlight.has(buffer.ioOrOffset)) {
              // The driver already holds this buffer: sending it twice would hand it back twice.
              complaints.report(
                pd,
                who,
                `${who} sent buffer offset 0x${buffer.ioOrOffset.toString(16)} again while it is still being sent; ignored`,
              );
              continue;
            }
            client.inFlight.add(buffer.ioOrOffset);
            driver.enqueueActive({ ioOrOffset: client.region.ioAddr + buffer.ioOrOffset, len: buffer.len });
            enqueued = true;
          }
          // A full driver queue leaves the rest for later: the driver's returns will wake us.
          if (driver.full("active")) break;
          client.queue.requestSignal("active");
          reprocess = !client.queue.empty("active");
          if (reprocess) client.queue.cancelSignal("active");
        }
      });
      if (enqueued) driver.signalIfRequired("active", () => pd.deferredNotify(config.driver.channel));
    }

    function txReturn(pd: Pd): void {
      const notify = new Set<number>();
      for (let reprocess = true; reprocess;) {
        for (let buffer = driver.dequeueFree(); buffer; buffer = driver.dequeueFree()) {
          const i = clients.findIndex(
            (c) =>
              buffer.ioOrOffset >= c.region.ioAddr &&
              buffer.ioOrOffset < c.region.ioAddr + c.buffers * NET_BUFFER_SIZE,
          );
          const offset = i < 0 ? -1 : buffer.ioOrOffset - clients[i]!.region.ioAddr;
          if (i < 0 || !clients[i]!.inFlight.delete(offset)) {
            complaints.report(
              pd,
              "the driver",
              `the driver returned TX buffer 0x${buffer.ioOrOffset.toString(16)}, which no client sent; dropped`,
            );
            continue;
          }
          clients[i]!.queue.enqueueFree({ ioOrOffset: offset, len: 0 });
          notify.add(i);
        }
        driver.requestSignal("free");
        reprocess = !driver.empty("free");
        if (reprocess) driver.cancelSignal("free");
      }
      for (const i of notify)
        clients[i]!.queue.signalIfRequired("free", () => pd.notify(config.clients[i]!.channel));
    }

    return {
      init(pd) {
        const component = "net TX virtualiser";
        driver = NetQueueHandle.fromPd(pd, config.driver, component);
        clients = config.clients.map((c) => {
          const region = ioRegion(pd, c.data, component);
          return {
            queue: NetQueueHandle.fromPd(pd, c, component),
            region,
            buffers: Math.floor(region.size / NET_BUFFER_SIZE),
            inFlight: new Set<number>(),
          };
        });
        txProvide(pd);
      },

      notified(pd) {
        txReturn(pd);
        txProvide(pd);
      },
    };
  });
}
