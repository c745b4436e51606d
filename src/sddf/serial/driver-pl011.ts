// The sDDF serial driver for the ARM PL011 UART (drivers/serial/arm): the UART's bytes to and from the serial virtualisers' queues.

import { definePd, type Pd, type PdProgramDefinition } from "../../microkit/index.ts";
import { Pl011Flag, Pl011Int, Pl011Reg } from "../../machine/devices/pl011.ts";
import { setvarAddress } from "../shared.ts";
import { SerialQueueHandle, type SerialQueueConfig } from "./queue.ts";

/** A serial queue and the channel to the PD at its other end. */
export interface SerialConnection extends SerialQueueConfig {
  channel: number;
}

export interface SerialDriverConfig {
  /** setvar_vaddr of the PD's map of the UART registers (default `uart_base`). */
  uart?: string;
  /** Channel id of the UART's `<irq>` (IRQ 33 on qemu_virt_aarch64). */
  irq: number;
  /** The queue the TX virtualiser fills, and the channel to it. */
  tx: SerialConnection;
  /** The queue the driver fills for the RX virtualiser, and the channel to it; omit for a transmit-only system. */
  rx?: SerialConnection;
  /** Line rate programmed into IBRD/FBRD (default 115200), from the PL011's 24 MHz reference clock. */
  baud?: number;
}

const CR_UARTEN = 1 << 0;
const CR_TXE = 1 << 8;
const CR_RXE = 1 << 9;
const LCR_H_FEN = 1 << 4;
const LCR_H_STP2 = 1 << 3;
const LCR_H_WLEN_8 = 0b11 << 5;
const IFLS_RX_MASK = 0b111 << 3;
const IFLS_TX_MASK = 0b111;
const DR_DATA_MASK = 0xff;
const REFERENCE_CLOCK_HZ = 24_000_000;
const RX_INTERRUPTS = Pl011Int.RX | Pl011Int.RT;

/** A PD program: the PL011 driver. Priority above the virtualisers, as sDDF expects. */
export function serialDriverPl011(config: SerialDriverConfig): PdProgramDefinition {
  return definePd(() => {
    let base = 0;
    let tx: SerialQueueHandle;
    let rx: SerialQueueHandle | undefined;

    const reg = (pd: Pd, offset: number): number => pd.memory.read32(base + offset);
    const setReg = (pd: Pd, offset: number, value: number): void => pd.memory.write32(base + offset, value);
    const update = (pd: Pd, offset: number, set: number, clear: number): void =>
      setReg(pd, offset, (reg(pd, offset) & ~clear) | set);

    function setup(pd: Pd): void {
      while (reg(pd, Pl011Reg.FR) & Pl011Flag.BUSY);
      // The control registers may only be reprogrammed with the UART disabled.
      update(pd, Pl011Reg.CR, 0, CR_RXE | CR_TXE | CR_UARTEN);
      // 8 data bits, 1 stop bit, no parity, FIFOs on.
      update(pd, Pl011Reg.LCR_H, LCR_H_WLEN_8 | LCR_H_FEN, LCR_H_STP2);
      const divisor = REFERENCE_CLOCK_HZ / (16 * (config.baud ?? 115_200));
      setReg(pd, Pl011Reg.IBRD, Math.floor(divisor));
      setReg(pd, Pl011Reg.FBRD, Math.round((divisor - Math.floor(divisor)) * 64));
      // Interrupt as soon as one eighth of the RX FIFO fills (or on the receive timeout), and when
      // the TX FIFO drains below one eighth: used only while output is waiting for FIFO space.
      update(pd, Pl011Reg.IFLS, 0, IFLS_RX_MASK | IFLS_TX_MASK);
      update(pd, Pl011Reg.IMSC, (rx ? RX_INTERRUPTS : 0) | Pl011Int.TX, 0);
      update(pd, Pl011Reg.CR, CR_UARTEN | CR_TXE | (rx ? CR_RXE : 0), 0);
    }

    function txProvide(pd: Pd): void {
      let transferred = false;
      while (!(reg(pd, Pl011Reg.FR) & Pl011Flag.TXFF)) {
        const byte = tx.dequeue();
        if (byte === undefined) break;
        setReg(pd, Pl011Reg.DR, byte);
        transferred = true;
      }
      // Output left over waits for the TX interrupt: the FIFO has room again.
      update(pd, Pl011Reg.IMSC, tx.empty() ? 0 : Pl011Int.TX, tx.empty() ? Pl011Int.TX : 0);
      if (transferred) tx.signalIfRequired(() => pd.notify(config.tx.channel));
    }

    function rxReturn(pd: Pd, queue: SerialQueueHandle): void {
      const rxWaiting = (): boolean => !(reg(pd, Pl011Reg.FR) & Pl011Flag.RXFE);
      let enqueued = false;
      for (let reprocess = true; reprocess;) {
        while (rxWaiting() && !queue.full()) {
          queue.enqueue(reg(pd, Pl011Reg.DR) & DR_DATA_MASK);
          enqueued = true;
        }
        reprocess = false;
        if (rxWaiting() && queue.full()) {
          // The virtualiser is behind: stop taking interrupts until it makes room and says so.
          update(pd, Pl011Reg.IMSC, 0, RX_INTERRUPTS);
          queue.requestSignal();
          if (!queue.full()) {
            // It made room between the check and the request: carry on (the protocol's double check).
            queue.cancelSignal();
            update(pd, Pl011Reg.IMSC, RX_INTERRUPTS, 0);
            reprocess = true;
          }
        }
      }
      if (enqueued) pd.notify(config.rx!.channel);
    }

    function handleIrq(pd: Pd): void {
      const wanted = (rx ? RX_INTERRUPTS : 0) | Pl011Int.TX;
      for (let pending = reg(pd, Pl011Reg.MIS) & wanted; pending; pending = reg(pd, Pl011Reg.MIS) & wanted) {
        if (rx && pending & RX_INTERRUPTS) rxReturn(pd, rx);
        if (pending & Pl011Int.TX) txProvide(pd);
      }
    }

    return {
      init(pd) {
        base = setvarAddress(pd, config.uart ?? "uart_base", "serial driver");
        tx = SerialQueueHandle.fromPd(pd, config.tx, "serial driver");
        rx = config.rx && SerialQueueHandle.fromPd(pd, config.rx, "serial driver");
        setup(pd);
      },

      notified(pd, channel) {
        if (channel === config.irq) {
          handleIrq(pd);
          pd.deferredIrqAck(channel);
        } else if (channel === config.tx.channel) {
          txProvide(pd);
        } else if (rx && channel === config.rx?.channel) {
          update(pd, Pl011Reg.IMSC, RX_INTERRUPTS, 0);
          rxReturn(pd, rx);
        } else {
          pd.dbgPuts(`UART|LOG: received notification on unexpected channel: ${channel}\n`);
        }
      },
    };
  });
}
