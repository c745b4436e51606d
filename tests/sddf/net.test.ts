// The net subsystem as PDs: a fake NIC driver, RX and TX virtualisers, a copier per client; routing by MAC, broadcast, buffer ownership, adversarial clients.

import { describe, expect, test } from "vitest";
import type { Pd, PdProgram } from "../../src/microkit/index.ts";
import { NET_BUFFER_SIZE, NetQueueHandle, netCopy, netVirtRx, netVirtTx } from "../../src/sddf/index.ts";
import { boot, channel, end, pd } from "../microkit/harness.ts";

const CAP = 16;
const mr = (name: string, size = 0x1000) => `<memory_region name="${name}" size="0x${size.toString(16)}" />`;
const map = (name: string, vaddr: number, setvar = name, perms = "rw") =>
  `<map mr="${name}" vaddr="0x${vaddr.toString(16)}" perms="${perms}" setvar_vaddr="${setvar}" />`;
const pair = (prefix: string, base: number, as = prefix) =>
  map(`${prefix}_free`, base, `${as}_free`) + map(`${prefix}_active`, base + 0x1000, `${as}_active`);
const q = (prefix: string, channelId: number) => ({
  free: `${prefix}_free`,
  active: `${prefix}_active`,
  capacity: CAP,
  channel: channelId,
});

export const MACS = ["52:54:00:00:00:01", "52:54:00:00:00:02"];

/** sDDF's net system with `clients` clients, each behind a copier; `direct` clients talk to the RX virtualiser themselves. */
function netSystem(clients: number, direct = false): string {
  const cli = [...Array(clients).keys()];
  const DMA = CAP * NET_BUFFER_SIZE;
  return (
    ["rx_drv", "tx_drv"].map((p) => mr(`${p}_free`) + mr(`${p}_active`)).join("") +
    mr("rx_dma", DMA) +
    cli
      .map(
        (i) =>
          mr(`rx_virt_cli${i}_free`) +
          mr(`rx_virt_cli${i}_active`) +
          mr(`rx_cli${i}_free`) +
          mr(`rx_cli${i}_active`) +
          mr(`rx_cli${i}_data`, DMA) +
          mr(`tx_cli${i}_free`) +
          mr(`tx_cli${i}_active`) +
          mr(`tx_cli${i}_data`, DMA),
      )
      .join("") +
    pd(
      "eth_driver",
      'priority="200"',
      pair("rx_drv", 0x4000000) +
        pair("tx_drv", 0x4002000) +
        map("rx_dma", 0x4100000) +
        cli.map((i) => map(`tx_cli${i}_data`, 0x4200000 + i * 0x100000)).join(""),
    ) +
    pd(
      "net_virt_rx",
      'priority="190"',
      pair("rx_drv", 0x4000000) +
        map("rx_dma", 0x4100000) +
        cli.map((i) => pair(`rx_virt_cli${i}`, 0x5000000 + i * 0x10000)).join(""),
    ) +
    pd(
      "net_virt_tx",
      'priority="190"',
      pair("tx_drv", 0x4000000) +
        cli
          .map(
            (i) =>
              pair(`tx_cli${i}`, 0x5000000 + i * 0x100000) + map(`tx_cli${i}_data`, 0x5010000 + i * 0x100000),
          )
          .join(""),
    ) +
    (direct
      ? ""
      : cli
          .map((i) =>
            pd(
              `copy${i}`,
              'priority="180"',
              pair(`rx_virt_cli${i}`, 0x4000000, "virt") +
                pair(`rx_cli${i}`, 0x4002000, "cli") +
                map("rx_dma", 0x4100000, "rx_dma", "r") +
                map(`rx_cli${i}_data`, 0x4200000, "cli_data"),
            ),
          )
          .join("")) +
    cli
      .map((i) =>
        pd(
          `client${i}`,
          'priority="100"',
          (direct
            ? pair(`rx_virt_cli${i}`, 0x4000000, "rx") + map("rx_dma", 0x4100000, "rx_data", "r")
            : pair(`rx_cli${i}`, 0x4000000, "rx") + map(`rx_cli${i}_data`, 0x4100000, "rx_data")) +
            pair(`tx_cli${i}`, 0x4002000, "tx") +
            map(`tx_cli${i}_data`, 0x4200000, "tx_data"),
        ),
      )
      .join("") +
    channel(end("eth_driver", 0), end("net_virt_rx", 0)) +
    channel(end("eth_driver", 1), end("net_virt_tx", 0)) +
    cli
      .map((i) =>
        direct
          ? channel(end("net_virt_rx", i + 1), end(`client${i}`, 1))
          : channel(end("net_virt_rx", i + 1), end(`copy${i}`, 0)) +
            channel(end(`copy${i}`, 1), end(`client${i}`, 1)),
      )
      .join("") +
    cli.map((i) => channel(end("net_virt_tx", i + 1), end(`client${i}`, 2))).join("")
  );
}

