// The NXP i.MX UART (i.MX6 to i.MX8M: the MaaXBoard's UART1), as Linux's `imx` serial driver and its
// `ec_imx6q` earlycon drive it: the control, FIFO and status registers, 32-entry receive and transmit
// FIFOs, the interrupt sources Linux enables (receive ready, ageing timer, transmitter ready,
// transmission complete, overrun, ...) on one level-sensitive line, soft reset, and loopback.
// Transmission completes at once into the console back-end whenever the transmitter is enabled.
// Register map: the i.MX8M reference manuals' UART chapter (shared/reference/boards.md, A.5).

import { Registers32, type IrqLine } from "./mmio.ts";

export const ImxUartReg = {
  URXD: 0x00,
  UTXD: 0x40,
  UCR1: 0x80,
  UCR2: 0x84,
  UCR3: 0x88,
  UCR4: 0x8c,
  UFCR: 0x90,
  USR1: 0x94,
  USR2: 0x98,
  UESC: 0x9c,
  UTIM: 0xa0,
  UBIR: 0xa4,
  UBMR: 0xa8,
  UBRC: 0xac,
  ONEMS: 0xb0,
  UTS: 0xb4,
} as const;

export const URXD_CHARRDY = 1 << 15;

export const Ucr1 = {
  UARTEN: 1 << 0,
  TXMPTYEN: 1 << 6,
  RTSDEN: 1 << 5,
  RRDYEN: 1 << 9,
  TRDYEN: 1 << 13,
} as const;
export const Ucr2 = {
  SRST: 1 << 0,
  RXEN: 1 << 1,
  TXEN: 1 << 2,
  ATEN: 1 << 3,
  WS: 1 << 5,
  IRTS: 1 << 14,
} as const;
export const Ucr3 = { RXDMUXSEL: 1 << 2, AWAKEN: 1 << 4, DTRDEN: 1 << 13 } as const;
export const Ucr4 = { DREN: 1 << 0, OREN: 1 << 1, BKEN: 1 << 2, TCEN: 1 << 3, WKEN: 1 << 7 } as const;
export const Usr1 = {
  AWAKE: 1 << 4,
  RXDS: 1 << 6,
  DTRD: 1 << 7,
  AGTIM: 1 << 8,
  RRDY: 1 << 9,
  RTSD: 1 << 12,
  TRDY: 1 << 13,
  RTSS: 1 << 14,
} as const;
export const Usr2 = {
  RDR: 1 << 0,
  ORE: 1 << 1,
  BRCD: 1 << 2,
  TXDC: 1 << 3,
  WAKE: 1 << 7,
  TXFE: 1 << 14,
} as const;
export const Uts = {
  TXFULL: 1 << 4,
  RXEMPTY: 1 << 5,
  TXEMPTY: 1 << 6,
  RXFULL: 1 << 3,
  LOOP: 1 << 12,
} as const;

export const IMX_UART_FIFO_DEPTH = 32;

/** USR1 and USR2 bits that latch an event and are cleared by writing 1 (the rest are live status). */
const USR1_EVENTS = 0x9db0; // PARITYERR, RTSD, ESCF, FRAMERR, AGTIM, DTRD, AIRINT, AWAKE
const USR2_EVENTS = 0xb596; // ADET, DTRF, IDLE, RIDELT, IRINT, WAKE, RTSF, BRCD, ORE
/** UTS bits software controls: FRCPERR, LOOP, DBGEN, LOOPIR, RXDBG. */
const UTS_CONTROL = 0x3e00;
const UFCR_RXTL = 0x3f;
const UFCR_TXTL_SHIFT = 10;

/**
 * Reset values as the MaaXBoard's boot firmware leaves its console UART: enabled, 8N1, transmitter and
 * receiver on, 115200 baud from the 25 MHz clock divided by 2 (UBIR 15, UBMR 108), RX trigger 1, TX 2.
 */
const FIRMWARE_STATE = {
  ucr1: Ucr1.UARTEN,
  ucr2: Ucr2.SRST | Ucr2.RXEN | Ucr2.TXEN | Ucr2.WS | Ucr2.IRTS,
  ucr3: 0x0700 | Ucr3.RXDMUXSEL,
  ucr4: 0x8000,
  ufcr: (2 << UFCR_TXTL_SHIFT) | (4 << 7) | 1,
  ubir: 0xf,
  ubmr: 108,
  onems: 12_500,
} as const;

export interface ImxUartOptions {
  /** The UART's interrupt output, level-sensitive (UART1 is INTID 58 on the i.MX8MQ). */
  irq: IrqLine;
  /** Receives every byte the transmitter sends. */
  transmit: (byte: number) => void;
  /** The receive FIFO has room again, or the ageing timer was cleared with data left: the back-end may send more. */
  onReceiveSpace?: () => void;
}

