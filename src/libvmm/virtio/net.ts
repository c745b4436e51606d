// The guest's virtio-net NIC as an sDDF net client, as libvmm's virtio net: frames the guest sends are
// copied into free 2 KiB buffers of the client's TX data region and handed to the TX virtualiser; frames
// the RX virtualiser (through the client's copier) puts in the client's RX queue are copied to the guest
// and their buffers returned. The device model is the board's virtio-net (src/machine/devices/virtio/net.ts).

import type { EthernetWire } from "../../machine/devices/ethernet.ts";
import { VirtioNet } from "../../machine/devices/virtio/net.ts";
import { NET_BUFFER_SIZE, type NetQueueHandle } from "../../sddf/net/queue.ts";
import type { VirtioVmm } from "./mmio.ts";
import { addVirtioDevice, virtioDeviceName, type VirtioPlacement } from "./device.ts";

export type VirtioNetOptions = VirtioPlacement & {
  /** The NIC's MAC address (6 bytes or "52:54:01:00:00:10"); the RX virtualiser routes frames by it. */
  mac: Uint8Array | string;
  /** The client's RX queues: the VMM produces `free` buffers and consumes `active` (received) ones. */
  rx: NetQueueHandle;
  /** The client's RX data region: the buffers RX descriptors' offsets point into. */
  rxData: Uint8Array;
  /** The client's TX queues: the VMM consumes `free` buffers and produces `active` (to send) ones. */
  tx: NetQueueHandle;
  /** The client's TX data region. */
  txData: Uint8Array;
  /** The channel to the RX virtualiser (or the client's copier). */
  rxChannel: number;
  /** The channel to the TX virtualiser. */
  txChannel: number;
  /** microkit_notify. */
  notify(channel: number): void;
  /**
   * Put every buffer of each data region in its free queue at start, as an sDDF client does at init
   * (default true; the regions must hold `capacity` buffers of 2 KiB).
   */
  initBuffers?: boolean;
  /** Frames the guest sent while no TX buffer was free, held until one is; more are dropped (default 256). */
  txHoldLimit?: number;
};

export interface VmmVirtioNetStats {
  /** Frames handed to the TX virtualiser, and frames from the RX queue given to the device. */
  txFrames: number;
  rxFrames: number;
  /** Frames dropped: the guest sent more than txHoldLimit frames while no TX buffer was free. */
  txDropped: number;
  /** Frames longer than a 2 KiB buffer (they cannot be sent through sDDF). */
  txTooLong: number;
  /** Empty frames (a chain of only the virtio-net header): an sDDF buffer holds 1 to 2048 bytes. */
  txEmpty: number;
  /** Descriptors from the virtualiser that point outside the data region or claim too long a frame. */
  badDescriptors: number;
}

/** A virtio-net NIC wired to sDDF net queues. */
export interface VmmVirtioNet {
  readonly device: VirtioNet;
  readonly stats: VmmVirtioNetStats;
  /** For the VMM's `notified(ch)`: true when the channel was one of the NIC's (now handled). */
  handleNotification(channel: number): boolean;
}

/** Reports of bad descriptors after which they are only counted. */
const REPORT_LIMIT = 8;

