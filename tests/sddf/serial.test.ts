// The serial subsystem as PDs on the board's PL011: driver, RX and TX virtualisers, two clients; client switching, colours, bad clients.

import { describe, expect, test } from "vitest";
import type { Pd, PdProgram } from "../../src/microkit/index.ts";
import { SerialQueueHandle, serialDriverPl011, serialVirtRx, serialVirtTx } from "../../src/sddf/index.ts";
import { boot, channel, end, pd } from "../microkit/harness.ts";

const mr = (name: string, size = "0x1000") => `<memory_region name="${name}" size="${size}" />`;
const map = (name: string, vaddr: number) =>
  `<map mr="${name}" vaddr="0x${vaddr.toString(16)}" perms="rw" setvar_vaddr="${name}" />`;

/** The regions of one queue: `<prefix>_queue` and `<prefix>_data`. */
const queueRegions = (prefix: string) => mr(`${prefix}_queue`) + mr(`${prefix}_data`);
const queueMaps = (prefix: string, vaddr: number) =>
  map(`${prefix}_queue`, vaddr) + map(`${prefix}_data`, vaddr + 0x1000);
const conn = (prefix: string, channelId: number) => ({
  queue: `${prefix}_queue`,
  data: `${prefix}_data`,
  channel: channelId,
});

/** sDDF's serial system for `clients` clients, wired the way sdfgen wires it. */
function serialSystem(clients: number): string {
  const cli = [...Array(clients).keys()];
  return (
    queueRegions("tx_drv") +
    queueRegions("rx_drv") +
    cli.map((i) => queueRegions(`tx_cli${i}`) + queueRegions(`rx_cli${i}`)).join("") +
    '<memory_region name="uart" size="0x1000" phys_addr="0x9000000" />' +
    pd(
      "uart_driver",
      'priority="200"',
      '<map mr="uart" vaddr="0x5000000" perms="rw" cached="false" setvar_vaddr="uart_base" />' +
        '<irq irq="33" id="0" />' +
        queueMaps("tx_drv", 0x4000000) +
        queueMaps("rx_drv", 0x4002000),
    ) +
    pd(
      "serial_virt_rx",
      'priority="199"',
      queueMaps("rx_drv", 0x4000000) +
        cli.map((i) => queueMaps(`rx_cli${i}`, 0x4100000 + i * 0x2000)).join(""),
    ) +
    pd(
      "serial_virt_tx",
      'priority="198"',
      queueMaps("tx_drv", 0x4000000) +
        cli.map((i) => queueMaps(`tx_cli${i}`, 0x4100000 + i * 0x2000)).join(""),
    ) +
    cli
      .map((i) =>
        pd(
          `client${i}`,
          'priority="100"',
          queueMaps(`tx_cli${i}`, 0x4000000) + queueMaps(`rx_cli${i}`, 0x4002000),
        ),
      )
      .join("") +
    channel(end("uart_driver", 1), end("serial_virt_tx", 0)) +
    channel(end("uart_driver", 2), end("serial_virt_rx", 0)) +
    cli.map((i) => channel(end("serial_virt_tx", i + 1), end(`client${i}`, 0))).join("") +
    cli.map((i) => channel(end("serial_virt_rx", i + 1), end(`client${i}`, 1))).join("")
  );
}

const components = (clients: number, colour = false) => {
  const cli = [...Array(clients).keys()];
  return {
    uart_driver: serialDriverPl011({ irq: 0, tx: conn("tx_drv", 1), rx: conn("rx_drv", 2) }),
    serial_virt_rx: serialVirtRx({
      driver: conn("rx_drv", 0),
      clients: cli.map((i) => conn(`rx_cli${i}`, i + 1)),
    }),
    serial_virt_tx: serialVirtTx({
      driver: conn("tx_drv", 0),
      clients: cli.map((i) => ({ ...conn(`tx_cli${i}`, i + 1), name: `client${i}` })),
      colour,
      beginString: "Begin input\r\n",
    }),
  };
};

/** A client that greets, then echoes each batch it receives as `<name> got <json>`. */
function echoClient(name: string): PdProgram {
  let tx: SerialQueueHandle;
  let rx: SerialQueueHandle;
  return {
    init(p: Pd) {
      tx = SerialQueueHandle.fromPd(p, { queue: "tx_cli_queue", data: "tx_cli_data" });
      rx = SerialQueueHandle.fromPd(p, { queue: "rx_cli_queue", data: "rx_cli_data" });
      tx.enqueueBatch(`hello from ${name}\r\n`);
      p.notify(0);
    },
    notified(p: Pd, ch: number) {
      if (ch !== 1) return;
      const got = new TextDecoder("latin1").decode(rx.dequeueBatch());
      tx.enqueueBatch(`${name} got ${JSON.stringify(got)}\r\n`);
      p.notify(0);
    },
  };
}

