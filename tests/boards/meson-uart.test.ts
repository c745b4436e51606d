// The Meson UART model, register by register, in the sequences Linux's meson_uart driver uses
// (drivers/tty/serial/meson_uart.c): the Linux boots in simple-boards.test.ts drive it for real.
import { describe, expect, it } from "vitest";
import {
  MESON_UART_FIFO_DEPTH,
  MesonControl as C,
  MesonStatus as S,
  MesonUart,
  MesonUartReg as R,
} from "../../src/machine/devices/meson-uart.ts";

function uart() {
  const sent: number[] = [];
  const edges: string[] = [];
  let spaceCalls = 0;
  const device = new MesonUart({
    irq: { set: (high) => edges.push(high ? "rise" : "fall") },
    transmit: (byte) => sent.push(byte),
    onReceiveSpace: () => spaceCalls++,
  });
  const read = (offset: number) => Number(device.read(offset, 4)) >>> 0;
  const write = (offset: number, value: number) => device.write(offset, 4, BigInt(value >>> 0));
  return { device, sent, edges, read, write, spaceCalls: () => spaceCalls };
}

/** meson_uart_reset at probe, then meson_uart_startup: the interrupts on, RECV_IRQ 1, XMIT_IRQ 32. */
function linuxStartup({ read, write }: ReturnType<typeof uart>) {
  let control = read(R.CONTROL) | C.RX_RST | C.TX_RST | C.CLEAR_ERR;
  write(R.CONTROL, control);
  control &= ~(C.RX_RST | C.TX_RST | C.CLEAR_ERR);
  write(R.CONTROL, control);
  write(R.CONTROL, control | C.CLEAR_ERR);
  write(R.CONTROL, control);
  control |= C.RX_EN | C.TX_EN;
  write(R.CONTROL, control);
  write(R.CONTROL, control | C.RX_INT_EN | C.TX_INT_EN);
  write(R.MISC, (32 << 8) | 1);
}

describe("the Meson UART", () => {
  it("is idle as the firmware leaves it: change_speed's wait, (STATUS & (TX_EMPTY|XMIT_BUSY)) == TX_EMPTY, ends", () => {
    const { read, write, sent } = uart();
    expect(read(R.STATUS) & (S.TX_EMPTY | S.XMIT_BUSY)).toBe(S.TX_EMPTY);
    expect(read(R.STATUS) & S.RX_EMPTY).toBe(S.RX_EMPTY);
    expect(read(R.REG5)).toBe(0x0180_0044); // 115200 baud from the 24 MHz crystal
    for (const byte of Buffer.from("ok\n")) {
      expect(read(R.STATUS) & S.TX_FULL).toBe(0); // meson_console_putchar's wait
      write(R.WFIFO, byte);
    }
    expect(Buffer.from(sent).toString()).toBe("ok\n");
  });

  it("pulses its interrupt for each byte received at RECV_IRQ, and the driver reads until RX_EMPTY", () => {
    const u = uart();
    linuxStartup(u);
    expect(u.edges).toEqual([]);
    for (const byte of Buffer.from("root")) expect(u.device.receive(byte)).toBe(true);
    expect(u.edges).toEqual(["rise", "fall", "rise", "fall", "rise", "fall", "rise", "fall"]);
    expect(u.read(R.STATUS) & 0x7f).toBe(4); // the RX FIFO count
    const before = u.spaceCalls();
    const bytes: number[] = [];
    do bytes.push(u.read(R.RFIFO) & 0xff);
    while (!(u.read(R.STATUS) & S.RX_EMPTY));
    expect(Buffer.from(bytes).toString()).toBe("root");
    expect(u.spaceCalls() - before).toBe(4); // each read makes room for the next byte on the line
  });

  it("holds 64 bytes, and none while the receiver is off or in reset", () => {
    const u = uart();
    linuxStartup(u);
    for (let i = 0; i < MESON_UART_FIFO_DEPTH; i++) expect(u.device.receive(i)).toBe(true);
    expect(u.read(R.STATUS) & S.RX_FULL).toBe(S.RX_FULL);
    expect(u.device.receive(0xff)).toBe(false);
    u.write(R.CONTROL, u.read(R.CONTROL) | C.RX_RST);
    expect(u.read(R.STATUS) & S.RX_EMPTY).toBe(S.RX_EMPTY);
    expect(u.device.receiveSpace).toBe(0);
    u.write(R.CONTROL, u.read(R.CONTROL) & ~C.RX_RST & ~C.RX_EN);
    expect(u.device.receiveSpace).toBe(0);
    const before = u.spaceCalls();
    u.write(R.CONTROL, u.read(R.CONTROL) | C.RX_EN);
    expect(u.spaceCalls()).toBe(before + 1);
  });

  it("interrupts when data waits as the receive interrupt is enabled (a console write restores it)", () => {
    const u = uart();
    linuxStartup(u);
    const control = u.read(R.CONTROL);
    u.write(R.CONTROL, control & ~(C.RX_INT_EN | C.TX_INT_EN)); // meson_serial_port_write
    u.device.receive(0x61);
    expect(u.edges).toEqual([]);
    u.write(R.CONTROL, control);
    expect(u.edges).toEqual(["rise", "fall"]);
  });

  it("keeps bytes while the transmitter is off; draining below XMIT_IRQ pulses the interrupt", () => {
    const u = uart();
    linuxStartup(u);
    u.write(R.CONTROL, u.read(R.CONTROL) & ~C.TX_EN);
    let written = 0;
    while (!(u.read(R.STATUS) & S.TX_FULL)) u.write(R.WFIFO, 0x30 + (written++ % 10)); // start_tx
    expect(written).toBe(MESON_UART_FIFO_DEPTH);
    expect((u.read(R.STATUS) >> 8) & 0x7f).toBe(MESON_UART_FIFO_DEPTH);
    u.write(R.WFIFO, 0x21);
    expect(u.read(R.STATUS) & S.TX_FIFO_WERR).toBe(S.TX_FIFO_WERR); // written while full
    expect(u.sent).toEqual([]);
    u.write(R.CONTROL, u.read(R.CONTROL) | C.TX_EN);
    expect(u.sent.length).toBe(MESON_UART_FIFO_DEPTH);
    expect(u.edges).toEqual(["rise", "fall"]);
    expect(u.read(R.STATUS) & (S.TX_EMPTY | S.TX_FULL)).toBe(S.TX_EMPTY);
    // Bytes that go out at once never fill the FIFO up to XMIT_IRQ: no interrupt for them.
    u.write(R.WFIFO, 0x22);
    expect(u.edges).toEqual(["rise", "fall"]);
    // CLEAR_ERR clears the error while it is set (it does not clear itself).
    u.write(R.CONTROL, u.read(R.CONTROL) | C.CLEAR_ERR);
    expect(u.read(R.STATUS) & S.TX_FIFO_WERR).toBe(0);
  });

  it("drops what the transmitter holds on TX_RST", () => {
    const u = uart();
    u.write(R.CONTROL, u.read(R.CONTROL) & ~C.TX_EN);
    u.write(R.WFIFO, 0x41);
    u.write(R.CONTROL, u.read(R.CONTROL) | C.TX_RST);
    u.write(R.CONTROL, (u.read(R.CONTROL) & ~C.TX_RST) | C.TX_EN);
    expect(u.sent).toEqual([]);
  });
});