export class ImxUart extends Registers32 {
  readonly name = "imx-uart";
  private readonly rxFifo: number[] = [];
  /** Bytes written while the transmitter is off; they go out when it is enabled. */
  private readonly txFifo: number[] = [];
  private ucr1: number = FIRMWARE_STATE.ucr1;
  private ucr2: number = FIRMWARE_STATE.ucr2;
  private ucr3: number = FIRMWARE_STATE.ucr3;
  private ucr4: number = FIRMWARE_STATE.ucr4;
  private ufcr: number = FIRMWARE_STATE.ufcr;
  private usr1Events = 0;
  private usr2Events = 0;
  private uesc = 0x2b;
  private utim = 0;
  private ubir: number = FIRMWARE_STATE.ubir;
  private ubmr: number = FIRMWARE_STATE.ubmr;
  private onems: number = FIRMWARE_STATE.onems;
  private utsControl = 0;
  private lineHigh = false;

  constructor(private readonly options: ImxUartOptions) {
    super();
  }

  /** Free entries in the receive FIFO; none while the receiver is off, so arriving bytes wait on the line. */
  get receiveSpace(): number {
    if (!this.receiverOn || this.looped) return 0;
    return IMX_UART_FIFO_DEPTH - this.rxFifo.length;
  }

  /** A byte arrives on the RX line; false (and dropped) if the receiver cannot take it. */
  receive(byte: number): boolean {
    if (this.receiveSpace === 0) return false;
    this.rxFifo.push(byte & 0xff);
    this.update();
    return true;
  }

  /** The RX line has gone quiet: data waiting in the FIFO starts the ageing timer's interrupt. */
  receiveIdle(): void {
    if (this.rxFifo.length > 0) {
      this.usr1Events |= Usr1.AGTIM;
      this.update();
    }
  }

  /** The level of the interrupt output. */
  get interruptAsserted(): boolean {
    return this.lineHigh;
  }

  protected readRegister(offset: number): number {
    switch (offset) {
      case ImxUartReg.URXD:
        return this.readData();
      case ImxUartReg.UCR1:
        return this.ucr1;
      case ImxUartReg.UCR2:
        return this.ucr2;
      case ImxUartReg.UCR3:
        return this.ucr3;
      case ImxUartReg.UCR4:
        return this.ucr4;
      case ImxUartReg.UFCR:
        return this.ufcr;
      case ImxUartReg.USR1:
        return this.usr1();
      case ImxUartReg.USR2:
        return this.usr2();
      case ImxUartReg.UESC:
        return this.uesc;
      case ImxUartReg.UTIM:
        return this.utim;
      case ImxUartReg.UBIR:
        return this.ubir;
      case ImxUartReg.UBMR:
        return this.ubmr;
      case ImxUartReg.UBRC:
        return 4;
      case ImxUartReg.ONEMS:
        return this.onems;
      case ImxUartReg.UTS:
        return this.uts();
      default:
        return 0;
    }
  }

  protected writeRegister(offset: number, value: number): void {
    const couldReceive = this.receiveSpace > 0;
    switch (offset) {
      case ImxUartReg.UTXD:
        this.writeData(value & 0xff);
        break;
      case ImxUartReg.UCR1:
        this.ucr1 = value & 0xffff;
        break;
      case ImxUartReg.UCR2:
        this.writeUcr2(value & 0xffff);
        break;
      case ImxUartReg.UCR3:
        this.ucr3 = value & 0xffff;
        break;
      case ImxUartReg.UCR4:
        this.ucr4 = value & 0xffff;
        break;
      case ImxUartReg.UFCR:
        this.ufcr = value & 0xffff;
        break;
      case ImxUartReg.USR1:
        this.usr1Events &= ~(value & USR1_EVENTS);
        // The ageing timer runs again while data waits: a driver that clears it early still gets the rest.
        if (value & Usr1.AGTIM && this.rxFifo.length > 0) this.options.onReceiveSpace?.();
        break;
      case ImxUartReg.USR2:
        this.usr2Events &= ~(value & USR2_EVENTS);
        break;
      case ImxUartReg.UESC:
        this.uesc = value & 0xff;
        break;
      case ImxUartReg.UTIM:
        this.utim = value & 0xfff;
        break;
      case ImxUartReg.UBIR:
        this.ubir = value & 0xffff;
        break;
      case ImxUartReg.UBMR:
        this.ubmr = value & 0xffff;
        break;
      case ImxUartReg.ONEMS:
        this.onems = value & 0xff_ffff;
        break;
      case ImxUartReg.UTS:
        this.utsControl = value & UTS_CONTROL;
        break;
      default:
        return;
    }
    this.drainTransmitter();
    // The receiver was turned on (or reset empty): bytes waiting on the line may come in now.
    if (!couldReceive && this.receiveSpace > 0) this.options.onReceiveSpace?.();
    this.update();
  }

  private get transmitterOn(): boolean {
    return (this.ucr1 & Ucr1.UARTEN) !== 0 && (this.ucr2 & Ucr2.TXEN) !== 0;
  }

