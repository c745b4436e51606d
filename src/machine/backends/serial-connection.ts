// Connects a UART to a console: output bytes go straight out; input waits in a host-side
// queue and enters the receive FIFO one character at a time, paced in machine time, so the
// driver sees each arrival as real hardware would show it, nothing is dropped, and where in
// the guest's run each character lands does not depend on the host's speed.

import type { MachineClock } from "../clock.ts";
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

/**
 * Machine time between two typed characters: a typist at a thousand characters a second, not
 * the wire's 115200 baud. Text pasted or piped in arrives at this pace, so a driver that takes
 * one character per interrupt and hands it on through a one-character buffer (the Microkit
 * tutorial's serial server) has finished with each before the next comes. The line is quiet
 * between characters for far longer than a receive timeout's 32 bit periods.
 */
export const TYPED_CHARACTER_NS = 1_000_000;

export class SerialConnection {
  private readonly waiting: number[] = [];
  private deliveryScheduled = false;
  /** Machine time before which the next character does not arrive. */
  private nextArrivalNs = 0;

  constructor(
    private readonly port: SerialPort,
    private readonly console: Console,
    private readonly host: HostEventSink,
    private readonly clock: MachineClock,
  ) {}

  /** Starts forwarding console input; the connection counts as an open host source until input ends. */
  start(): void {
    const close = this.host.openSource();
    this.console.attachInput(
      (bytes) =>
        this.host.post(() => {
          this.waiting.push(...bytes);
          this.scheduleDelivery();
        }),
      () => this.host.post(close),
    );
  }

  /** UART output. */
  transmit(byte: number): void {
    this.console.write(Uint8Array.of(byte));
  }

  /** The UART's receive FIFO has room again, or its receive line went idle with data left in it. */
  receiveSpace(): void {
    this.scheduleDelivery();
  }

  /** Called from device accesses too: the delivery runs later, between threads, never inside one. */
  private scheduleDelivery(): void {
    if (this.deliveryScheduled) return;
    this.deliveryScheduled = true;
    this.clock.at(Math.max(this.clock.nowNs, this.nextArrivalNs), () => this.deliver());
  }

  private deliver(): void {
    this.deliveryScheduled = false;
    const arrives = this.waiting.length > 0 && this.port.receiveSpace > 0;
    if (arrives) {
      this.port.receive(this.waiting.shift()!);
      this.nextArrivalNs = this.clock.nowNs + TYPED_CHARACTER_NS;
    }
    // The line is quiet until the next character: what sits below the trigger level times out.
    this.port.receiveIdle();
    // With the FIFO full the next character waits for the driver's read (receiveSpace).
    if (arrives && this.waiting.length > 0) this.scheduleDelivery();
  }
}
