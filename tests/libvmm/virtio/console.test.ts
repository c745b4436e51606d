// The guest's virtio console as an sDDF serial client: output into the client's TX queue with the TX
// virtualiser notified, input from the RX queue into the guest's buffers, flow control both ways over the
// real sDDF serial queues (the virtualisers' side played here), and bad descriptors reported in the VMM's log.
import { describe, expect, it } from "vitest";
import { SERIAL_QUEUE, SerialQueueHandle } from "../../../src/sddf/serial/queue.ts";
import { LIBVMM_VIRTIO_PLACEMENT } from "../../../src/libvmm/virtio/mmio.ts";
import { virtioConsole } from "../../../src/libvmm/virtio/console.ts";
import { testVmm } from "./harness.ts";

const RX_CH = 1;
const TX_CH = 2;
const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

/** One serial queue's shared memory, and a handle for each side. */
function serialPair(capacity: number) {
  const queue = new Uint8Array(SERIAL_QUEUE.size);
  const data = new Uint8Array(capacity);
  return {
    vmm: new SerialQueueHandle(queue, data, capacity),
    virt: new SerialQueueHandle(queue, data, capacity),
  };
}

function setup(txCapacity = 256) {
  const t = testVmm();
  const rx = serialPair(64);
  const tx = serialPair(txCapacity);
  const notified: number[] = [];
  const console = virtioConsole(t.host, {
    ...LIBVMM_VIRTIO_PLACEMENT.console,
    rx: rx.vmm,
    tx: tx.vmm,
    rxChannel: RX_CH,
    txChannel: TX_CH,
    notify: (ch) => notified.push(ch),
  });
  t.enable(74);
  const d = t.driver(0x130000);
  const [rxq, txq] = d.bringUp(2, 16);
  return { t, rx, tx, notified, console, d, rxq: rxq!, txq: txq! };
}

describe("libvmm virtio console over sDDF serial", () => {
  it("sits at 0x130000 on SPI 42 (INTID 74) as device 3", () => {
    const { t, d } = setup();
    expect(t.vmm.mmio.find(0x130000)?.name).toBe("linux: virtio-console at 0x130000");
    expect(d.r(0x008)).toBe(3);
  });

  it("puts the guest's output in the TX queue and notifies the TX virtualiser", () => {
    const { d, tx, notified, txq, t } = setup();
    d.addChain(txq, [{ addr: d.buffer(14, text("buildroot login")), len: 14 }]);
    d.notify(txq);
    expect(str(tx.virt.dequeueBatch())).toBe("buildroot logi");
    expect(notified).toEqual([TX_CH]);
    expect(d.takeUsed(txq)).toHaveLength(1);
    expect(t.injected.map((i) => i.intid)).toEqual([74]);
  });

  it("waits while the TX queue is full and carries on when the virtualiser has drained it", () => {
    const { d, tx, notified, txq, console } = setup(16);
    d.addChain(txq, [{ addr: d.buffer(40, text("0123456789abcdefghijklmnopqrstuvwxyz!?#$")), len: 40 }]);
    d.notify(txq);
    expect(str(tx.virt.dequeueBatch())).toBe("0123456789abcdef");
    expect(tx.virt.requireSignal()).toBe(true); // the VMM asked to be told
    expect(d.takeUsed(txq)).toEqual([]);
    // The virtualiser drained the queue and signals, as its protocol says.
    tx.virt.signalIfRequired(() => console.handleNotification(TX_CH));
    expect(str(tx.virt.dequeueBatch())).toBe("ghijklmnopqrstuv");
    tx.virt.signalIfRequired(() => console.handleNotification(TX_CH));
    expect(str(tx.virt.dequeueBatch())).toBe("wxyz!?#$");
    expect(d.takeUsed(txq)).toHaveLength(1);
    expect(notified.filter((c) => c === TX_CH)).toHaveLength(3);
  });

  it("fills the guest's receive buffers from the RX queue, and leaves input there while the guest has no buffers", () => {
    const { d, rx, rxq, console, notified, t } = setup();
    rx.virt.enqueueBatch("ro");
    expect(console.handleNotification(RX_CH)).toBe(true);
    expect(rx.vmm.length()).toBe(0); // taken, held for the guest
    const b1 = d.buffer(4);
    d.addChain(rxq, [{ addr: b1, len: 4, write: true }]);
    d.notify(rxq);
    expect(str(d.bytes(b1, 2))).toBe("ro");
    rx.virt.enqueueBatch("ot\n");
    rx.virt.requestSignal(); // the RX virtualiser wants to hear when there is room
    console.handleNotification(RX_CH);
    expect(d.takeUsed(rxq).map((u) => u.len)).toEqual([2]);
    expect(rx.vmm.length()).toBe(0);
    expect(notified).toContain(RX_CH);
    const b2 = d.buffer(8);
    d.addChain(rxq, [{ addr: b2, len: 8, write: true }]);
    d.notify(rxq);
    expect(str(d.bytes(b2, 3))).toBe("ot\n");
    expect(t.injected.length).toBeGreaterThan(0);
    expect(console.handleNotification(99)).toBe(false);
  });

  it("reports a bad descriptor in the VMM's log, naming the VM, device, queue and descriptor, and keeps running", () => {
    const { d, txq, t } = setup();
    d.addChain(txq, [{ addr: 0x1000, len: 4 }]);
    d.notify(txq);
    expect(t.log.lines[0]).toMatch(
      /^vmm\|ERROR: linux: virtio-console at 0x130000: queue 1 \(transmitq0\): descriptor 0 points at \[0x1000, \+4\), outside guest RAM \[0x40000000, 0x40400000\)\./,
    );
    expect(d.needsReset()).toBe(true);
  });
});
