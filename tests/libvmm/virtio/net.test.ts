// The guest's virtio-net NIC as an sDDF net client over real sDDF net queues (the virtualisers' side
// played here): frames out through free TX buffers, frames in from the RX active queue with the buffers
// returned, waiting for TX buffers, and bad descriptors from a virtualiser reported.
import { describe, expect, it } from "vitest";
import { NET_BUFFER_SIZE, NetQueueHandle, netQueueSize } from "../../../src/sddf/net/queue.ts";
import { LIBVMM_VIRTIO_PLACEMENT } from "../../../src/libvmm/virtio/mmio.ts";
import { virtioNet } from "../../../src/libvmm/virtio/net.ts";
import { testVmm } from "./harness.ts";

const RX_CH = 3;
const TX_CH = 4;
const MAC = "52:54:01:00:00:10";
const HDR = 12;

function netPair(capacity: number) {
  const free = new Uint8Array(netQueueSize(capacity));
  const active = new Uint8Array(netQueueSize(capacity));
  const data = new Uint8Array(capacity * NET_BUFFER_SIZE);
  return {
    data,
    vmm: new NetQueueHandle(free, active, capacity),
    virt: new NetQueueHandle(free, active, capacity),
  };
}

function frame(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i < 6 ? 0xff : (i + seed) & 0xff));
}

function setup(capacity = 8) {
  const t = testVmm();
  const rx = netPair(capacity);
  const tx = netPair(capacity);
  const notified: number[] = [];
  const net = virtioNet(t.host, {
    ...LIBVMM_VIRTIO_PLACEMENT.net,
    mac: MAC,
    rx: rx.vmm,
    rxData: rx.data,
    tx: tx.vmm,
    txData: tx.data,
    rxChannel: RX_CH,
    txChannel: TX_CH,
    notify: (ch) => notified.push(ch),
  });
  t.enable(76);
  const d = t.driver(0x160000);
  const [rxq, txq] = d.bringUp(2, 16);
  return { t, rx, tx, notified, net, d, rxq: rxq!, txq: txq! };
}

