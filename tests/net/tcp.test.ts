// The network's TCP against a scripted guest: handshake options, resets, the states of both
// closes, loss and retransmission in virtual time, reordering, sequence wrap, flow control both ways.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { patternBytes } from "../../src/machine/backends/net/byte-pattern.ts";
import { seededRandom } from "../../src/machine/backends/net/random.ts";
import type { TcpConnection, TcpHandler } from "../../src/machine/backends/net/tcp.ts";
import type { TcpService } from "../../src/machine/backends/net/user-network.ts";
import { TCP } from "./frames.ts";
import { GuestTcp, TestGuest } from "./guest.ts";

const MS = 1_000_000;

interface EchoControl {
  backlog: number;
  connection?: TcpConnection;
  closed?: string[];
}

/** An echo service on port 7 that also lets a test hold back its window through `backlog`. */
function echoHost(control: EchoControl = { backlog: 0 }) {
  const service: TcpService = (connection) => {
    control.connection = connection;
    const handler: TcpHandler = {
      data: (bytes) => connection.write(bytes),
      end: () => connection.end(),
      closed: (reason) => control.closed?.push(reason),
      backlog: () => control.backlog,
    };
    return handler;
  };
  return { hosts: [{ name: "echo.test", address: "10.0.2.7", services: { 7: service } }] };
}

