// The Amlogic Meson UART (the Odroid-C4's S905X3 UART_AO), as Linux's `meson_uart` driver drives it:
// the write and read FIFOs (64 entries each), the control, status, interrupt-threshold and baud
// registers. Its interrupt is an event, not a level: the line pulses when a received byte brings the
// read FIFO up to the RECV_IRQ count, and when the write FIFO drains below the XMIT_IRQ count (the
// Odroid-C4's device tree and libvmm's system file make it edge-triggered). Bytes written while the
// transmitter is enabled go out at once into the console back-end; while it is disabled they wait in
// the FIFO. Register map: the S905X3 datasheet's UART section (shared/reference/boards.md, B.4).

import { Registers32, type IrqLine } from "./mmio.ts";

export const MesonUartReg = {
  WFIFO: 0x00,
  RFIFO: 0x04,
  CONTROL: 0x08,
  STATUS: 0x0c,
  MISC: 0x10,
  REG5: 0x14,
} as const;

export const MesonControl = {
  TX_EN: 1 << 12,
  RX_EN: 1 << 13,
  TWO_WIRE_EN: 1 << 15,
  TX_RST: 1 << 22,
  RX_RST: 1 << 23,
  CLEAR_ERR: 1 << 24,
  RX_INT_EN: 1 << 27,
  TX_INT_EN: 1 << 28,
} as const;

export const MesonStatus = {
  PARITY_ERR: 1 << 16,
  FRAME_ERR: 1 << 17,
  TX_FIFO_WERR: 1 << 18,
  RX_FULL: 1 << 19,
  RX_EMPTY: 1 << 20,
  TX_FULL: 1 << 21,
  TX_EMPTY: 1 << 22,
  XMIT_BUSY: 1 << 25,
} as const;

export const MESON_UART_FIFO_DEPTH = 64;

/**
 * As the Odroid-C4's boot firmware leaves its console UART: transmitter and receiver on, two-wire
 * (no flow control), 115200 baud from the 24 MHz crystal (REG5 = BAUD_XTAL | BAUD_USE | 68).
 */
const FIRMWARE_CONTROL = MesonControl.TX_EN | MesonControl.RX_EN | MesonControl.TWO_WIRE_EN;
const FIRMWARE_REG5 = (1 << 24) | (1 << 23) | 68;

export interface MesonUartOptions {
  /** The UART's interrupt output, pulsed for each event (UART_AO is INTID 225, edge-rising, on the S905X3). */
  irq: IrqLine;
  /** Receives every byte the transmitter sends. */
  transmit: (byte: number) => void;
  /** The read FIFO has room again: the back-end may send more. */
  onReceiveSpace?: () => void;
}

export class MesonUart extends Registers32 {
  readonly name = "meson-uart";
  private readonly rxFifo: number[] = [];
  private readonly txFifo: number[] = [];
  private control: number = FIRMWARE_CONTROL;
  private misc = 0;
  private reg5: number = FIRMWARE_REG5;
  private errors = 0;
  /** Interrupt pulses sent, for tests and traces. */
  pulses = 0;

  constructor(private readonly options: MesonUartOptions) {
    super();
  }

  /** Free entries in the read FIFO; none while the receiver is off or held in reset. */
  get receiveSpace(): number {
    if (!(this.control & MesonControl.RX_EN) || this.control & MesonControl.RX_RST) return 0;
    return MESON_UART_FIFO_DEPTH - this.rxFifo.length;
  }

  /** A byte arrives on the RX line; false (and dropped) if the receiver cannot take it. */
  receive(byte: number): boolean {
    if (this.receiveSpace === 0) return false;
    this.rxFifo.push(byte & 0xff);
    if (this.control & MesonControl.RX_INT_EN && this.rxFifo.length >= this.recvThreshold) this.pulse();
    return true;
  }

  /** The Meson UART has no receive timeout: Linux asks for an interrupt per byte (RECV_IRQ = 1). */
  receiveIdle(): void {}

  protected readRegister(offset: number): number {
    switch (offset) {
      case MesonUartReg.RFIFO:
        return this.readData();
      case MesonUartReg.CONTROL:
        return this.control;
      case MesonUartReg.STATUS:
        return this.status();
      case MesonUartReg.MISC:
        return this.misc;
      case MesonUartReg.REG5:
        return this.reg5;
      default:
        return 0; // WFIFO is write-only
    }
  }

  protected writeRegister(offset: number, value: number): void {
    switch (offset) {
      case MesonUartReg.WFIFO:
        this.writeData(value & 0xff);
        return;
      case MesonUartReg.CONTROL:
        this.writeControl(value >>> 0);
        return;
      case MesonUartReg.MISC:
        this.misc = value & 0xffff;
        return;
      case MesonUartReg.REG5:
        this.reg5 = value & 0x0fff_ffff;
        return;
      default:
        return; // RFIFO and STATUS are read-only
    }
  }

  private get recvThreshold(): number {
    return Math.max(1, this.misc & 0xff);
  }

  private get xmitThreshold(): number {
    return (this.misc >> 8) & 0xff;
  }

  private writeData(byte: number): void {
    if (this.control & MesonControl.TX_RST) return;
    if (this.txFifo.length >= MESON_UART_FIFO_DEPTH) {
      this.errors |= MesonStatus.TX_FIFO_WERR;
      return;
    }
    this.txFifo.push(byte);
    this.drainTransmitter();
  }

  /** Sends everything waiting while the transmitter is on; pulses if that took the FIFO below XMIT_IRQ. */
  private drainTransmitter(): void {
    if (!(this.control & MesonControl.TX_EN) || this.txFifo.length === 0) return;
    const before = this.txFifo.length;
    while (this.txFifo.length > 0) this.options.transmit(this.txFifo.shift()!);
    if (this.control & MesonControl.TX_INT_EN && before >= this.xmitThreshold && this.xmitThreshold > 0)
      this.pulse();
  }

  private readData(): number {
    const byte = this.rxFifo.shift();
    if (byte === undefined) return 0;
    this.options.onReceiveSpace?.();
    return byte;
  }

  private writeControl(value: number): void {
    const before = this.control;
    const couldReceive = this.receiveSpace > 0;
    this.control = value;
    if (value & MesonControl.TX_RST) this.txFifo.length = 0;
    if (value & MesonControl.RX_RST) this.rxFifo.length = 0;
    // CLEAR_ERR does not clear itself: the errors stay clear while it is set.
    if (value & MesonControl.CLEAR_ERR) this.errors = 0;
    this.drainTransmitter();
    if (!couldReceive && this.receiveSpace > 0) this.options.onReceiveSpace?.();
    // Enabling the receive interrupt with enough data already waiting raises it, so none is missed.
    const rxEnabled = ~before & value & MesonControl.RX_INT_EN;
    if (rxEnabled && this.rxFifo.length >= this.recvThreshold) this.pulse();
  }

  private status(): number {
    let status = this.errors | (this.rxFifo.length & 0x7f) | ((this.txFifo.length & 0x7f) << 8);
    if (this.rxFifo.length === 0) status |= MesonStatus.RX_EMPTY;
    if (this.rxFifo.length >= MESON_UART_FIFO_DEPTH) status |= MesonStatus.RX_FULL;
    if (this.txFifo.length === 0) status |= MesonStatus.TX_EMPTY;
    if (this.txFifo.length >= MESON_UART_FIFO_DEPTH) status |= MesonStatus.TX_FULL;
    return status;
  }

  private pulse(): void {
    this.pulses++;
    this.options.irq.set(true);
    this.options.irq.set(false);
  }
}