/** What echo client `name` was given, its batches joined. */
function received(output: string, name: string): string {
  const batches = output.matchAll(new RegExp(`${name} got (".*?")\\r\\n`, "g"));
  return [...batches].map((m) => JSON.parse(m[1]!) as string).join("");
}

/** The clients' maps are named per client in the system; give each client generic setvar names. */
function genericClientXml(xml: string, clients: number): string {
  for (let i = 0; i < clients; i++) {
    const own = new RegExp(`(<protection_domain name="client${i}"[^]*?</protection_domain>)`);
    xml = xml.replace(own, (block) =>
      block.replace(new RegExp(`setvar_vaddr="(tx|rx)_cli${i}_`, "g"), 'setvar_vaddr="$1_cli_'),
    );
  }
  return xml;
}

describe("serial subsystem on the PL011", () => {
  test("output from two clients, input to the current client, switching with \\x1c<n>\\r", async () => {
    const xml = genericClientXml(serialSystem(2), 2);
    const { system, console } = await boot(
      xml,
      { ...components(2), client0: echoClient("client0"), client1: echoClient("client1") },
      { keepInputOpen: true },
    );
    await console.waitFor("hello from client1\r\n");
    expect(console.output).toContain("Begin input\r\n");
    expect(console.output).toContain("hello from client0\r\n");
    // Typed characters arrive a millisecond of machine time apart, so each reaches the client alone.
    console.type("abc");
    await console.waitFor('client0 got "c"');
    expect(received(console.output, "client0")).toBe("abc");
    console.type("\x1c1\rxyz");
    await console.waitFor('client1 got "z"');
    expect(received(console.output, "client1")).toBe("xyz");
    expect(console.output).toContain("VIRT_RX|LOG: switching to client 1\n");
    console.type("\x1c\x1c");
    await console.waitFor('client1 got "\\u001c"');
    console.type("\x1c7\rq");
    await console.waitFor('client1 got "q"');
    expect(received(console.output, "client1")).toBe("xyz\x1cq");
    expect(console.output).toContain("VIRT_RX|LOG: User requested to switch to an invalid client 7\n");
    console.type("\x1cz");
    console.type("\x1c0\rback");
    await console.waitFor('client0 got "k"');
    expect(received(console.output, "client0")).toBe("abcback");
    expect(console.output).toContain("VIRT_RX|LOG: User entered an invalid digit z\n");
    expect(received(console.output, "client1")).toBe("xyz\x1cq"); // the bad digit reached no client
    system.stop();
  });

  test("colour: each client's output is wrapped in its colour, and the legend is printed", async () => {
    const xml = genericClientXml(serialSystem(2), 2);
    const { system, console } = await boot(xml, {
      ...components(2, true),
      client0: echoClient("client0"),
      client1: echoClient("client1"),
    });
    await console.waitFor("hello from client1");
    expect(console.output).toContain("\x1b[31m'client0' is client 0\x1b[0m\n");
    expect(console.output).toContain("\x1b[32mhello from client1\r\n\x1b[0m");
    expect(console.output).toContain("\x1b[31mhello from client0\r\n\x1b[0m");
    system.stop();
  });

  test("a long burst larger than the driver's queue arrives whole and in order", async () => {
    const xml = genericClientXml(serialSystem(1), 1);
    const text = Array.from({ length: 600 }, (_, i) => `line ${i}\r\n`).join(""); // ~5.5 KB > 4 KiB
    let tx: SerialQueueHandle;
    let offset = 0;
    const pump = (p: Pd) => {
      offset += tx.enqueueBatch(text.slice(offset));
      if (offset < text.length) tx.requestSignal();
      p.notify(0);
    };
    const { console, done } = await boot(xml, {
      ...components(1),
      client0: {
        init(p: Pd) {
          tx = SerialQueueHandle.fromPd(p, { queue: "tx_cli_queue", data: "tx_cli_data" });
          tx.cancelSignal();
          pump(p);
        },
        notified(p: Pd, ch: number) {
          if (ch === 0 && offset < text.length) pump(p);
        },
      },
    });
    await done;
    expect(console.output).toContain(text);
  });

  test("a client that corrupts its queue indices is reported once and ignored; the others carry on", async () => {
    const xml = genericClientXml(serialSystem(2), 2);
    const { console, done } = await boot(xml, {
      ...components(2),
      client0: {
        init(p: Pd) {
          const queue = p.memory.view(p.setvars.tx_cli_queue!, 12);
          new DataView(queue.buffer, queue.byteOffset).setUint32(0, 0xdead_beef, true); // tail far past head
          p.notify(0);
          p.notify(0);
        },
        notified() {},
      },
      client1: echoClient("client1"),
    });
    await done;
    const reports = console.output.match(
      /VIRT_TX\|LOG: client 0 \('client0'\): serial queue indices are corrupt/g,
    );
    expect(reports).toHaveLength(1);
    expect(console.output).toContain("hello from client1\r\n");
  });
});
