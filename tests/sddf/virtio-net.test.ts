// The sDDF virtio-net driver against the board's virtio-net model, under the net virtualisers, a copier and a client.

import { describe, expect, test } from "vitest";
import type { Pd, PdProgram } from "../../src/microkit/index.ts";
import { VirtioNet } from "../../src/machine/devices/virtio/net.ts";
import type { EthernetWire } from "../../src/machine/devices/ethernet.ts";
import { netDriverVirtio } from "../../src/sddf/index.ts";
import { MACS, client, components, frame, netSystem, payloadOf, q, type ClientLog } from "./net-system.ts";
import { bootWithSlotDevice } from "./virtio-harness.ts";

const SLOT = 31; // 0xa003e00, INTID 79: where QEMU (and virtkit's board) puts a lone NIC
const driverMaps =
  '<map mr="nic_regs" vaddr="0x6000000" perms="rw" cached="false" setvar_vaddr="regs" />' +
  '<irq irq="79" id="2" />' +
  '<map mr="nic_dma" vaddr="0x6100000" perms="rw" setvar_vaddr="dma" />';
const xml =
  '<memory_region name="nic_regs" size="0x1000" phys_addr="0xa003000" />' +
  '<memory_region name="nic_dma" size="0x8000" />' +
  netSystem(1, false, driverMaps);

/** A wire that records what the NIC sends and lets the test send it frames. */
function testWire(): EthernetWire & { sent: string[]; send(frame: Uint8Array): void } {
  let receive: ((frame: Uint8Array) => void) | undefined;
  return {
    sent: [],
    transmit(f) {
      this.sent.push(payloadOf(f));
    },
    connect(r) {
      receive = r;
    },
    send(f) {
      receive!(f);
    },
  };
}

/** The test client, which also makes the wire deliver `frames` when it starts (every driver is up by then). */
function clientThatStartsTheWire(
  log: ClientLog,
  wire: ReturnType<typeof testWire>,
  frames: Uint8Array[],
  outgoing: string[],
): PdProgram {
  const inner = client(log, outgoing);
  return {
    init(p: Pd) {
      inner.init(p);
      for (const f of frames) wire.send(f);
    },
    notified: (p: Pd, ch: number) => inner.notified(p, ch),
  };
}

const driver = netDriverVirtio({
  regs: "regs",
  regsOffset: 0xe00,
  irq: 2,
  dma: "dma",
  rx: q("rx_drv", 0),
  tx: q("tx_drv", 1),
});

describe("the virtio-net driver on the board's virtio-net model", () => {
  test("frames from the wire reach the client by MAC and broadcast; the client's frames reach the wire", async () => {
    const wire = testWire();
    const log: ClientLog = { received: [], txFreeOffsets: [] };
    const incoming = [
      frame(MACS[0]!, "for the client"),
      frame("ff:ff:ff:ff:ff:ff", "for everyone"),
      frame("52:54:00:00:00:55", "for another"),
    ];
    const { console, done, device } = await bootWithSlotDevice(
      xml,
      {
        ...components(1),
        eth_driver: driver,
        client0: clientThatStartsTheWire(log, wire, incoming, ["out one", "out two"]),
      },
      SLOT,
      (env) => new VirtioNet({ ...env, wire, mac: "52:55:00:d1:55:01" }),
    );
    await done;
    expect(console.output).toContain(
      "VIRTIO NET DRIVER|INFO: virtio-net at eth_driver's 0x6000e00: MAC 52:55:00:d1:55:01\n",
    );
    expect(console.output).not.toMatch(/ERROR/);
    expect(wire.sent).toEqual(["out one", "out two"]);
    expect(log.received).toEqual(["for the client", "for everyone"]);
    expect(device.stats.rxFrames).toBe(3);
  });

  test("a burst of 250 frames, far more than there are RX buffers, all arrive in order", async () => {
    // The client runs above its copier here, so it hands each buffer back at once; below it (sDDF's
    // usual order) the copier drops frames while the client has no free buffer, as upstream.
    const wire = testWire();
    const log: ClientLog = { received: [], txFreeOffsets: [] };
    const incoming = Array.from({ length: 250 }, (_, i) => frame(MACS[0]!, `frame ${i}`));
    const { done, device } = await bootWithSlotDevice(
      '<memory_region name="nic_regs" size="0x1000" phys_addr="0xa003000" />' +
        '<memory_region name="nic_dma" size="0x8000" />' +
        netSystem(1, false, driverMaps, 185),
      {
        ...components(1),
        eth_driver: driver,
        client0: clientThatStartsTheWire(log, wire, incoming, []),
      },
      SLOT,
      (env) => new VirtioNet({ ...env, wire, mac: "52:55:00:d1:55:01", rxQueueLimit: 300 }),
    );
    await done;
    expect(log.received).toEqual(incoming.map((_, i) => `frame ${i}`));
    expect(device.stats.rxDroppedQueueFull + device.stats.rxDroppedNotRunning).toBe(0);
  });

  test("a legacy NIC is refused with a clear message", async () => {
    const wire = testWire();
    const { console, done } = await bootWithSlotDevice(
      xml,
      { ...components(1), eth_driver: driver, client0: client({ received: [], txFreeOffsets: [] }) },
      SLOT,
      (env) => new VirtioNet({ ...env, wire, mac: "52:55:00:d1:55:01", legacy: true }),
    );
    await done;
    expect(console.output).toContain(
      "VIRTIO NET DRIVER|ERROR: virtio-net at eth_driver's 0x6000e00: the device has the legacy virtio-mmio interface (version 1); this driver needs the modern one (version 2)\n",
    );
  });
});
