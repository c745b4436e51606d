// The sDDF net driver for a virtio-net device on virtio-mmio (drivers/network/virtio): RX buffers from the RX virtualiser fill the device's receive queue, frames from the TX virtualiser go out on its transmit queue.

import { definePd, type Pd, type PdProgramDefinition } from "../../microkit/index.ts";
import {
  VIRTIO_NET_CONFIG_MAC,
  VIRTIO_NET_HDR_SIZE,
  VIRTIO_NET_RX_QUEUE,
  VIRTIO_NET_TX_QUEUE,
  VirtioDeviceId,
  VirtioInterrupt,
  VirtioNetFeature,
  featureBits,
} from "../../machine/devices/virtio/constants.ts";
import { PeerComplaints, ioRegion, setvarAddress } from "../shared.ts";
import { DriverVirtqueue, VirtioMmioDriverTransport, splitQueueLayout } from "../virtio/driver.ts";
import { NET_BUFFER_SIZE, NetQueueHandle } from "./queue.ts";
import { macString, type NetConnection } from "./virt-rx.ts";

export interface NetDriverVirtioConfig {
  /** setvar_vaddr of the PD's (uncached) map of the virtio-mmio registers. */
  regs: string;
  /** Where the device's window starts within that map (0xe00 for slot 31 in the page at 0xa003000). */
  regsOffset?: number;
  /** Channel id of the slot's `<irq>`. */
  irq: number;
  /** setvar_vaddr of the driver's own DMA region (a RAM region): both virtqueues and the virtio-net headers. */
  dma: string;
  /** The queues to the RX virtualiser (free buffers in, received frames out, as I/O addresses). */
  rx: NetConnection;
  /** The queues to the TX virtualiser (frames in, sent buffers back, as I/O addresses). */
  tx: NetConnection;
  /** Entries of each virtqueue (default 256, at most what the device allows). */
  queueSize?: number;
  /** Print the device's MAC address at start (default true). */
  log?: boolean;
}

/** Bytes a header slot takes in the DMA region (12 rounded up, so every header is 16-byte aligned). */
const HEADER_SLOT = 16;

/** One virtqueue with its header slots and the sDDF buffer each posted chain carries. */
interface Ring {
  vq: DriverVirtqueue;
  headersIo: number;
  headers: Uint8Array;
  freeSlots: number[];
  /** Head descriptor → the sDDF buffer (I/O address) and header slot of the chain. */
  posted: Map<number, { io: number; slot: number }>;
}

