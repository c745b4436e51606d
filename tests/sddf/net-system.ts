// The sDDF net system the net tests share: regions, maps and channels as sdfgen wires them, the components, frames and a test client.

import type { PdProgram } from "../../src/microkit/index.ts";
import { NET_BUFFER_SIZE, NetQueueHandle, netCopy, netVirtRx, netVirtTx } from "../../src/sddf/index.ts";
import { channel, end, pd } from "../microkit/harness.ts";

export const CAP = 16;
export const mr = (name: string, size = 0x1000) =>
  `<memory_region name="${name}" size="0x${size.toString(16)}" />`;
export const map = (name: string, vaddr: number, setvar = name, perms = "rw") =>
  `<map mr="${name}" vaddr="0x${vaddr.toString(16)}" perms="${perms}" setvar_vaddr="${setvar}" />`;
export const pair = (prefix: string, base: number, as = prefix) =>
  map(`${prefix}_free`, base, `${as}_free`) + map(`${prefix}_active`, base + 0x1000, `${as}_active`);
export const q = (prefix: string, channelId: number) => ({
  free: `${prefix}_free`,
  active: `${prefix}_active`,
  capacity: CAP,
  channel: channelId,
});

export const MACS = ["52:54:00:00:00:01", "52:54:00:00:00:02"];

/** sDDF's net system with `clients` clients, each behind a copier; `direct` clients talk to the RX virtualiser themselves. */
export function netSystem(clients: number, direct = false, driverExtra = "", clientPriority = 100): string {
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
        cli.map((i) => map(`tx_cli${i}_data`, 0x4200000 + i * 0x100000)).join("") +
        driverExtra,
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
          `priority="${clientPriority}"`,
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

export function components(clients: number, direct = false) {
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

export const frame = (dst: string, payload: string): Uint8Array => {
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
export const payloadOf = (bytes: Uint8Array): string => new TextDecoder().decode(bytes.subarray(14));

export interface Wire {
  /** Frames the fake NIC will receive, in order. */
  incoming: Uint8Array[];
  /** Frames the fake NIC sent. */
  sent: string[];
  /** RX buffers the driver holds after the run. */
  rxFree?: number;
}

export interface ClientLog {
  received: string[];
  txFreeOffsets: number[];
}

/** A client: records frames it receives and gives the buffers back; sends `outgoing` at start. */
export function client(log: ClientLog, outgoing: string[] = [], dst = "ff:ff:ff:ff:ff:ff"): PdProgram {
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
        // The consumer's half of the signalling protocol: drain, ask to be signalled, check again.
        for (let again = true; again;) {
          for (let b = rx.dequeueActive(); b; b = rx.dequeueActive()) {
            log.received.push(payloadOf(p.memory.view(p.setvars.rx_data! + b.ioOrOffset, b.len)));
            rx.enqueueFree({ ioOrOffset: b.ioOrOffset, len: 0 });
          }
          rx.requestSignal("active");
          again = !rx.empty("active");
          if (again) rx.cancelSignal("active");
        }
        p.notify(1);
      } else if (ch === 2) {
        log.txFreeOffsets.push(tx.length("free"));
        tx.requestSignal("free");
      }
    },
  };
}
