// The ARM PrimeCell UART (PL011), as QEMU's virt machine has it: registers, a receive FIFO
// (one entry with FIFOs disabled, 16 with LCR_H.FEN set), the RX and RX-timeout interrupts,
// and transmission that completes at once into a console back-end.

import { Registers32, type IrqLine } from "./mmio.ts";

export const Pl011Reg = {
  DR: 0x000,
  RSR_ECR: 0x004,
  FR: 0x018,
  ILPR: 0x020,
  IBRD: 0x024,
  FBRD: 0x028,
  LCR_H: 0x02c,
  CR: 0x030,
  IFLS: 0x034,
  IMSC: 0x038,
  RIS: 0x03c,
  MIS: 0x040,
  ICR: 0x044,
  DMACR: 0x048,
} as const;

export const Pl011Flag = { BUSY: 1 << 3, RXFE: 1 << 4, TXFF: 1 << 5, RXFF: 1 << 6, TXFE: 1 << 7 } as const;
export const Pl011Int = { RX: 1 << 4, TX: 1 << 5, RT: 1 << 6 } as const;

const LCR_H_FEN = 1 << 4;
const FIFO_DEPTH = 16;
const INT_MASK = 0x7ff;
// PeriphID0-3 then PCellID0-3 (0xfe0..0xffc): a PL011 r1p4 PrimeCell, as QEMU reports.
const ID_REGISTERS = [0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1];
/** RXIFLSEL encodings 0..4: 1/8, 1/4, 1/2, 3/4, 7/8 of the FIFO. */
const RX_TRIGGER_EIGHTHS = [1, 2, 4, 6, 7];

export interface Pl011Options {
  irq: IrqLine;
  /** Receives every transmitted byte. */
  transmit: (byte: number) => void;
  /** A read made room in the receive FIFO, or the driver cleared a receive timeout with data left: the back-end may send more, and signals when the line is idle again. */
  onReceiveSpace?: () => void;
}

export class Pl011 extends Registers32 {
  readonly name = "pl011";
  private readonly rxFifo: number[] = [];
  private ibrd = 0;
  private fbrd = 0;
  private lcrH = 0;
  private cr = 0x300;
  private ifls = 0x12;
  private imsc = 0;
  private ris = 0;
  private dmacr = 0;
  private ilpr = 0;
  private lineHigh = false;

  constructor(private readonly options: Pl011Options) {
    super();
  }

  /** Free entries in the receive FIFO. */
  get receiveSpace(): number {
    return this.depth - this.rxFifo.length;
  }

  /** A byte arrives on the RX line; false (and dropped) if the FIFO is full. */
  receive(byte: number): boolean {
    if (this.rxFifo.length >= this.depth) return false;
    this.rxFifo.push(byte & 0xff);
    if (this.rxFifo.length >= this.rxTriggerLevel) this.ris |= Pl011Int.RX;
    this.update();
    return true;
  }

  /** The RX line has gone quiet: data waiting below the trigger level raises the timeout interrupt. */
  receiveIdle(): void {
    if (this.rxFifo.length > 0) {
      this.ris |= Pl011Int.RT;
      this.update();
    }
  }

  protected readRegister(offset: number): number {
    switch (offset) {
      case Pl011Reg.DR:
        return this.readData();
      case Pl011Reg.RSR_ECR:
        return 0;
      case Pl011Reg.FR:
        return this.flags();
      case Pl011Reg.ILPR:
        return this.ilpr;
      case Pl011Reg.IBRD:
        return this.ibrd;
      case Pl011Reg.FBRD:
        return this.fbrd;
      case Pl011Reg.LCR_H:
        return this.lcrH;
      case Pl011Reg.CR:
        return this.cr;
      case Pl011Reg.IFLS:
        return this.ifls;
      case Pl011Reg.IMSC:
        return this.imsc;
      case Pl011Reg.RIS:
        return this.ris;
      case Pl011Reg.MIS:
        return this.ris & this.imsc;
      case Pl011Reg.DMACR:
        return this.dmacr;
      default:
        if (offset >= 0xfe0 && offset <= 0xffc && offset % 4 === 0)
          return ID_REGISTERS[(offset - 0xfe0) / 4]!;
        return 0;
    }
  }

  protected writeRegister(offset: number, value: number): void {
    switch (offset) {
      case Pl011Reg.DR:
        this.options.transmit(value & 0xff);
        // Transmission completes at once: the TX FIFO is empty again.
        this.ris |= Pl011Int.TX;
        break;
      case Pl011Reg.RSR_ECR:
        break;
      case Pl011Reg.ILPR:
        this.ilpr = value & 0xff;
        break;
      case Pl011Reg.IBRD:
        this.ibrd = value & 0xffff;
        break;
      case Pl011Reg.FBRD:
        this.fbrd = value & 0x3f;
        break;
      case Pl011Reg.LCR_H:
        this.writeLineControl(value & 0xff);
        break;
      case Pl011Reg.CR:
        this.cr = value & 0xffff;
        break;
      case Pl011Reg.IFLS:
        this.ifls = value & 0x3f;
        break;
      case Pl011Reg.IMSC:
        this.imsc = value & INT_MASK;
        break;
      case Pl011Reg.ICR:
        this.ris &= ~value;
        // Data still waiting on an idle line times out again (the receive-timeout counter runs
        // while the FIFO is not empty): a driver that reads one character per interrupt and
        // clears them all still gets the rest.
        if (value & Pl011Int.RT && this.rxFifo.length > 0) this.options.onReceiveSpace?.();
        break;
      case Pl011Reg.DMACR:
        this.dmacr = value & 7;
        break;
      default:
        return;
    }
    this.update();
  }

  private get depth(): number {
    return this.lcrH & LCR_H_FEN ? FIFO_DEPTH : 1;
  }

  private get rxTriggerLevel(): number {
    if (!(this.lcrH & LCR_H_FEN)) return 1;
    const eighths = RX_TRIGGER_EIGHTHS[(this.ifls >> 3) & 7] ?? 4;
    return (FIFO_DEPTH * eighths) / 8;
  }

  private readData(): number {
    const byte = this.rxFifo.shift();
    if (byte === undefined) return 0;
    if (this.rxFifo.length < this.rxTriggerLevel) this.ris &= ~Pl011Int.RX;
    if (this.rxFifo.length === 0) this.ris &= ~Pl011Int.RT;
    this.update();
    this.options.onReceiveSpace?.();
    return byte;
  }

  private flags(): number {
    let fr = Pl011Flag.TXFE;
    if (this.rxFifo.length === 0) fr |= Pl011Flag.RXFE;
    if (this.rxFifo.length >= this.depth) fr |= Pl011Flag.RXFF;
    return fr;
  }

  private writeLineControl(value: number): void {
    // With the FIFOs disabled only the one-entry holding register remains.
    this.lcrH = value;
    if (this.rxFifo.length > this.depth) this.rxFifo.length = this.depth;
  }

  private update(): void {
    const high = (this.ris & this.imsc) !== 0;
    if (high !== this.lineHigh) {
      this.lineHigh = high;
      this.options.irq.set(high);
    }
  }
}