/** A PD program: the virtio-net driver. */
export function netDriverVirtio(config: NetDriverVirtioConfig): PdProgramDefinition {
  return definePd(() => {
    let device: VirtioMmioDriverTransport;
    let rx: NetQueueHandle;
    let tx: NetQueueHandle;
    let rxRing: Ring;
    let txRing: Ring;
    let running = false;
    /** RX buffers the device gave back unusable: posted again before new ones (the driver may not return them to the free queue, which the RX virtualiser produces). */
    const repost: number[] = [];
    const complaints = new PeerComplaints("VIRTIO NET DRIVER|ERROR: ");

    function ring(index: number, size: number, bytes: Uint8Array, io: number): Ring {
      const ringBytes = Math.ceil(splitQueueLayout(size).total / 16) * 16;
      const vq = new DriverVirtqueue(size, bytes.subarray(0, ringBytes), io);
      device.setupQueue(index, vq);
      return {
        vq,
        headersIo: io + ringBytes,
        headers: bytes.subarray(ringBytes, ringBytes + size * HEADER_SLOT),
        freeSlots: Array.from({ length: size }, (_, i) => size - 1 - i),
        posted: new Map(),
      };
    }

    function start(pd: Pd): string | undefined {
      const regs = setvarAddress(pd, config.regs, "virtio-net driver") + (config.regsOffset ?? 0);
      device = new VirtioMmioDriverTransport(pd, regs, `virtio-net at ${pd.name}'s 0x${regs.toString(16)}`);
      const features = device.negotiate(VirtioDeviceId.NET, featureBits(VirtioNetFeature.MAC), 0n);
      if (typeof features === "string") return features;
      const sizes = [VIRTIO_NET_RX_QUEUE, VIRTIO_NET_TX_QUEUE].map((q) => {
        const max = device.queueSizeMax(q);
        return max === 0 ? 0 : 2 ** Math.floor(Math.log2(Math.min(max, config.queueSize ?? 256)));
      });
      if (sizes.includes(0)) {
        device.fail();
        return "the device lacks its receive or transmit queue";
      }
      const dma = ioRegion(pd, config.dma, "virtio-net driver");
      const partBytes = sizes.map((s) => Math.ceil(splitQueueLayout(s).total / 16) * 16 + s * HEADER_SLOT);
      if (partBytes[0]! + partBytes[1]! > dma.size) {
        device.fail();
        return `the DMA region '${config.dma}' is ${dma.size} bytes; queues of ${sizes.join(" and ")} entries need ${partBytes[0]! + partBytes[1]!}`;
      }
      const bytes = pd.memory.view(dma.vaddr, dma.size);
      rxRing = ring(VIRTIO_NET_RX_QUEUE, sizes[0]!, bytes.subarray(0, partBytes[0]), dma.ioAddr);
      txRing = ring(
        VIRTIO_NET_TX_QUEUE,
        sizes[1]!,
        bytes.subarray(partBytes[0]!),
        dma.ioAddr + partBytes[0]!,
      );
      device.driverOk();
      if ((features >> BigInt(VirtioNetFeature.MAC)) & 1n && (config.log ?? true)) {
        const mac = Uint8Array.from({ length: 6 }, (_, i) => device.configRead8(VIRTIO_NET_CONFIG_MAC + i));
        pd.dbgPuts(`VIRTIO NET DRIVER|INFO: ${device.name}: MAC ${macString(mac)}\n`);
      }
      return undefined;
    }

    /** Posts the RX virtualiser's free buffers to the device's receive queue. */
    function rxProvide(): void {
      let posted = false;
      for (let reprocess = true; reprocess;) {
        while (rxRing.vq.freeDescriptors >= 2 && rxRing.freeSlots.length > 0) {
          const buffer = repost.length > 0 ? { ioOrOffset: repost.shift()! } : rx.dequeueFree();
          if (!buffer) break;
          const slot = rxRing.freeSlots.pop()!;
          const head = rxRing.vq.add([
            { addr: rxRing.headersIo + slot * HEADER_SLOT, len: VIRTIO_NET_HDR_SIZE, write: true },
            { addr: buffer.ioOrOffset, len: NET_BUFFER_SIZE, write: true },
          ])!;
          rxRing.posted.set(head, { io: buffer.ioOrOffset, slot });
          posted = true;
        }
        // Ask for a signal only if we could take more: with the device's queue full its interrupt wakes us.
        if (rxRing.vq.freeDescriptors < 2) break;
        rx.requestSignal("free");
        reprocess = !rx.empty("free");
        if (reprocess) rx.cancelSignal("free");
      }
      if (posted) device.notify(VIRTIO_NET_RX_QUEUE);
    }

    /** Hands received frames to the RX virtualiser. */
    function rxReturn(pd: Pd): void {
      let returned = false;
      for (const { head, len } of rxRing.vq.takeUsed((text) => complaints.report(pd, "the device", text))) {
        const chain = rxRing.posted.get(head)!;
        rxRing.posted.delete(head);
        rxRing.freeSlots.push(chain.slot);
        const frame = len - VIRTIO_NET_HDR_SIZE;
        if (frame <= 0 || frame > NET_BUFFER_SIZE) {
          complaints.report(
            pd,
            "the device",
            `the device returned a receive buffer with ${len} bytes written; the buffer is posted again`,
          );
          repost.push(chain.io);
          continue;
        }
        rx.enqueueActive({ ioOrOffset: chain.io, len: frame });
        returned = true;
      }
      if (returned) rx.signalIfRequired("active", () => pd.notify(config.rx.channel));
    }

    /** Sends the TX virtualiser's frames on the device's transmit queue. */
    function txProvide(pd: Pd): void {
      let posted = false;
      for (let reprocess = true; reprocess;) {
        while (txRing.vq.freeDescriptors >= 2 && txRing.freeSlots.length > 0) {
          const buffer = tx.dequeueActive();
          if (!buffer) break;
          if (buffer.len === 0 || buffer.len > NET_BUFFER_SIZE) {
            complaints.report(pd, "the TX virtualiser", `a frame of ${buffer.len} bytes was not sent`);
            tx.enqueueFree({ ioOrOffset: buffer.ioOrOffset, len: 0 });
            continue;
          }
          const slot = txRing.freeSlots.pop()!;
          // No offloads were negotiated: the header is all zeros (flags 0, GSO_NONE, num_buffers 0).
          txRing.headers.fill(0, slot * HEADER_SLOT, slot * HEADER_SLOT + VIRTIO_NET_HDR_SIZE);
          const head = txRing.vq.add([
            { addr: txRing.headersIo + slot * HEADER_SLOT, len: VIRTIO_NET_HDR_SIZE, write: false },
            { addr: buffer.ioOrOffset, len: buffer.len, write: false },
          ])!;
          txRing.posted.set(head, { io: buffer.ioOrOffset, slot });
          posted = true;
        }
        if (txRing.vq.freeDescriptors < 2) break;
        tx.requestSignal("active");
        reprocess = !tx.empty("active");
        if (reprocess) tx.cancelSignal("active");
      }
      if (posted) device.notify(VIRTIO_NET_TX_QUEUE);
    }

    /** Gives sent buffers back to the TX virtualiser. */
    function txReturn(pd: Pd): void {
      let returned = false;
      for (const { head } of txRing.vq.takeUsed((text) => complaints.report(pd, "the device", text))) {
        const chain = txRing.posted.get(head)!;
        txRing.posted.delete(head);
        txRing.freeSlots.push(chain.slot);
        tx.enqueueFree({ ioOrOffset: chain.io, len: 0 });
        returned = true;
      }
      if (returned) tx.signalIfRequired("free", () => pd.notify(config.tx.channel));
    }

    return {
      init(pd) {
        rx = NetQueueHandle.fromPd(pd, config.rx, "virtio-net driver");
        tx = NetQueueHandle.fromPd(pd, config.tx, "virtio-net driver");
        const failure = start(pd);
        if (failure) {
          pd.dbgPuts(`VIRTIO NET DRIVER|ERROR: ${device.name}: ${failure}\n`);
          return;
        }
        running = true;
        rxProvide();
        txProvide(pd);
      },

      notified(pd, channel) {
        if (channel === config.irq) {
          const status = running ? device.takeInterrupts() : 0;
          if (status & VirtioInterrupt.CONFIG_CHANGE && device.needsReset()) {
            complaints.report(
              pd,
              "the device",
              `${device.name}: the device needs a reset (it reported a driver error)`,
            );
          }
          pd.deferredIrqAck(channel);
        } else if (channel !== config.rx.channel && channel !== config.tx.channel) {
          pd.dbgPuts(`VIRTIO NET DRIVER|LOG: notification on unexpected channel ${channel}\n`);
          return;
        }
        if (!running) return;
        // Used buffers first: they free descriptors for what the virtualisers have waiting.
        rxReturn(pd);
        txReturn(pd);
        rxProvide();
        txProvide(pd);
      },
    };
  });
}