function sha(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function download(
  guest: TestGuest,
  n: number,
  configure: (connection: GuestTcp) => void = () => {},
): GuestTcp {
  const connection = new GuestTcp(guest, {
    destination: "10.0.2.100",
    destinationPort: 80,
    sourcePort: 45000,
  });
  configure(connection);
  expect(connection.connect()).toBe(true);
  connection.write(`GET /bytes/${n} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
  expect(connection.drain()).toBe(true);
  return connection;
}

function body(connection: GuestTcp, n: number): Uint8Array {
  const data = connection.data();
  return data.subarray(data.length - n);
}

describe("TCP handshake and resets", () => {
  it("answers a SYN with SYN-ACK: our MSS and window scale, the guest's sequence acknowledged", () => {
    const guest = new TestGuest();
    const connection = new GuestTcp(guest, {
      destination: "10.0.2.100",
      destinationPort: 80,
      isn: 0x12345678,
      windowScale: 7,
    });
    connection.connect();
    const synAck = connection.segments[0]!;
    expect(synAck.flags).toBe(TCP.SYN | TCP.ACK);
    expect(synAck.ack).toBe(0x12345679);
    expect(synAck.mss).toBe(1460);
    expect(synAck.windowScale).toBe(3);
    expect(synAck.window).toBe(65535);
    expect(synAck.checksumOk).toBe(true);
  });

  it("leaves window scaling off when the guest does not offer it", () => {
    const guest = new TestGuest();
    const connection = new GuestTcp(guest, { destination: "10.0.2.100", destinationPort: 80 });
    connection.connect();
    expect(connection.segments[0]!.windowScale).toBeUndefined();
  });

  it("resets a SYN to a closed port (RST|ACK, seq 0, ack = SYN + 1) and a stray segment (RST, seq = its ack)", () => {
    const guest = new TestGuest();
    for (const [destination, port] of [
      ["10.0.2.100", 81],
      ["10.0.2.3", 80],
      ["10.0.2.77", 80],
    ] as const) {
      const connection = new GuestTcp(guest, { destination, destinationPort: port, isn: 500 });
      expect(connection.connect()).toBe(false);
      expect(connection.reset).toBe(true);
      expect(connection.segments[0]).toMatchObject({ flags: TCP.RST | TCP.ACK, seq: 0, ack: 501 });
    }
    const stray = new GuestTcp(guest, { destination: "10.0.2.100", destinationPort: 80, isn: 9 });
    stray.ack = 777;
    stray.raw(TCP.ACK, 9, [1, 2, 3]);
    stray.poll();
    expect(stray.segments[0]).toMatchObject({ flags: TCP.RST, seq: 777 });
    expect(guest.net.stats.tcp.resetsSent).toBe(4);
  });

  it("never answers a reset with a reset", () => {
    const guest = new TestGuest();
    new GuestTcp(guest, { destination: "10.0.2.100", destinationPort: 80 }).raw(TCP.RST, 1, []);
    expect(guest.take()).toEqual([]);
  });

  it("answers a SYN on an established connection with a challenge ACK, and an in-window RST too", () => {
    const guest = new TestGuest(echoHost());
    const connection = new GuestTcp(guest, { destination: "10.0.2.7", destinationPort: 7 });
    connection.connect();
    const before = connection.segments.length;
    connection.raw(TCP.SYN, 5, []);
    connection.raw(TCP.RST, (connection.seq + 100) >>> 0, []);
    connection.poll();
    const answers = connection.segments.slice(before);
    expect(answers.map((s) => s.flags)).toEqual([TCP.ACK, TCP.ACK]);
    // Still open: data is echoed.
    connection.write("still here");
    connection.poll();
    expect(connection.text()).toBe("still here");
  });

  it("closes on an exact RST from the guest and tells the service", () => {
    const control: EchoControl & { closed: string[] } = { backlog: 0, closed: [] };
    const guest = new TestGuest(echoHost(control));
    const connection = new GuestTcp(guest, { destination: "10.0.2.7", destinationPort: 7 });
    connection.connect();
    connection.sendReset();
    expect(control.closed).toEqual(["reset"]);
    expect(control.connection!.state).toBe("CLOSED");
  });
});

describe("TCP closing", () => {
  it("walks FIN_WAIT_1, FIN_WAIT_2 and TIME_WAIT when the network closes first, re-ACKs a repeated FIN", () => {
    const control: EchoControl & { closed: string[] } = { backlog: 0, closed: [] };
    const service: TcpService = (connection) => {
      control.connection = connection;
      return {
        data: () => {
          connection.write(new TextEncoder().encode("bye"));
          connection.end();
        },
        end: () => {},
        closed: (reason) => control.closed.push(reason),
      };
    };
    const guest = new TestGuest({
      hosts: [{ name: "closer.test", address: "10.0.2.8", services: { 9: service } }],
    });
    const connection = new GuestTcp(guest, { destination: "10.0.2.8", destinationPort: 9 });
    connection.connect();
    connection.write("hi");
    expect(control.connection!.state).toBe("FIN_WAIT_1");
    connection.poll(); // takes data and FIN, acknowledges both
    expect(connection.text()).toBe("bye");
    expect(connection.finReceived).toBe(true);
    expect(control.connection!.state).toBe("FIN_WAIT_2");
    connection.close();
    expect(control.connection!.state).toBe("TIME_WAIT");
    expect(control.closed).toEqual(["normal"]);
    connection.poll();
    // The guest did not see our ACK and sends its FIN again: it is acknowledged again.
    const count = connection.segments.length;
    connection.raw(TCP.FIN | TCP.ACK, (connection.seq - 1) >>> 0, []);
    connection.poll();
    expect(connection.segments.slice(count).map((s) => [s.flags, s.ack])).toEqual([
      [TCP.ACK, connection.seq],
    ]);
    // Two maximum segment lifetimes later the connection is gone.
    guest.clock.advance(61_000 * MS);
    expect(control.connection!.state).toBe("CLOSED");
    connection.raw(TCP.ACK, connection.seq, [1]);
    connection.poll();
    expect(connection.reset).toBe(true);
  });

  it("gives up on a guest that never sends its FIN after the server closed (FIN_WAIT_2 timeout)", () => {
    const guest = new TestGuest();
    const connection = new GuestTcp(guest, { destination: "10.0.2.100", destinationPort: 80 });
    connection.connect();
    connection.write("GET /song HTTP/1.0\r\n\r\n");
    expect(connection.drain()).toBe(true);
    guest.clock.advance(59_000 * MS);
    connection.raw(TCP.ACK, connection.seq, []);
    connection.poll();
    expect(connection.reset).toBe(false);
    guest.clock.advance(2_000 * MS);
    connection.raw(TCP.ACK, connection.seq, [1]);
    connection.poll();
    expect(connection.reset).toBe(true);
  });

  it("goes through CLOSING when both sides close at once", () => {
    const control: EchoControl & { closed: string[] } = { backlog: 0, closed: [] };
    const guest = new TestGuest(echoHost(control));
    const connection = new GuestTcp(guest, { destination: "10.0.2.7", destinationPort: 7 });
    connection.connect();
    control.connection!.end(); // our FIN goes out ...
    connection.close(); // ... and crosses the guest's FIN, which does not acknowledge ours
    expect(control.connection!.state).toBe("CLOSING");
    connection.poll(); // the guest acknowledges our FIN
    expect(control.connection!.state).toBe("TIME_WAIT");
  });

  it("lets a new SYN for the same ports replace a connection in TIME_WAIT", () => {
    const guest = new TestGuest({ word: "hello" });
    const first = new GuestTcp(guest, {
      destination: "10.0.2.100",
      destinationPort: 80,
      sourcePort: 47000,
      isn: 100,
    });
    first.connect();
    first.write("GET /projects/microkit/tutorial/word HTTP/1.0\r\n\r\n");
    first.drain();
    first.close();
    first.poll();
    const second = new GuestTcp(guest, {
      destination: "10.0.2.100",
      destinationPort: 80,
      sourcePort: 47000,
      isn: 100000,
    });
    expect(second.connect()).toBe(true);
    second.write("GET /projects/microkit/tutorial/word HTTP/1.0\r\n\r\n");
    second.drain();
    expect(second.text().endsWith("hello")).toBe(true);
  });
});

describe("TCP loss, reordering and wrap", () => {
  it("recovers lost segments by timeout in virtual time", () => {
    const guest = new TestGuest();
    let index = 0;
    const connection = download(guest, 200_000, (c) => {
      c.drop = (segment) => segment.payload.length > 0 && ++index % 37 === 0;
    });
    expect(sha(body(connection, 200_000))).toBe(sha(patternBytes(200_000)));
    expect(guest.net.stats.tcp.retransmissions).toBeGreaterThan(0);
    // Retransmission waited for the clock: at least the 200 ms minimum timeout passed.
    expect(guest.clock.nowNs).toBeGreaterThanOrEqual(200 * MS);
  });

  it("fast-retransmits on three duplicate ACKs without waiting for the timer", () => {
    const guest = new TestGuest();
    let dropped = false;
    const connection = download(guest, 100_000, (c) => {
      c.acknowledgeOutOfOrder = true;
      c.drop = (segment) => {
        if (dropped || segment.payload.length === 0 || segment.seq < 20_000 + c.segments[0]!.seq)
          return false;
        dropped = true;
        return true;
      };
    });
    expect(sha(body(connection, 100_000))).toBe(sha(patternBytes(100_000)));
    expect(guest.net.stats.tcp.fastRetransmits).toBe(1);
    expect(guest.clock.nowNs).toBeLessThan(200 * MS);
  });

  it("queues the guest's out-of-order segments and delivers them in order, ignoring duplicates", () => {
    const guest = new TestGuest(echoHost());
    const connection = new GuestTcp(guest, { destination: "10.0.2.7", destinationPort: 7, isn: 5000 });
    connection.connect();
    const base = connection.seq;
    const bytes = (text: string) => Array.from(text, (c) => c.charCodeAt(0));
    connection.raw(TCP.ACK, base + 6, bytes("world!"));
    connection.raw(TCP.ACK, base + 3, bytes("lo "));
    connection.poll();
    expect(connection.text()).toBe("");
    connection.raw(TCP.ACK, base, bytes("hel"));
    connection.raw(TCP.ACK, base, bytes("hel"));
    connection.poll();
    expect(connection.text()).toBe("hello world!");
    expect(guest.net.stats.tcp.outOfOrder).toBe(2);
  });

  it("handles the guest's sequence numbers wrapping past 2^32", () => {
    const guest = new TestGuest(echoHost());
    const connection = new GuestTcp(guest, { destination: "10.0.2.7", destinationPort: 7, isn: 0xfffffe00 });
    connection.connect();
    const chunk = patternBytes(1000);
    for (let i = 0; i < 3; i++) {
      connection.write(chunk);
      connection.poll();
    }
    expect(connection.seq).toBeLessThan(0x1000);
    expect(connection.receivedLength).toBe(3000);
    expect(sha(connection.data())).toBe(sha(new Uint8Array([...chunk, ...chunk, ...chunk])));
  });

  it("handles its own sequence numbers wrapping past 2^32", () => {
    // Find a seed whose first initial sequence number lies just below the wrap.
    let seed = 0;
    while (seededRandom(seed)() < 0xffffffff - 150_000) seed++;
    const guest = new TestGuest({ seed });
    const connection = download(guest, 500_000);
    expect(connection.segments[0]!.seq).toBeGreaterThan(0xffffffff - 150_000);
    expect(connection.ack).toBeLessThan(500_000);
    expect(sha(body(connection, 500_000))).toBe(sha(patternBytes(500_000)));
  });
});

describe("TCP flow control", () => {
  it("holds data while the guest's window is zero, probes it, and resumes when it opens", () => {
    const guest = new TestGuest();
    const connection = new GuestTcp(guest, { destination: "10.0.2.100", destinationPort: 80, window: 0 });
    connection.connect();
    connection.write("GET /bytes/5000 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    connection.poll();
    expect(connection.receivedLength).toBe(0);
    guest.clock.advance(10_000 * MS);
    connection.poll(false);
    const probes = connection.segments.filter((s) => s.payload.length === 0 && s.flags === TCP.ACK);
    expect(probes.length).toBeGreaterThan(1);
    expect(connection.windowViolations).toBe(0);
    expect(connection.receivedLength).toBe(0);
    connection.window = 65535;
    connection.sendAck();
    expect(connection.drain()).toBe(true);
    expect(sha(body(connection, 5000))).toBe(sha(patternBytes(5000)));
  });

  it("advertises a window that shrinks with the service's backlog and reopens with an update", () => {
    const control: EchoControl = { backlog: 0 };
    const guest = new TestGuest(echoHost(control));
    const connection = new GuestTcp(guest, { destination: "10.0.2.7", destinationPort: 7, windowScale: 2 });
    connection.connect();
    control.backlog = 256 * 1024;
    // The right edge never moves left: the window shrinks by what the guest sends, until it is shut.
    const windows: number[] = [];
    let window = 65535;
    while (window > 0) {
      connection.write("y".repeat(Math.min(1000, window)));
      connection.poll();
      window = connection.segments.at(-1)!.window << 3;
      windows.push(window);
    }
    expect(windows.length).toBeGreaterThan(60);
    for (let i = 1; i < windows.length; i++) expect(windows[i]).toBeLessThan(windows[i - 1]!);
    // Data beyond the window is not accepted (the echo shows only what was).
    const before = connection.receivedLength;
    expect(before).toBeGreaterThanOrEqual(65535);
    connection.write("z".repeat(500));
    connection.poll();
    expect(connection.receivedLength).toBe(before);
    control.backlog = 0;
    const count = connection.segments.length;
    control.connection!.windowOpened();
    connection.poll();
    const update = connection.segments.slice(count).find((s) => s.payload.length === 0);
    expect(update!.window << 3).toBe(256 * 1024);
  });
});