  private get receiverOn(): boolean {
    return (this.ucr1 & Ucr1.UARTEN) !== 0 && (this.ucr2 & Ucr2.RXEN) !== 0;
  }

  /** UTS.LOOP: the transmitter feeds the receiver instead of the line. */
  private get looped(): boolean {
    return (this.utsControl & Uts.LOOP) !== 0;
  }

  private get rxThreshold(): number {
    return Math.max(1, this.ufcr & UFCR_RXTL);
  }

  private get txThreshold(): number {
    return (this.ufcr >> UFCR_TXTL_SHIFT) & 0x3f;
  }

  private writeData(byte: number): void {
    if (this.txFifo.length >= IMX_UART_FIFO_DEPTH) return; // written while full: lost, as on the chip
    this.txFifo.push(byte);
    this.drainTransmitter();
  }

  /** The transmitter sends everything waiting at once, to the console or (in loopback) to the receiver. */
  private drainTransmitter(): void {
    if (!this.transmitterOn) return;
    while (this.txFifo.length > 0) {
      const byte = this.txFifo.shift()!;
      if (!this.looped) {
        this.options.transmit(byte);
      } else if (this.receiverOn && this.rxFifo.length < IMX_UART_FIFO_DEPTH) {
        this.rxFifo.push(byte);
      } else if (this.receiverOn) {
        this.usr2Events |= Usr2.ORE;
      }
    }
  }

  private readData(): number {
    const byte = this.rxFifo.shift();
    if (byte === undefined) return 0;
    this.update();
    this.options.onReceiveSpace?.();
    return URXD_CHARRDY | byte;
  }

  private writeUcr2(value: number): void {
    if (!(value & Ucr2.SRST)) {
      // Software reset: the FIFOs, the status events, the baud-rate registers and the test register's
      // status go back to their reset state; the control registers keep their values, and the reset
      // completes at once (SRST reads 1 again).
      this.rxFifo.length = 0;
      this.txFifo.length = 0;
      this.usr1Events = 0;
      this.usr2Events = 0;
      this.ubir = 0;
      this.ubmr = 0;
      value |= Ucr2.SRST;
    }
    this.ucr2 = value;
  }

  private usr1(): number {
    let status = this.usr1Events | Usr1.RTSS | Usr1.RXDS;
    if (this.rxFifo.length >= this.rxThreshold) status |= Usr1.RRDY;
    if (this.txFifo.length < this.txThreshold) status |= Usr1.TRDY;
    return status;
  }

  private usr2(): number {
    let status = this.usr2Events;
    if (this.rxFifo.length > 0) status |= Usr2.RDR;
    if (this.txFifo.length === 0) status |= Usr2.TXFE | Usr2.TXDC;
    return status;
  }

  private uts(): number {
    let uts = this.utsControl;
    if (this.rxFifo.length === 0) uts |= Uts.RXEMPTY;
    if (this.rxFifo.length >= IMX_UART_FIFO_DEPTH) uts |= Uts.RXFULL;
    if (this.txFifo.length === 0) uts |= Uts.TXEMPTY;
    if (this.txFifo.length >= IMX_UART_FIFO_DEPTH) uts |= Uts.TXFULL;
    return uts;
  }

  /** The interrupt output: the OR of every status bit whose enable is set, while the UART is enabled. */
  private asserted(): boolean {
    if (!(this.ucr1 & Ucr1.UARTEN)) return false;
    const usr1 = this.usr1();
    const usr2 = this.usr2();
    const on = (status: number, bit: number, enables: number, enable: number) =>
      (status & bit) !== 0 && (enables & enable) !== 0;
    return (
      on(usr1, Usr1.RRDY, this.ucr1, Ucr1.RRDYEN) ||
      on(usr1, Usr1.TRDY, this.ucr1, Ucr1.TRDYEN) ||
      on(usr1, Usr1.RTSD, this.ucr1, Ucr1.RTSDEN) ||
      on(usr2, Usr2.TXFE, this.ucr1, Ucr1.TXMPTYEN) ||
      on(usr1, Usr1.AGTIM, this.ucr2, Ucr2.ATEN) ||
      on(usr1, Usr1.DTRD, this.ucr3, Ucr3.DTRDEN) ||
      on(usr1, Usr1.AWAKE, this.ucr3, Ucr3.AWAKEN) ||
      // USR2 and UCR4 share bit positions: RDR/DREN, ORE/OREN, BRCD/BKEN, TXDC/TCEN, WAKE/WKEN.
      (usr2 & this.ucr4 & (Usr2.RDR | Usr2.ORE | Usr2.BRCD | Usr2.TXDC | Usr2.WAKE)) !== 0
    );
  }

  private update(): void {
    const high = this.asserted();
    if (high !== this.lineHigh) {
      this.lineHigh = high;
      this.options.irq.set(high);
    }
  }
}