export function virtioNet(host: VirtioVmm, options: VirtioNetOptions): VmmVirtioNet {
  const { rx, tx, rxData, txData, rxChannel, txChannel, notify } = options;
  if (rxChannel === txChannel)
    throw new Error(`virtio net: RX and TX need their own channels, not both ${rxChannel}`);
  for (const [what, queue, data] of [
    ["RX", rx, rxData],
    ["TX", tx, txData],
  ] as const) {
    if (data.length < queue.capacity * NET_BUFFER_SIZE) {
      throw new Error(
        `virtio net: the ${what} data region is ${data.length} bytes, too small for ${queue.capacity} buffers of ${NET_BUFFER_SIZE}; make it ${queue.capacity * NET_BUFFER_SIZE} bytes`,
      );
    }
  }
  const stats: VmmVirtioNetStats = {
    txFrames: 0,
    rxFrames: 0,
    txDropped: 0,
    txTooLong: 0,
    txEmpty: 0,
    badDescriptors: 0,
  };
  const txHoldLimit = options.txHoldLimit ?? 256;
  const held: Uint8Array[] = [];
  let receive: ((frame: Uint8Array) => void) | undefined;
  let reports = 0;
  const report = (message: string) => {
    stats.badDescriptors++;
    if (reports++ < REPORT_LIMIT)
      host.log.error(message + (reports === REPORT_LIMIT ? " (further ones are only counted)" : ""));
  };

  const wire: EthernetWire = {
    connect(r) {
      receive = r;
    },
    transmit(frame) {
      if (frame.length > NET_BUFFER_SIZE) {
        stats.txTooLong++;
        return;
      }
      if (frame.length === 0) {
        stats.txEmpty++;
        return;
      }
      if (held.length >= txHoldLimit) {
        stats.txDropped++;
        return;
      }
      held.push(Uint8Array.from(frame));
      send();
    },
  };

  const name = virtioDeviceName(host, "virtio-net", options);
  const device = addVirtioDevice(
    host,
    "virtio-net",
    options,
    (wiring) => new VirtioNet({ ...wiring, wire, mac: options.mac }),
  );

  /** Copies held frames into free TX buffers and hands them to the TX virtualiser. */
  function send(): void {
    let sent = 0;
    while (held.length > 0) {
      let buffer = tx.dequeueFree();
      if (!buffer) {
        // Out of buffers: ask to be told when the virtualiser returns some, then look again.
        tx.requestSignal("free");
        buffer = tx.dequeueFree();
        if (!buffer) break;
      }
      const offset = buffer.ioOrOffset;
      if (!Number.isSafeInteger(offset) || offset < 0 || offset + NET_BUFFER_SIZE > txData.length) {
        report(
          `${name}: the TX virtualiser returned a buffer at offset ${offset}, outside the ${txData.length}-byte TX data region; it is not used`,
        );
        continue;
      }
      const frame = held.shift()!;
      txData.set(frame, offset);
      tx.enqueueActive({ ioOrOffset: offset, len: frame.length });
      stats.txFrames++;
      sent++;
    }
    if (sent > 0) tx.signalIfRequired("active", () => notify(txChannel));
  }

  /** Gives every received frame to the device and returns the buffers. */
  function deliver(): void {
    let returned = 0;
    for (;;) {
      const desc = rx.dequeueActive();
      if (!desc) {
        rx.requestSignal("active");
        if (rx.empty("active")) break;
        continue;
      }
      const { ioOrOffset: offset, len } = desc;
      if (!Number.isSafeInteger(offset) || offset < 0 || offset + NET_BUFFER_SIZE > rxData.length) {
        report(
          `${name}: the RX virtualiser gave a buffer at offset ${offset}, outside the ${rxData.length}-byte RX data region; the buffer is dropped`,
        );
        continue;
      }
      if (len > NET_BUFFER_SIZE) {
        report(
          `${name}: the RX virtualiser gave a ${len}-byte frame, longer than a ${NET_BUFFER_SIZE}-byte buffer; the frame is dropped`,
        );
      } else if (len > 0) {
        stats.rxFrames++;
        // The device copies the frame (into guest buffers or its own queue) before returning.
        receive?.(rxData.subarray(offset, offset + len));
      }
      rx.enqueueFree({ ioOrOffset: offset, len: 0 });
      returned++;
    }
    if (returned > 0) rx.signalIfRequired("free", () => notify(rxChannel));
  }

  if (options.initBuffers ?? true) {
    rx.buffersInit();
    tx.buffersInit();
  }

  return {
    device,
    stats,
    handleNotification(channel) {
      if (channel === rxChannel) {
        deliver();
        return true;
      }
      if (channel === txChannel) {
        send();
        return true;
      }
      return false;
    },
  };
}
