import { describe, expect, test } from "vitest";
import { Pl011, Pl011Flag, Pl011Int, Pl011Reg } from "../../src/machine/devices/pl011.ts";
import { HarnessConsole } from "../../src/machine/backends/harness-console.ts";
import { SerialConnection, TYPED_CHARACTER_NS } from "../../src/machine/backends/serial-connection.ts";
import { VirtualClock } from "../../src/kernel/time.ts";
import { HostEvents } from "../../src/kernel/index.ts";
import { qemuVirtAarch64 } from "../../src/machine/boards/qemu_virt_aarch64/index.ts";
import { virtioMmioSlot } from "../../src/machine/boards/board.ts";

/** The UART's 32-bit registers as plain numbers, the way its driver sees them. */
function registers(uart: Pl011) {
  return {
    receive: (byte: number) => uart.receive(byte),
    receiveIdle: () => uart.receiveIdle(),
    get receiveSpace() {
      return uart.receiveSpace;
    },
    read: (offset: number, size: 4) => Number(uart.read(offset, size)),
    write: (offset: number, size: 4, value: number) => uart.write(offset, size, BigInt(value)),
  };
}

function uart() {
  const levels: boolean[] = [];
  const sent: number[] = [];
  const device = registers(
    new Pl011({ irq: { set: (high) => levels.push(high) }, transmit: (b) => sent.push(b) }),
  );
  return { device, levels, sent };
}

describe("PL011", () => {
  test("reset values, flags and the PrimeCell ID registers", () => {
    const { device } = uart();
    expect(device.read(Pl011Reg.FR, 4)).toBe(Pl011Flag.TXFE | Pl011Flag.RXFE);
    expect(device.read(Pl011Reg.CR, 4)).toBe(0x300);
    expect(device.read(Pl011Reg.IFLS, 4)).toBe(0x12);
    const ids = [0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc].map((o) => device.read(o, 4));
    expect(ids).toEqual([0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1]);
    for (const [reg, value] of [
      [Pl011Reg.IBRD, 0x27],
      [Pl011Reg.FBRD, 0x4],
      [Pl011Reg.LCR_H, 0x70],
      [Pl011Reg.DMACR, 0x3],
    ] as const) {
      device.write(reg, 4, value);
      expect(device.read(reg, 4)).toBe(value);
    }
  });

  test("with FIFOs disabled one character raises RX; reading it or ICR clears it; the line follows IMSC", () => {
    const { device, levels } = uart();
    device.write(Pl011Reg.IMSC, 4, 0x50);
    expect(device.receive(0x61)).toBe(true);
    expect(device.receive(0x62)).toBe(false); // a one-entry holding register
    expect(device.read(Pl011Reg.RIS, 4) & Pl011Int.RX).toBe(Pl011Int.RX);
    expect(device.read(Pl011Reg.MIS, 4)).toBe(Pl011Int.RX);
    expect(device.read(Pl011Reg.FR, 4) & Pl011Flag.RXFF).toBe(Pl011Flag.RXFF);
    expect(levels).toEqual([true]);
    expect(device.read(Pl011Reg.DR, 4)).toBe(0x61);
    expect(levels).toEqual([true, false]);
    device.receive(0x63);
    device.write(Pl011Reg.ICR, 4, 0x7f0);
    expect(levels).toEqual([true, false, true, false]);
    expect(device.read(Pl011Reg.FR, 4) & Pl011Flag.RXFE).toBe(0); // data stays in the FIFO
  });

  test("with FIFOs enabled RX waits for the trigger level; the timeout interrupt covers the rest", () => {
    const { device } = uart();
    device.write(Pl011Reg.LCR_H, 4, 0x70); // FEN, 8 bits
    device.write(Pl011Reg.IMSC, 4, 0x50);
    for (let i = 0; i < 7; i++) device.receive(0x30 + i);
    expect(device.read(Pl011Reg.RIS, 4)).toBe(0);
    device.receiveIdle();
    expect(device.read(Pl011Reg.MIS, 4)).toBe(Pl011Int.RT);
    device.receive(0x37); // 8 = half of 16
    expect(device.read(Pl011Reg.MIS, 4)).toBe(Pl011Int.RX | Pl011Int.RT);
    expect(device.read(Pl011Reg.DR, 4)).toBe(0x30);
    expect(device.read(Pl011Reg.RIS, 4)).toBe(Pl011Int.RT);
    for (let i = 1; i < 8; i++) device.read(Pl011Reg.DR, 4);
    expect(device.read(Pl011Reg.RIS, 4)).toBe(0);
    expect(device.receiveSpace).toBe(16);
  });

  test("writing DR transmits at once and raises TX", () => {
    const { device, sent } = uart();
    device.write(Pl011Reg.DR, 4, 0x141);
    expect(sent).toEqual([0x41]);
    expect(device.read(Pl011Reg.RIS, 4)).toBe(Pl011Int.TX);
    expect(device.read(Pl011Reg.FR, 4) & Pl011Flag.TXFF).toBe(0);
  });
});

