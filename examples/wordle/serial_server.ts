// The Wordle tutorial's serial server: a PL011 driver that forwards typed characters to the
// client and prints what the client asks it to. Without a client channel (part 1) it echoes.

import { definePd, type Pd } from "../../src/microkit/index.ts";

// PL011 registers and flags, from the ARM PrimeCell UART (PL011) TRM.
const UARTDR = 0x000;
const UARTFR = 0x018;
const UARTIMSC = 0x038;
const UARTICR = 0x044;
const UARTFR_RXFE = 1 << 4;
const UARTFR_TXFF = 1 << 5;
/** RXIM | RTIM: interrupt on a received character and on the receive timeout. */
const UARTIMSC_RX_AND_TIMEOUT = 0x50;
/** Clears every interrupt the PL011 can raise. */
const UARTICR_ALL = 0x7f0;
const RECEIVE_DATA_MASK = 0x1ff;

const UART_IRQ_CH = 1;
const CLIENT_CH = 2;

const BACKSPACE = 8;
const DELETE = 0x7f;

/** An unpatched C global is 0: without the UART map the driver touches address 0 and faults. */
const uartBase = (pd: Pd): number => pd.setvars.uart_base_vaddr ?? 0;

function uartPutChar(pd: Pd, ch: number): void {
  while (pd.memory.read32(uartBase(pd) + UARTFR) & UARTFR_TXFF);
  pd.memory.write32(uartBase(pd) + UARTDR, ch);
  if (ch === 0x0d) uartPutChar(pd, 0x0a);
}

function uartPutStr(pd: Pd, text: string): void {
  for (let i = 0; i < text.length; i++) uartPutChar(pd, text.charCodeAt(i));
}

/**
 * One character per interrupt: the FIFOs stay disabled (LCR_H.FEN = 0), so the UART holds
 * a single character, and the client reads a single character per notification.
 */
function uartGetChar(pd: Pd): number {
  if (pd.memory.read32(uartBase(pd) + UARTFR) & UARTFR_RXFE) return 0;
  const ch = pd.memory.read32(uartBase(pd) + UARTDR) & RECEIVE_DATA_MASK;
  // Pipes send "\n" for Enter and some terminals ^H for backspace; the client expects "\r" and DEL.
  if (ch === 0x0a) return 0x0d;
  if (ch === BACKSPACE) return DELETE;
  return ch;
}

/** Reads the NUL-terminated string the client left in the shared page. */
function readClientString(pd: Pd): string {
  const page = pd.memory.view(pd.setvars.client_to_serial_vaddr, 0x1000);
  const end = page.indexOf(0);
  return Buffer.from(page.subarray(0, end < 0 ? page.length : end)).toString("latin1");
}

export default definePd({
  init(pd) {
    pd.memory.write32(uartBase(pd) + UARTIMSC, UARTIMSC_RX_AND_TIMEOUT);
    uartPutStr(pd, "SERIAL SERVER: starting\n");
  },

  notified(pd, channel) {
    const hasClient = ((pd.notifications >> BigInt(CLIENT_CH)) & 1n) === 1n;
    switch (channel) {
      case UART_IRQ_CH: {
        const ch = uartGetChar(pd);
        pd.memory.write32(uartBase(pd) + UARTICR, UARTICR_ALL);
        pd.irqAck(channel);
        if (!hasClient) {
          if (ch !== 0) uartPutChar(pd, ch);
          break;
        }
        pd.memory.write8(pd.setvars.serial_to_client_vaddr, ch);
        pd.notify(CLIENT_CH);
        break;
      }
      case CLIENT_CH:
        uartPutStr(pd, readClientString(pd));
        break;
    }
  },
});
