// The virtio-console device model driven as Linux's virtio_console (hvc0) drives it: no features, output
// through the port with flow control, input into posted receive buffers, malformed chains.
import { describe, expect, it } from "vitest";
import { VirtioFeature, VirtioMmio as R, featureBits } from "../../src/machine/devices/virtio/constants.ts";
import { VirtioConsole, type ConsolePort } from "../../src/machine/devices/virtio/console.ts";
import { RecordingIrq, VirtioTestDriver, guestRam } from "./virtio-test-driver.ts";

const RAM = 0x4000_0000;
const NAME = "VM 'linux': virtio-console at 0x130000";
const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

class Port implements ConsolePort {
  out = "";
  /** Bytes the port takes per call (Infinity: all). */
  room = Infinity;
  spaceCalls = 0;
  transmit(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, this.room);
    this.out += str(bytes.subarray(0, n));
    if (this.room !== Infinity) this.room -= n;
    return n;
  }
  receiveSpace(): void {
    this.spaceCalls++;
  }
}

function setup(legacy = false) {
  const memory = guestRam(RAM, 4 * 1024 * 1024);
  const irq = new RecordingIrq();
  const errors: string[] = [];
  const port = new Port();
  const console = new VirtioConsole({
    memory,
    irq,
    port,
    name: NAME,
    legacy,
    onError: (m) => errors.push(m),
  });
  const d = new VirtioTestDriver(console, memory, RAM, legacy);
  return { console, d, irq, errors, port };
}

describe("virtio-console", () => {
  it("is device 3 with two queues, no console features, VERSION_1", () => {
    const { d } = setup();
    expect(d.r(R.DeviceID)).toBe(3);
    expect(d.deviceFeatures()).toBe(featureBits(VirtioFeature.VERSION_1, VirtioFeature.INDIRECT_DESC));
    d.w(R.QueueSel, 1);
    expect(d.r(R.QueueNumMax)).toBe(128);
    d.w(R.QueueSel, 2);
    expect(d.r(R.QueueNumMax)).toBe(0);
    expect(d.r(R.Config)).toBe(0);
  });

  it("sends transmitq0 buffers to the port in order and returns them", () => {
    const { d, port, irq, console } = setup();
    const [, tx] = d.bringUp(2);
    const a = d.addChain(tx!, [{ addr: d.buffer(6, text("login:")), len: 6 }]);
    const b = d.addChain(tx!, [
      { addr: d.buffer(2, text(" r")), len: 2 },
      { addr: d.buffer(3, text("oot")), len: 3 },
    ]);
    d.notify(tx!);
    expect(port.out).toBe("login: root");
    expect(d.takeUsed(tx!)).toEqual([
      { id: a, len: 0 },
      { id: b, len: 0 },
    ]);
    expect(irq.level).toBe(true);
    expect(console.stats.txBytes).toBe(11);
  });

  it("holds output the port has no room for and sends it after transmitSpace", () => {
    const { d, port, console } = setup();
    const [, tx] = d.bringUp(2);
    port.room = 4;
    const a = d.addChain(tx!, [{ addr: d.buffer(10, text("0123456789")), len: 10 }]);
    const b = d.addChain(tx!, [{ addr: d.buffer(2, text("ab")), len: 2 }]);
    d.notify(tx!);
    expect(port.out).toBe("0123");
    expect(d.takeUsed(tx!)).toEqual([]);
    port.room = 3;
    console.transmitSpace();
    expect(port.out).toBe("0123456");
    port.room = Infinity;
    console.transmitSpace();
    expect(port.out).toBe("0123456789ab");
    expect(d.takeUsed(tx!).map((u) => u.id)).toEqual([a, b]);
  });

  it("sends a huge transmit buffer in pieces", () => {
    const { d, port } = setup();
    const [, tx] = d.bringUp(2);
    const big = new Uint8Array(100_000).fill(0x41);
    d.addChain(tx!, [{ addr: d.buffer(big.length, big), len: big.length }]);
    d.notify(tx!);
    expect(port.out.length).toBe(100_000);
  });

  it("fills posted receive buffers with input and says how much it took", () => {
    const { d, console, port, irq } = setup();
    expect(console.receive(text("early"))).toBe(0); // the driver is not up
    const [rx] = d.bringUp(2);
    expect(port.spaceCalls).toBe(1); // DRIVER_OK: the receive queue is live
    expect(console.receive(text("x"))).toBe(0); // no buffers yet
    const b1 = d.buffer(4);
    const b2 = d.buffer(64);
    d.addChain(rx!, [{ addr: b1, len: 4, write: true }]);
    d.addChain(rx!, [{ addr: b2, len: 64, write: true }]);
    d.notify(rx!);
    expect(port.spaceCalls).toBe(2);
    expect(console.receive(text("hello, world"))).toBe(12);
    expect(d.takeUsed(rx!).map((u) => u.len)).toEqual([4, 8]);
    expect(str(d.bytes(b1, 4))).toBe("hell");
    expect(str(d.bytes(b2, 8))).toBe("o, world");
    expect(irq.level).toBe(true);
    expect(console.receive(text("more"))).toBe(0);
  });

  it("sets DEVICE_NEEDS_RESET for a device-writable transmit buffer or a device-readable receive buffer", () => {
    const { d, errors } = setup();
    const [rx, tx] = d.bringUp(2);
    d.addChain(tx!, [{ addr: d.buffer(4), len: 4, write: true }]);
    d.notify(tx!);
    expect(d.needsReset()).toBe(true);
    expect(errors[0]).toMatch(
      /^VM 'linux': virtio-console at 0x130000: queue 1 \(transmitq0\): descriptor 0 is device-writable, but transmit buffers are only read by the device\./,
    );
    const s = setup();
    const [rx2] = s.d.bringUp(2);
    s.d.addChain(rx2!, [{ addr: s.d.buffer(4), len: 4 }]);
    expect(s.console.receive(text("hi"))).toBe(0);
    expect(s.errors[0]).toMatch(/queue 0 \(receiveq0\): descriptor 0 is device-readable/);
    void rx;
  });

  it("works on the legacy transport", () => {
    const { d, port } = setup(true);
    expect(d.r(R.Version)).toBe(1);
    const [, tx] = d.bringUp(2);
    d.addChain(tx!, [{ addr: d.buffer(2, text("ok")), len: 2 }]);
    d.notify(tx!);
    expect(port.out).toBe("ok");
  });
});
