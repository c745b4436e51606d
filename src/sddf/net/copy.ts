// The sDDF net copier (network/components/copy.c): copies each received frame from the shared RX DMA region into one client's own buffers.

import { definePd, type Pd, type PdProgramDefinition } from "../../microkit/index.ts";
import { PeerComplaints, regionBytes } from "../shared.ts";
import { NET_BUFFER_SIZE, NetQueueHandle } from "./queue.ts";
import type { NetConnection } from "./virt-rx.ts";

export interface NetCopyConfig {
  /** The queues to the RX virtualiser (frames as offsets into the RX DMA region). */
  virt: NetConnection;
  /** setvar_vaddr of the copier's (read-only) map of the RX DMA region. */
  rxData: string;
  /** The queues to the client (frames as offsets into the client's RX data region). */
  client: NetConnection;
  /** setvar_vaddr of the copier's map of the client's RX data region. */
  clientData: string;
}

/**
 * A PD program: a copier, one per client, so that no client maps the RX DMA region every
 * client's frames pass through. It fills the client's RX free queue with the client's buffers
 * at start.
 */
export function netCopy(config: NetCopyConfig): PdProgramDefinition {
  return definePd(() => {
    let virt: NetQueueHandle;
    let client: NetQueueHandle;
    let rxData: Uint8Array;
    let clientData: Uint8Array;
    let clientBuffers = 0;
    const complaints = new PeerComplaints("COPY|LOG: ");

    function rxReturn(pd: Pd): void {
      let clientEnqueued = false;
      let virtEnqueued = false;
      for (let reprocess = true; reprocess;) {
        for (let frame = virt.dequeueActive(); frame; frame = virt.dequeueActive()) {
          virtEnqueued = true;
          if (frame.len > NET_BUFFER_SIZE || frame.ioOrOffset + frame.len > rxData.length) {
            complaints.report(
              pd,
              "the RX virtualiser",
              `frame at offset 0x${frame.ioOrOffset.toString(16)} (${frame.len} bytes) lies outside the RX region; dropped`,
            );
            virt.enqueueFree(frame);
            continue;
          }
          const target = takeClientBuffer(pd);
          if (target !== undefined) {
            clientData.set(rxData.subarray(frame.ioOrOffset, frame.ioOrOffset + frame.len), target);
            client.enqueueActive({ ioOrOffset: target, len: frame.len });
            clientEnqueued = true;
          }
          // Copied or not (the client has no free buffer: the frame is dropped), the RX buffer goes back.
          virt.enqueueFree(frame);
        }
        virt.requestSignal("active");
        reprocess = !virt.empty("active");
        if (reprocess) virt.cancelSignal("active");
      }
      if (clientEnqueued) client.signalIfRequired("active", () => pd.notify(config.client.channel));
      if (virtEnqueued) virt.signalIfRequired("free", () => pd.deferredNotify(config.virt.channel));
    }

    /** A valid free buffer of the client's, skipping (and reporting) bad offsets; undefined when none. */
    function takeClientBuffer(pd: Pd): number | undefined {
      for (let buffer = client.dequeueFree(); buffer; buffer = client.dequeueFree()) {
        const offset = buffer.ioOrOffset;
        if (offset % NET_BUFFER_SIZE === 0 && offset < clientBuffers * NET_BUFFER_SIZE) return offset;
        complaints.report(
          pd,
          "the client",
          `client provided offset 0x${offset.toString(16)}, which is not buffer aligned or is outside its ${clientBuffers} buffers; ignored`,
        );
      }
      return undefined;
    }

    return {
      init(pd) {
        const component = "net copier";
        virt = NetQueueHandle.fromPd(pd, config.virt, component);
        client = NetQueueHandle.fromPd(pd, config.client, component);
        rxData = regionBytes(pd, config.rxData, component);
        clientData = regionBytes(pd, config.clientData, component);
        clientBuffers = Math.min(client.capacity, Math.floor(clientData.length / NET_BUFFER_SIZE));
        for (let i = 0; i < clientBuffers; i++)
          client.enqueueFree({ ioOrOffset: i * NET_BUFFER_SIZE, len: 0 });
      },

      notified(pd) {
        rxReturn(pd);
      },
    };
  });
}
