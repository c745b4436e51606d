// The net subsystem as PDs: a fake NIC driver, RX and TX virtualisers, a copier per client; routing by MAC, broadcast, buffer ownership, adversarial clients.

import { describe, expect, test } from "vitest";
import type { Pd, PdProgram } from "../../src/microkit/index.ts";
import { NET_BUFFER_SIZE, NetQueueHandle } from "../../src/sddf/index.ts";
import { boot } from "../microkit/harness.ts";
import {
  CAP,
  MACS,
  client,
  components,
  frame,
  netSystem,
  payloadOf,
  q,
  type ClientLog,
  type Wire,
} from "./net-system.ts";

/** A fake NIC driver: delivers `wire.incoming` into free RX buffers, records TX frames; DMA by I/O address. */

function fakeNic(wire: Wire): PdProgram {
  let rx: NetQueueHandle;
  let tx: NetQueueHandle;
  const dma = (p: Pd, io: number, len: number) => {
    const r = p.regions.find((m) => io >= m.paddr && io + len <= m.paddr + m.size)!;
    return p.memory.view(r.vaddr + io - r.paddr, len);
  };
  const held: number[] = [];
  return {
    init(p) {
      rx = NetQueueHandle.fromPd(p, q("rx_drv", 0));
      tx = NetQueueHandle.fromPd(p, q("tx_drv", 1));
    },
    notified(p, ch) {
      if (ch === 0) {
        // The consumer side of the signalling protocol: take what is there, ask for a signal, check again.
        for (let again = true; again;) {
          for (let b = rx.dequeueFree(); b; b = rx.dequeueFree()) held.push(b.ioOrOffset);
          rx.requestSignal("free");
          again = !rx.empty("free");
          if (again) rx.cancelSignal("free");
        }
        let delivered = false;
        while (held.length > 0 && wire.incoming.length > 0) {
          const bytes = wire.incoming.shift()!;
          const io = held.shift()!;
          dma(p, io, bytes.length).set(bytes);
          rx.enqueueActive({ ioOrOffset: io, len: bytes.length });
          delivered = true;
        }
        if (delivered) rx.signalIfRequired("active", () => p.notify(0));
        wire.rxFree = held.length;
      } else {
        for (let again = true; again;) {
          for (let b = tx.dequeueActive(); b; b = tx.dequeueActive()) {
            wire.sent.push(payloadOf(dma(p, b.ioOrOffset, b.len)));
            tx.enqueueFree({ ioOrOffset: b.ioOrOffset, len: 0 });
          }
          tx.requestSignal("active");
          again = !tx.empty("active");
          if (again) tx.cancelSignal("active");
        }
        tx.signalIfRequired("free", () => p.notify(1));
      }
    },
  };
}

