// The i.MX UART model, register by register, in the sequences Linux's imx driver and its earlycon use
// (drivers/tty/serial/imx.c, imx_earlycon.c): the Linux boots in simple-boards.test.ts drive it for real.
import { describe, expect, it } from "vitest";
import {
  IMX_UART_FIFO_DEPTH,
  ImxUart,
  ImxUartReg as R,
  Ucr1,
  Ucr2,
  Ucr4,
  Usr1,
  Usr2,
  Uts,
} from "../../src/machine/devices/imx-uart.ts";

function uart() {
  const sent: number[] = [];
  const levels: boolean[] = [];
  let spaceCalls = 0;
  const device = new ImxUart({
    irq: { set: (high) => levels.push(high) },
    transmit: (byte) => sent.push(byte),
    onReceiveSpace: () => spaceCalls++,
  });
  const read = (offset: number) => Number(device.read(offset, 4));
  const write = (offset: number, value: number) => device.write(offset, 4, BigInt(value));
  return { device, sent, levels, read, write, spaceCalls: () => spaceCalls };
}

/** imx_uart_startup for the console port: RXTL 1, TXTL 8, a soft reset, then the receiver's interrupts. */
function linuxStartup({ read, write }: ReturnType<typeof uart>, rxtl = 1) {
  write(R.UFCR, (8 << 10) | (4 << 7) | rxtl);
  write(R.UCR4, read(R.UCR4) & ~Ucr4.DREN);
  write(R.UCR2, read(R.UCR2) & ~Ucr2.SRST);
  expect(read(R.UCR2) & Ucr2.SRST).toBe(Ucr2.SRST); // the driver polls for this, 100 times at most
  write(R.UCR1, read(R.UCR1) | Ucr1.UARTEN);
  write(R.UCR4, read(R.UCR4) | Ucr4.OREN);
  write(R.UCR2, read(R.UCR2) | Ucr2.RXEN | Ucr2.TXEN | Ucr2.IRTS);
  write(R.UCR1, read(R.UCR1) | Ucr1.RRDYEN);
  write(R.UCR2, read(R.UCR2) | Ucr2.ATEN);
}

describe("the i.MX UART as the firmware leaves it", () => {
  it("sends what the earlycon writes: it waits while UTS.TXFULL, then writes UTXD", () => {
    const { read, write, sent } = uart();
    expect(read(R.UTS) & Uts.TXFULL).toBe(0);
    for (const byte of Buffer.from("earlycon\n")) write(R.UTXD, byte);
    expect(Buffer.from(sent).toString()).toBe("earlycon\n");
    // The seL4 kernel and Microkit's loader wait for USR2.TXFE instead; both stay set.
    expect(read(R.USR2) & (Usr2.TXFE | Usr2.TXDC)).toBe(Usr2.TXFE | Usr2.TXDC);
    expect(read(R.UTS) & (Uts.TXEMPTY | Uts.RXEMPTY)).toBe(Uts.TXEMPTY | Uts.RXEMPTY);
  });

  it("reads back 115200 8N1 from a 25 MHz clock divided by 2, as the console's get_options computes it", () => {
    const { read } = uart();
    expect(read(R.UCR1) & Ucr1.UARTEN).toBe(Ucr1.UARTEN);
    expect(read(R.UCR2) & (Ucr2.WS | Ucr2.TXEN | Ucr2.RXEN)).toBe(Ucr2.WS | Ucr2.TXEN | Ucr2.RXEN);
    const rfdiv = (read(R.UFCR) >> 7) & 7;
    const divider = rfdiv === 6 ? 7 : 6 - rfdiv;
    const baud = ((25_000_000 / divider) * (read(R.UBIR) + 1)) / (16 * (read(R.UBMR) + 1));
    expect(Math.round(baud / 1000)).toBe(115);
  });
});