describe("libvmm virtio-net over sDDF net", () => {
  it("sits at 0x160000 on SPI 44 with the MAC, and fills both free queues with the client's buffers", () => {
    const { d, rx, tx } = setup();
    expect(d.r(0x008)).toBe(1);
    expect(
      [0, 1, 2, 3, 4, 5]
        .map((i) =>
          d
            .r(0x100 + i, 1)
            .toString(16)
            .padStart(2, "0"),
        )
        .join(":"),
    ).toBe(MAC);
    expect(rx.virt.length("free")).toBe(8);
    expect(tx.virt.length("free")).toBe(8);
  });

  it("sends the guest's frames through free TX buffers and notifies the TX virtualiser when it asked", () => {
    const { d, tx, txq, notified, net } = setup();
    tx.virt.requestSignal("active");
    const f = frame(60, 1);
    const packet = new Uint8Array(HDR + f.length);
    packet.set(f, HDR);
    d.addChain(txq, [{ addr: d.buffer(packet.length, packet), len: packet.length }]);
    d.notify(txq);
    const desc = tx.virt.dequeueActive()!;
    expect(desc.len).toBe(60);
    expect(tx.data.subarray(desc.ioOrOffset, desc.ioOrOffset + 60)).toEqual(f);
    expect(notified).toEqual([TX_CH]);
    expect(net.stats.txFrames).toBe(1);
  });

  it("drops an empty frame (only the virtio-net header) instead of giving the TX virtualiser a 0-byte buffer", () => {
    const { d, tx, txq, net } = setup();
    d.addChain(txq, [{ addr: d.buffer(HDR, new Uint8Array(HDR)), len: HDR }]);
    d.notify(txq);
    expect(d.takeUsed(txq)).toHaveLength(1);
    expect(tx.virt.length("active")).toBe(0);
    expect(net.stats).toMatchObject({ txFrames: 0, txEmpty: 1 });
  });

  it("holds frames while no TX buffer is free and sends them when the virtualiser returns buffers", () => {
    const { d, tx, txq, net } = setup(2);
    const send = (seed: number) => {
      const packet = new Uint8Array(HDR + 60);
      packet.set(frame(60, seed), HDR);
      d.addChain(txq, [{ addr: d.buffer(packet.length, packet), len: packet.length }]);
    };
    for (let i = 0; i < 4; i++) send(i);
    d.notify(txq);
    expect(tx.virt.length("active")).toBe(2);
    expect(tx.vmm.requireSignal("free")).toBe(true);
    // The virtualiser sends two and returns their buffers.
    for (let i = 0; i < 2; i++)
      tx.virt.enqueueFree({ ioOrOffset: tx.virt.dequeueActive()!.ioOrOffset, len: 0 });
    tx.virt.signalIfRequired("free", () => net.handleNotification(TX_CH));
    expect(tx.virt.length("active")).toBe(2);
    const third = tx.virt.dequeueActive()!;
    expect(tx.data[third.ioOrOffset + 6]).toBe((6 + 2) & 0xff);
    expect(net.stats).toMatchObject({ txFrames: 4, txDropped: 0 });
  });

  it("gives frames from the RX queue to the guest and returns their buffers", () => {
    const { d, rx, rxq, net, notified, t } = setup();
    const bufs = [d.buffer(2048), d.buffer(2048)];
    for (const b of bufs) d.addChain(rxq, [{ addr: b, len: 2048, write: true }]);
    d.notify(rxq);
    rx.virt.requestSignal("free");
    for (const [i, len] of [60, 1514].entries()) {
      const desc = rx.virt.dequeueFree()!;
      rx.data.set(frame(len, i), desc.ioOrOffset);
      rx.virt.enqueueActive({ ioOrOffset: desc.ioOrOffset, len });
    }
    expect(net.handleNotification(RX_CH)).toBe(true);
    const used = d.takeUsed(rxq);
    expect(used.map((u) => u.len)).toEqual([HDR + 60, HDR + 1514]);
    expect(d.bytes(bufs[1]! + HDR, 1514)).toEqual(frame(1514, 1));
    expect(rx.virt.length("free")).toBe(8);
    expect(notified).toEqual([RX_CH]);
    expect(t.injected.some((i) => i.intid === 76)).toBe(true);
  });

  it("reports descriptors outside the data region or longer than a buffer, and keeps going", () => {
    const { rx, net, t } = setup();
    rx.virt.enqueueActive({ ioOrOffset: 1 << 30, len: 60 });
    rx.virt.enqueueActive({ ioOrOffset: 0, len: 4000 });
    net.handleNotification(RX_CH);
    expect(t.log.lines).toEqual([
      "vmm|ERROR: linux: virtio-net at 0x160000: the RX virtualiser gave a buffer at offset 1073741824, outside the 16384-byte RX data region; the buffer is dropped",
      "vmm|ERROR: linux: virtio-net at 0x160000: the RX virtualiser gave a 4000-byte frame, longer than a 2048-byte buffer; the frame is dropped",
    ]);
    expect(net.stats.badDescriptors).toBe(2);
  });

  it("refuses data regions too small for the queues", () => {
    const t = testVmm();
    const rx = netPair(8);
    expect(() =>
      virtioNet(t.host, {
        ...LIBVMM_VIRTIO_PLACEMENT.net,
        mac: MAC,
        rx: rx.vmm,
        rxData: new Uint8Array(100),
        tx: rx.vmm,
        txData: rx.data,
        rxChannel: 1,
        txChannel: 2,
        notify: () => {},
      }),
    ).toThrow(
      "virtio net: the RX data region is 100 bytes, too small for 8 buffers of 2048; make it 16384 bytes",
    );
  });
});