describe("net virtualisers and copiers", () => {
  test("RX routes by destination MAC, broadcasts to every client, drops unknown MACs; every buffer returns to the driver", async () => {
    const wire: Wire = {
      incoming: [
        frame(MACS[0]!, "for zero"),
        frame(MACS[1]!, "for one"),
        frame("ff:ff:ff:ff:ff:ff", "for all"),
        frame("52:54:00:00:00:77", "for nobody"),
        frame(MACS[1]!, "one again"),
      ],
      sent: [],
    };
    const logs: ClientLog[] = [
      { received: [], txFreeOffsets: [] },
      { received: [], txFreeOffsets: [] },
    ];
    const { done } = await boot(netSystem(2), {
      ...components(2),
      eth_driver: fakeNic(wire),
      client0: client(logs[0]!),
      client1: client(logs[1]!),
    });
    await done;
    expect(logs[0]!.received).toEqual(["for zero", "for all"]);
    expect(logs[1]!.received).toEqual(["for one", "for all", "one again"]);
    expect(wire.incoming).toEqual([]);
    expect(wire.rxFree).toBe(CAP);
  });

  test("TX: both clients' frames reach the NIC, and the sent buffers return to their owners", async () => {
    const wire: Wire = { incoming: [], sent: [] };
    const logs: ClientLog[] = [
      { received: [], txFreeOffsets: [] },
      { received: [], txFreeOffsets: [] },
    ];
    const { done } = await boot(netSystem(2), {
      ...components(2),
      eth_driver: fakeNic(wire),
      client0: client(logs[0]!, ["a1", "a2"]),
      client1: client(logs[1]!, ["b1"]),
    });
    await done;
    expect(wire.sent.sort()).toEqual(["a1", "a2", "b1"]);
    expect(logs[0]!.txFreeOffsets.at(-1)).toBe(CAP);
    expect(logs[1]!.txFreeOffsets.at(-1)).toBe(CAP);
  });

  test("TX refuses bad descriptors with a message and returns them unsent; a buffer sent twice is ignored", async () => {
    const wire: Wire = { incoming: [], sent: [] };
    const bad = (p: Pd, tx: NetQueueHandle) => {
      const good = frame(MACS[1]!, "good");
      p.memory.view(p.setvars.tx_data!, good.length).set(good);
      tx.enqueueActive({ ioOrOffset: 0, len: good.length });
      tx.enqueueActive({ ioOrOffset: 0, len: good.length }); // the same buffer again
      tx.enqueueActive({ ioOrOffset: NET_BUFFER_SIZE, len: 0 });
      tx.enqueueActive({ ioOrOffset: NET_BUFFER_SIZE, len: 3000 });
      tx.enqueueActive({ ioOrOffset: 100, len: 60 });
      tx.enqueueActive({ ioOrOffset: CAP * NET_BUFFER_SIZE, len: 60 });
      tx.enqueueActive({ ioOrOffset: 2 * NET_BUFFER_SIZE, len: 60, oid: 5 });
      p.notify(2);
    };
    let tx: NetQueueHandle;
    const { console, done } = await boot(netSystem(1), {
      ...components(1),
      eth_driver: fakeNic(wire),
      client0: {
        init(p) {
          tx = NetQueueHandle.fromPd(p, { free: "tx_free", active: "tx_active", capacity: CAP });
          bad(p, tx);
        },
        notified() {},
      },
    });
    await done;
    expect(wire.sent).toEqual(["good"]);
    const lines = console.output.split("\n").filter((l) => l.startsWith("VIRT_TX|LOG"));
    expect(lines).toEqual([
      "VIRT_TX|LOG: client 0 sent buffer offset 0x0 again while it is still being sent; ignored",
      "VIRT_TX|LOG: client 0 provided a buffer with len 0 (must be 1..2048); returned to it unsent",
      "VIRT_TX|LOG: client 0 provided a buffer with len 3000 (must be 1..2048); returned to it unsent",
      "VIRT_TX|LOG: client 0 provided offset 0x64, which is not buffer aligned or is outside its 16 buffers; returned to it unsent",
      "VIRT_TX|LOG: client 0 provided offset 0x8000, which is not buffer aligned or is outside its 16 buffers; returned to it unsent",
      "VIRT_TX|LOG: client 0 provided a buffer with oid 5, which names no region of it; returned to it unsent",
    ]);
    // The five refused buffers and the sent one are back in the client's free queue.
    expect(tx!.length("free")).toBe(6);
  });

  test("RX refuses buffers a client returns but does not hold; broadcast buffers go back only when every client returned them", async () => {
    const wire: Wire = { incoming: [frame("ff:ff:ff:ff:ff:ff", "hello all")], sent: [] };
    const seen: number[] = [];
    const greedy = (returnTwice: boolean): PdProgram => {
      let rx: NetQueueHandle;
      return {
        init(p) {
          rx = NetQueueHandle.fromPd(p, { free: "rx_free", active: "rx_active", capacity: CAP });
        },
        notified(p, ch) {
          if (ch !== 1) return;
          for (let b = rx.dequeueActive(); b; b = rx.dequeueActive()) {
            seen.push(b.ioOrOffset);
            rx.enqueueFree({ ioOrOffset: b.ioOrOffset, len: 0 });
            if (returnTwice) {
              rx.enqueueFree({ ioOrOffset: b.ioOrOffset, len: 0 }); // not held any more
              rx.enqueueFree({ ioOrOffset: b.ioOrOffset + NET_BUFFER_SIZE, len: 0 }); // never given
              rx.enqueueFree({ ioOrOffset: 12345, len: 0 }); // not a buffer
            }
          }
          p.notify(1);
        },
      };
    };
    const { console, done } = await boot(netSystem(2, true), {
      ...components(2, true),
      eth_driver: fakeNic(wire),
      client0: greedy(true),
      client1: greedy(false),
    });
    await done;
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
    const lines = console.output.split("\n").filter((l) => l.startsWith("VIRT_RX|LOG"));
    expect(lines).toEqual([
      `VIRT_RX|LOG: client 0 returned RX buffer offset 0x${seen[0]!.toString(16)}, which it does not hold; ignored`,
      `VIRT_RX|LOG: client 0 returned RX buffer offset 0x${(seen[0]! + NET_BUFFER_SIZE).toString(16)}, which it does not hold; ignored`,
      "VIRT_RX|LOG: client 0 returned RX buffer offset 0x3039, which is not a buffer of the RX region; ignored",
    ]);
    expect(wire.rxFree).toBe(CAP);
  });
});
