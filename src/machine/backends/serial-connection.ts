// Connects a UART to a console: output bytes go straight out; input waits in a host-side
// queue and enters the receive FIFO only as space frees up, one host event at a time, so
// the driver sees each arrival as real hardware would show it and nothing is dropped.

import type { Console } from "../devices/console.ts";

/** The host event loop, as a device back-end sees it. */
export interface HostEventSink {
  post(event: () => void): void;
  /** Registers an input source; call the result when it closes. */
  openSource(): () => void;
}

export interface SerialPort {
  readonly receiveSpace: number;
  receive(byte: number): boolean;
  receiveIdle(): void;
}

export class SerialConnection {
  private readonly waiting: number[] = [];
  private deliveryPosted = false;

  constructor(
    private readonly port: SerialPort,
    private readonly console: Console,
    private readonly host: HostEventSink,
  ) {}

  /** Starts forwarding console input; the connection counts as an open host source until input ends. */
  start(): void {
    const close = this.host.openSource();
    this.console.attachInput(
      (bytes) => {
        this.waiting.push(...bytes);
        this.postDelivery();
      },
      () => this.host.post(close),
    );
  }

  /** UART output. */
  transmit(byte: number): void {
    this.console.write(Uint8Array.of(byte));
  }

  /** The UART's receive FIFO has room again, or its receive line went idle with data left in it. */
  receiveSpace(): void {
    this.postDelivery();
  }

  private postDelivery(): void {
    if (this.deliveryPosted) return;
    this.deliveryPosted = true;
    this.host.post(() => this.deliver());
  }

  private deliver(): void {
    this.deliveryPosted = false;
    while (this.waiting.length > 0 && this.port.receiveSpace > 0) {
      this.port.receive(this.waiting.shift()!);
    }
    if (this.waiting.length === 0) this.port.receiveIdle();
  }
}