function components(clients: number, direct = false) {
  const cli = [...Array(clients).keys()];
  const programs: Record<string, ReturnType<typeof netVirtRx>> = {
    net_virt_rx: netVirtRx({
      driver: q("rx_drv", 0),
      data: "rx_dma",
      clients: cli.map((i) => ({ ...q(`rx_virt_cli${i}`, i + 1), macs: [MACS[i]!] })),
    }),
    net_virt_tx: netVirtTx({
      driver: q("tx_drv", 0),
      clients: cli.map((i) => ({ ...q(`tx_cli${i}`, i + 1), data: `tx_cli${i}_data` })),
    }),
  };
  if (!direct) {
    for (const i of cli) {
      programs[`copy${i}`] = netCopy({
        virt: q("virt", 0),
        rxData: "rx_dma",
        client: q("cli", 1),
        clientData: "cli_data",
      });
    }
  }
  return programs;
}

const frame = (dst: string, payload: string): Uint8Array => {
  const bytes = new Uint8Array(14 + payload.length);
  bytes.set(
    dst.split(":").map((h) => Number.parseInt(h, 16)),
    0,
  );
  bytes.set([0x52, 0x54, 0, 0, 0, 0x99], 6);
  bytes.set([0x08, 0x00], 12);
  bytes.set(new TextEncoder().encode(payload), 14);
  return bytes;
};
const payloadOf = (bytes: Uint8Array): string => new TextDecoder().decode(bytes.subarray(14));

interface Wire {
  /** Frames the fake NIC will receive, in order. */
  incoming: Uint8Array[];
  /** Frames the fake NIC sent. */
  sent: string[];
  /** RX buffers the driver holds after the run. */
  rxFree?: number;
}

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

interface ClientLog {
  received: string[];
  txFreeOffsets: number[];
}

/** A client: records frames it receives and gives the buffers back; sends `outgoing` at start. */
function client(log: ClientLog, outgoing: string[] = [], dst = "ff:ff:ff:ff:ff:ff"): PdProgram {
  let rx: NetQueueHandle;
  let tx: NetQueueHandle;
  return {
    init(p) {
      rx = NetQueueHandle.fromPd(p, { free: "rx_free", active: "rx_active", capacity: CAP });
      tx = NetQueueHandle.fromPd(p, { free: "tx_free", active: "tx_active", capacity: CAP });
      tx.buffersInit(0);
      for (const text of outgoing) {
        const b = tx.dequeueFree()!;
        const bytes = frame(dst, text);
        p.memory.view(p.setvars.tx_data! + b.ioOrOffset, bytes.length).set(bytes);
        tx.enqueueActive({ ioOrOffset: b.ioOrOffset, len: bytes.length });
      }
      if (outgoing.length > 0) p.notify(2);
    },
    notified(p, ch) {
      if (ch === 1) {
        for (let b = rx.dequeueActive(); b; b = rx.dequeueActive()) {
          log.received.push(payloadOf(p.memory.view(p.setvars.rx_data! + b.ioOrOffset, b.len)));
          rx.enqueueFree({ ioOrOffset: b.ioOrOffset, len: 0 });
        }
        p.notify(1);
      } else if (ch === 2) {
        log.txFreeOffsets.push(tx.length("free"));
        tx.requestSignal("free");
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
