// The sDDF net RX virtualiser (network/components/virt_rx.c): frames from the driver go to the client whose MAC they are addressed to, broadcasts to every client.

import { definePd, type Pd, type PdProgramDefinition } from "../../microkit/index.ts";
import { PeerComplaints, SddfError, ioRegion } from "../shared.ts";
import { NET_BUFFER_SIZE, NetQueueHandle, type NetQueueConfig } from "./queue.ts";

/** A net queue pair and the channel to the PD at its other end. */
export interface NetConnection extends NetQueueConfig {
  channel: number;
}

export interface NetVirtRxClient extends NetConnection {
  /** The MAC addresses this client receives, as "52:54:00:12:34:56". */
  macs: string[];
}

export interface NetVirtRxConfig {
  /** The queues to the driver: it takes free buffers (as I/O addresses) and returns received frames. */
  driver: NetConnection;
  /** setvar_vaddr of the virtualiser's map of the RX DMA region (driver.capacity buffers of 2 KiB). */
  data: string;
  /** Each client (usually its copier): frames are handed over as offsets into the RX DMA region. */
  clients: NetVirtRxClient[];
}

const BROADCAST = "ff:ff:ff:ff:ff:ff";

/** Parses "52:54:00:12:34:56" (or with dashes), in lower case. */
export function parseMac(text: string): string {
  const parts = text.trim().toLowerCase().split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-f]{1,2}$/.test(p))) {
    throw new SddfError(`'${text}' is not a MAC address (six hex bytes, as 52:54:00:12:34:56)`);
  }
  return parts.map((p) => p.padStart(2, "0")).join(":");
}

export const macString = (bytes: Uint8Array): string =>
  [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":");

/** A PD program: the net RX virtualiser. */
export function netVirtRx(config: NetVirtRxConfig): PdProgramDefinition {
  const macs = config.clients.map((c) => c.macs.map(parseMac));
  return definePd(() => {
    let driver: NetQueueHandle;
    let clients: NetQueueHandle[] = [];
    let dma: { vaddr: number; size: number; ioAddr: number };
    /** Which clients hold each RX buffer; empty: the driver has it. */
    let holders: Set<number>[] = [];
    let notifyDriver = false;
    const complaints = new PeerComplaints("VIRT_RX|LOG: ");

    /** Clients a frame goes to, by its destination MAC. */
    function route(pd: Pd, offset: number): number[] {
      const destination = macString(pd.memory.view(dma.vaddr + offset, 6));
      const owners = macs.flatMap((list, i) => (list.includes(destination) ? [i] : []));
      if (owners.length > 0) return owners.slice(0, 1);
      return destination === BROADCAST ? clients.map((_, i) => i) : [];
    }

    function returnToDriver(offset: number): void {
      driver.enqueueFree({ ioOrOffset: dma.ioAddr + offset, len: 0 });
      notifyDriver = true;
    }

    function rxReturn(pd: Pd): void {
      const notifyClients = new Set<number>();
      for (let reprocess = true; reprocess;) {
        for (let buffer = driver.dequeueActive(); buffer; buffer = driver.dequeueActive()) {
          const offset = buffer.ioOrOffset - dma.ioAddr;
          if (!(
            offset >= 0 &&
            offset % NET_BUFFER_SIZE === 0 &&
            offset < driver.capacity * NET_BUFFER_SIZE
          )) {
            complaints.report(
              pd,
              "the driver",
              `the driver returned a buffer at 0x${buffer.ioOrOffset.toString(16)}, which is not one of the RX buffers; dropped`,
            );
            continue;
          }
          if (buffer.len < 14 || buffer.len > NET_BUFFER_SIZE) {
            complaints.report(
              pd,
              "the driver",
              `the driver returned a frame of ${buffer.len} bytes; dropped`,
            );
            returnToDriver(offset);
            continue;
          }
          const index = offset / NET_BUFFER_SIZE;
          for (const i of route(pd, offset)) {
            if (clients[i]!.enqueueActive({ ioOrOffset: offset, len: buffer.len })) {
              holders[index]!.add(i);
              notifyClients.add(i);
            }
          }
          // Nobody wants it (or every receiver is full): straight back to the driver.
          if (holders[index]!.size === 0) returnToDriver(offset);
        }
        driver.requestSignal("active");
        reprocess = !driver.empty("active");
        if (reprocess) driver.cancelSignal("active");
      }
      for (const i of notifyClients)
        clients[i]!.signalIfRequired("active", () => pd.notify(config.clients[i]!.channel));
    }

    function rxProvide(pd: Pd): void {
      clients.forEach((client, i) => {
        const who = `client ${i}`;
        const violation = client.violation("free");
        if (violation) complaints.report(pd, who, `${who}: ${violation}`);
        for (let reprocess = true; reprocess;) {
          for (let buffer = client.dequeueFree(); buffer; buffer = client.dequeueFree()) {
            const offset = buffer.ioOrOffset;
            const index = offset / NET_BUFFER_SIZE;
            if (!(Number.isInteger(index) && index >= 0 && index < holders.length)) {
              complaints.report(
                pd,
                who,
                `${who} returned RX buffer offset 0x${offset.toString(16)}, which is not a buffer of the RX region; ignored`,
              );
              continue;
            }
            if (!holders[index]!.delete(i)) {
              complaints.report(
                pd,
                who,
                `${who} returned RX buffer offset 0x${offset.toString(16)}, which it does not hold; ignored`,
              );
              continue;
            }
            if (holders[index]!.size === 0) returnToDriver(offset);
          }
          client.requestSignal("free");
          reprocess = !client.empty("free");
          if (reprocess) client.cancelSignal("free");
        }
      });
      if (notifyDriver) {
        notifyDriver = false;
        driver.signalIfRequired("free", () => pd.deferredNotify(config.driver.channel));
      }
    }

    return {
      init(pd) {
        const component = "net RX virtualiser";
        driver = NetQueueHandle.fromPd(pd, config.driver, component);
        clients = config.clients.map((c) => NetQueueHandle.fromPd(pd, c, component));
        dma = ioRegion(pd, config.data, component);
        if (dma.size < driver.capacity * NET_BUFFER_SIZE) {
          throw new SddfError(
            `${component} '${pd.name}': the RX DMA region '${config.data}' is ${dma.size} bytes, too small for ${driver.capacity} buffers of ${NET_BUFFER_SIZE}`,
          );
        }
        holders = Array.from({ length: driver.capacity }, () => new Set<number>());
        driver.buffersInit(dma.ioAddr);
        driver.signalIfRequired("free", () => pd.deferredNotify(config.driver.channel));
      },

      notified(pd) {
        rxReturn(pd);
        rxProvide(pd);
      },
    };
  });
}
