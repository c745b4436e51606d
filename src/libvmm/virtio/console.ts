// The guest's virtio console (hvc0) as an sDDF serial client, as libvmm's virtio console: what the guest
// writes goes into the client's TX queue to the serial TX virtualiser, and input the RX virtualiser puts
// in the client's RX queue fills the guest's receive buffers. Flow control both ways: output waits while
// the TX queue is full (the virtualiser signals when it drained), input stays in the RX queue until the
// guest posts buffers.

import { VirtioConsole, type ConsolePort } from "../../machine/devices/virtio/console.ts";
import type { SerialQueueHandle } from "../../sddf/serial/queue.ts";
import type { VirtioVmm } from "./mmio.ts";
import { addVirtioDevice, type VirtioPlacement } from "./device.ts";

export type VirtioConsoleOptions = VirtioPlacement & {
  /** The client's RX queue: bytes from the serial RX virtualiser (the VMM consumes). */
  rx: SerialQueueHandle;
  /** The client's TX queue: bytes to the serial TX virtualiser (the VMM produces). */
  tx: SerialQueueHandle;
  /** The channel to the RX virtualiser (it notifies when input arrives; the VMM notifies when it made room). */
  rxChannel: number;
  /** The channel to the TX virtualiser. */
  txChannel: number;
  /** microkit_notify. */
  notify(channel: number): void;
  /** QueueNumMax of the device's queues (default 128). */
  queueSize?: number;
};

/** A virtio console wired to sDDF serial queues. */
export interface VmmVirtioConsole {
  readonly device: VirtioConsole;
  /** For the VMM's `notified(ch)`: true when the channel was one of the console's (now handled). */
  handleNotification(channel: number): boolean;
}

/** Creates the console at `options.base` with its SPI and connects it to the client's serial queues. */
export function virtioConsole(host: VirtioVmm, options: VirtioConsoleOptions): VmmVirtioConsole {
  const { rx, tx, rxChannel, txChannel, notify } = options;
  if (rxChannel === txChannel)
    throw new Error(`virtio console: RX and TX need their own channels, not both ${rxChannel}`);
  /** Input taken from the RX queue that the guest had no room for yet (at most one queue's worth). */
  let held: Uint8Array = new Uint8Array(0);

  const port: ConsolePort = {
    transmit(bytes) {
      let n = tx.enqueueBatch(bytes);
      if (n < bytes.length) {
        // Full: ask the virtualiser to signal when it has drained, then look once more (the protocol's re-check).
        tx.requestSignal();
        n += tx.enqueueBatch(bytes.subarray(n));
      }
      if (n > 0) notify(txChannel);
      return n;
    },
    receiveSpace() {
      deliver();
    },
  };

  const device = addVirtioDevice(
    host,
    "virtio-console",
    options,
    (wiring) => new VirtioConsole({ ...wiring, port, queueSize: options.queueSize }),
  );

  function deliver(): void {
    let dequeued = false;
    for (;;) {
      if (held.length === 0) {
        held = rx.dequeueBatch();
        if (held.length === 0) break;
        dequeued = true;
      }
      const taken = device.receive(held);
      held = held.subarray(taken);
      if (held.length > 0) break; // the guest has no more buffers: the rest waits for receiveSpace
    }
    // The RX virtualiser may be waiting for room in the queue.
    if (dequeued) rx.signalIfRequired(() => notify(rxChannel));
  }

  return {
    device,
    handleNotification(channel) {
      if (channel === rxChannel) {
        deliver();
        return true;
      }
      if (channel === txChannel) {
        device.transmitSpace();
        return true;
      }
      return false;
    },
  };
}