describe("serial connection", () => {
  test("typed input enters the FIFO a character per TYPED_CHARACTER_NS of machine time; nothing is dropped", () => {
    const host = new HostEvents();
    const clock = new VirtualClock();
    const console = new HarnessConsole();
    const pl011 = new Pl011({
      irq: { set() {} },
      transmit: (b) => connection.transmit(b),
      onReceiveSpace: () => connection.receiveSpace(),
    });
    const connection = new SerialConnection(pl011, console, host, clock);
    const device = registers(pl011);
    const empty = (): boolean => (device.read(Pl011Reg.FR, 4) & Pl011Flag.RXFE) !== 0;
    connection.start();
    console.type("abc");
    expect(empty()).toBe(true); // input waits for the host event, then for its machine time
    host.drain();
    clock.fireDue();
    expect(device.read(Pl011Reg.DR, 4)).toBe(0x61);
    clock.advance(TYPED_CHARACTER_NS - 1);
    clock.fireDue();
    expect(empty()).toBe(true);
    clock.advance(1);
    clock.fireDue();
    expect(empty()).toBe(false);
    // "b" is not read: with the FIFO off it holds one character, so "c" waits, whatever the time.
    clock.advance(5 * TYPED_CHARACTER_NS);
    clock.fireDue();
    expect(clock.nextDeadline()).toBeUndefined();
    expect(device.read(Pl011Reg.DR, 4)).toBe(0x62);
    clock.fireDue(); // the read made room: "c" comes at once, it is long overdue
    expect(device.read(Pl011Reg.DR, 4)).toBe(0x63);
    expect(host.sourcesOpen).toBe(true);
    console.endInput();
    host.drain();
    expect(host.sourcesOpen).toBe(false);
    device.write(Pl011Reg.DR, 4, 0x7a);
    expect(console.output).toBe("z");
  });
});

describe("PL011 with its FIFO on, driven one character per interrupt", () => {
  test("a burst of input all arrives though the driver clears every interrupt after each read", () => {
    const host = new HostEvents();
    const clock = new VirtualClock();
    const console = new HarnessConsole();
    let line = false;
    const pl011 = new Pl011({
      irq: { set: (high) => (line = high) },
      transmit: (b) => connection.transmit(b),
      onReceiveSpace: () => connection.receiveSpace(),
    });
    const connection = new SerialConnection(pl011, console, host, clock);
    const device = registers(pl011);
    // What Linux's driver leaves behind (FIFO on, RX at 1/2), then the tutorial's serial server.
    device.write(Pl011Reg.LCR_H, 4, 0x70);
    device.write(Pl011Reg.IMSC, 4, 0x50);
    connection.start();
    console.type("crane\r");
    host.drain();
    const got: number[] = [];
    const arrivals: number[] = [];
    while (clock.skipToNextDeadline()) {
      // Each character raises the receive timeout on its own, well below the trigger level.
      if (!line) continue;
      arrivals.push(clock.nowNs);
      if ((device.read(Pl011Reg.FR, 4) & Pl011Flag.RXFE) === 0) got.push(device.read(Pl011Reg.DR, 4));
      device.write(Pl011Reg.ICR, 4, 0x7f0);
    }
    expect(String.fromCharCode(...got)).toBe("crane\r");
    expect(arrivals).toEqual([0, 1, 2, 3, 4, 5].map((n) => n * TYPED_CHARACTER_NS));
    expect(line).toBe(false);
  });
});

describe("QEMU virt memory map", () => {
  test("virtio-mmio slot 31 is at 0xa003e00 with IRQ 79, inside the Wordle NIC page", () => {
    expect(virtioMmioSlot(qemuVirtAarch64.virtioMmio!, 31)).toEqual({ base: 0xa003e00, irq: 79 });
    expect(virtioMmioSlot(qemuVirtAarch64.virtioMmio!, 0)).toEqual({ base: 0xa000000, irq: 48 });
    expect(qemuVirtAarch64.uart).toEqual({ base: 0x9000000, size: 0x1000, irq: 33 });
    expect(qemuVirtAarch64.gic.version === 2 && qemuVirtAarch64.gic.vcpuInterface.base).toBe(0x8040000);
  });
});