describe("the i.MX UART under Linux's driver", () => {
  it("receives: RRDY raises the level interrupt, URXD gives CHARRDY and the byte, reading drops it", () => {
    const u = uart();
    linuxStartup(u);
    expect(u.levels).toEqual([]);
    expect(u.device.receive(0x72)).toBe(true);
    expect(u.levels).toEqual([true]);
    expect(u.read(R.USR1) & Usr1.RRDY).toBe(Usr1.RRDY);
    expect(u.read(R.USR2) & Usr2.RDR).toBe(Usr2.RDR);
    expect(u.read(R.URXD)).toBe(0x8072);
    expect(u.read(R.USR2) & Usr2.RDR).toBe(0);
    expect(u.levels).toEqual([true, false]);
    expect(u.read(R.UTS) & Uts.RXEMPTY).toBe(Uts.RXEMPTY);
  });

  it("holds 32 bytes; the ageing timer covers bytes below the trigger level", () => {
    const u = uart();
    linuxStartup(u, 8); // a port that is not the console: RX trigger 8
    for (let i = 0; i < 3; i++) u.device.receive(0x30 + i);
    expect(u.levels).toEqual([]); // 3 < RXTL: no RRDY
    u.device.receiveIdle();
    expect(u.read(R.USR1) & Usr1.AGTIM).toBe(Usr1.AGTIM);
    expect(u.levels).toEqual([true]);
    u.write(R.USR1, Usr1.AGTIM); // write 1 to clear, then drain while RDR
    const bytes: number[] = [];
    while (u.read(R.USR2) & Usr2.RDR) bytes.push(u.read(R.URXD) & 0xff);
    expect(bytes).toEqual([0x30, 0x31, 0x32]);
    expect(u.levels).toEqual([true, false]);
    for (let i = 0; i < IMX_UART_FIFO_DEPTH; i++) expect(u.device.receive(i)).toBe(true);
    expect(u.device.receiveSpace).toBe(0);
    expect(u.read(R.UTS) & Uts.RXFULL).toBe(Uts.RXFULL);
    expect(u.device.receive(0xff)).toBe(false);
  });

  it("transmits on TRDY: start_tx enables the interrupt, the handler fills the FIFO, stop_tx disables it", () => {
    const u = uart();
    linuxStartup(u);
    u.write(R.UCR1, u.read(R.UCR1) | Ucr1.TRDYEN); // imx_uart_start_tx
    expect(u.levels).toEqual([true]); // the FIFO is below TXTL
    while (!(u.read(R.UTS) & Uts.TXFULL) && u.sent.length < 100) u.write(R.UTXD, 0x61);
    expect(u.sent.length).toBe(100); // it empties at once: never full
    u.write(R.UCR1, u.read(R.UCR1) & ~Ucr1.TRDYEN); // imx_uart_stop_tx, with USR2.TXDC set
    expect(u.read(R.USR2) & Usr2.TXDC).toBe(Usr2.TXDC);
    expect(u.levels).toEqual([true, false]);
    u.write(R.UCR4, u.read(R.UCR4) | Ucr4.TCEN); // transmission complete interrupt
    expect(u.levels).toEqual([true, false, true]);
  });

  it("keeps bytes while the transmitter is off and sends them when it is on", () => {
    const u = uart();
    u.write(R.UCR2, u.read(R.UCR2) & ~Ucr2.TXEN);
    for (let i = 0; i < IMX_UART_FIFO_DEPTH + 2; i++) u.write(R.UTXD, 0x41 + (i % 26));
    expect(u.sent).toEqual([]);
    expect(u.read(R.UTS) & (Uts.TXFULL | Uts.TXEMPTY)).toBe(Uts.TXFULL);
    expect(u.read(R.USR2) & (Usr2.TXDC | Usr2.TXFE)).toBe(0);
    u.write(R.UCR2, u.read(R.UCR2) | Ucr2.TXEN);
    expect(u.sent.length).toBe(IMX_UART_FIFO_DEPTH); // the two written while full were lost
  });

  it("takes no input while the receiver is off, and asks for it when it comes on", () => {
    const u = uart();
    u.write(R.UCR2, u.read(R.UCR2) & ~Ucr2.RXEN);
    expect(u.device.receiveSpace).toBe(0);
    expect(u.device.receive(0x31)).toBe(false);
    const before = u.spaceCalls();
    u.write(R.UCR2, u.read(R.UCR2) | Ucr2.RXEN);
    expect(u.spaceCalls()).toBe(before + 1);
    expect(u.device.receiveSpace).toBe(IMX_UART_FIFO_DEPTH);
  });

  it("loops transmitted bytes back to the receiver with UTS.LOOP", () => {
    const u = uart();
    linuxStartup(u);
    u.write(R.UTS, Uts.LOOP);
    u.write(R.UTXD, 0x5a);
    expect(u.sent).toEqual([]);
    expect(u.read(R.URXD)).toBe(0x805a);
    u.write(R.UTS, 0);
    u.write(R.UTXD, 0x5a);
    expect(u.sent).toEqual([0x5a]);
  });

  it("soft reset empties the FIFOs and clears the status events; disabling the UART silences it", () => {
    const u = uart();
    linuxStartup(u);
    u.device.receive(0x31);
    u.device.receiveIdle();
    expect(u.levels).toEqual([true]);
    u.write(R.UCR2, u.read(R.UCR2) & ~Ucr2.SRST);
    expect(u.read(R.USR1) & (Usr1.AGTIM | Usr1.RRDY)).toBe(0);
    expect(u.read(R.UTS) & Uts.RXEMPTY).toBe(Uts.RXEMPTY);
    expect(u.levels).toEqual([true, false]);
    u.device.receive(0x32);
    expect(u.levels).toEqual([true, false, true]);
    u.write(R.UCR1, u.read(R.UCR1) & ~Ucr1.UARTEN);
    expect(u.levels).toEqual([true, false, true, false]);
  });
});
