// Outbound NAT and port forwards with real host sockets on the loopback: the guest's SYN completes
// only once the host connection does, refusals become resets, data and half-closes pass both ways,
// and flow control holds the host socket while the guest is full (checked with a scripted socket).
import { createServer, connect, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type {
  HostSocket,
  HostSocketEvents,
  HostSockets,
} from "../../src/machine/backends/net/host-sockets.ts";
import { parsePortForward } from "../../src/machine/backends/net/port-forward.ts";
import { TCP, arpReply } from "./frames.ts";
import { GATEWAY_MAC, GUEST_MAC, GuestTcp, ManualClock, TestGuest, TestHost } from "./guest.ts";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

/** Waits (letting Node's I/O run) until `ready` holds. */
async function until(ready: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

async function listen(onConnection: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    // Closing the network resets its sockets; that is expected here.
    socket.on("error", () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => server.close());
  return { server, port: (server.address() as { port: number }).port };
}

function liveGuest(options: ConstructorParameters<typeof TestGuest>[0] = {}): TestGuest {
  const guest = new TestGuest(options, new ManualClock(), new TestHost(true));
  cleanups.push(() => guest.net.close());
  return guest;
}

describe("outbound NAT", () => {
  it("connects 10.0.2.2:port to the host's loopback, passing data and FINs both ways", async () => {
    const serverSide: { socket?: Socket; data: string; ended: boolean } = { data: "", ended: false };
    const { port } = await listen((socket) => {
      serverSide.socket = socket;
      socket.on("data", (chunk) => (serverSide.data += chunk.toString()));
      socket.on("end", () => (serverSide.ended = true));
    });
    const guest = liveGuest();
    const connection = new GuestTcp(guest, { destination: "10.0.2.2", destinationPort: port });
    // No SYN-ACK until the host connection is up.
    expect(connection.connect()).toBe(false);
    expect(connection.segments).toEqual([]);
    await until(() => (connection.poll(), connection.established), "the SYN-ACK");
    expect(guest.host.openSources).toBe(1);
    connection.write("hello host");
    await until(() => serverSide.data === "hello host", "the host to get the guest's data");
    serverSide.socket!.write("hello guest");
    await until(
      () => (connection.poll(), connection.text() === "hello guest"),
      "the guest to get the host's data",
    );
    connection.close();
    await until(() => serverSide.ended, "the host to see the guest's FIN");
    serverSide.socket!.end();
    await until(() => (connection.poll(), connection.finReceived), "the guest to see the host's FIN");
    await until(() => guest.host.openSources === 0, "the host socket to close");
    expect(guest.net.stats.natConnections).toBe(1);
  });

  it("carries 3 MB from the host to a guest with a small window, in order", async () => {
    const payload = Buffer.alloc(3_000_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + (i >>> 10)) & 255;
    const { port } = await listen((socket) => socket.end(payload));
    const guest = liveGuest();
    const connection = new GuestTcp(guest, { destination: "10.0.2.2", destinationPort: port, window: 16384 });
    connection.connect();
    await until(() => (connection.poll(), connection.finReceived), "the whole transfer", 60_000);
    expect(connection.windowViolations).toBe(0);
    expect(Buffer.from(connection.data()).equals(payload)).toBe(true);
  });

  it("answers the SYN with a reset when the host refuses the connection", async () => {
    const { server, port } = await listen(() => {});
    await new Promise((resolve) => server.close(resolve));
    const guest = liveGuest();
    const connection = new GuestTcp(guest, { destination: "10.0.2.2", destinationPort: port, isn: 41 });
    connection.connect();
    await until(() => (connection.poll(), connection.reset), "the reset");
    expect(connection.segments[0]).toMatchObject({ flags: TCP.RST | TCP.ACK, ack: 42 });
    await until(() => guest.host.openSources === 0, "the socket's source to close");
  });

  it("resets the host connection when the guest resets", async () => {
    let closed = false;
    const { port } = await listen((socket) => {
      socket.on("error", () => {});
      socket.on("close", () => (closed = true));
    });
    const guest = liveGuest();
    const connection = new GuestTcp(guest, { destination: "10.0.2.2", destinationPort: port });
    connection.connect();
    await until(() => (connection.poll(), connection.established), "the SYN-ACK");
    connection.sendReset();
    await until(() => closed, "the host socket to close");
  });

  it("drops connections when restricted, and says so", async () => {
    const logged: string[] = [];
    const guest = liveGuest({ restrict: true, log: (line) => logged.push(line) });
    const connection = new GuestTcp(guest, { destination: "10.0.2.2", destinationPort: 22 });
    connection.connect();
    connection.connect();
    expect(connection.segments).toEqual([]);
    expect(guest.net.stats.restricted).toBe(2);
    expect(logged).toEqual([
      "user network: restricted: dropped the guest's connection to 10.0.2.2:22 (NAT is off)",
    ]);
  });
});

/** A host socket a test drives by hand, recording what the network does to it. */
class ScriptedSocket implements HostSocket {
  events: HostSocketEvents | undefined;
  written: Uint8Array[] = [];
  paused = false;
  pauses = 0;
  queued = 0;
  ended = false;
  destroyed = false;
  write(bytes: Uint8Array): boolean {
    this.written.push(bytes);
    this.queued += bytes.length;
    return this.queued < 65536;
  }
  get buffered(): number {
    return this.queued;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  pause(): void {
    this.paused = true;
    this.pauses++;
  }
  resume(): void {
    this.paused = false;
  }
  setEvents(events: HostSocketEvents): void {
    this.events = events;
  }
}

function scriptedSockets(sockets: ScriptedSocket[]): () => HostSockets {
  return () => ({
    connect: () => {
      const socket = new ScriptedSocket();
      sockets.push(socket);
      return socket;
    },
    listen: () => Promise.reject(new Error("not in this test")),
    lookup: () => {},
  });
}

describe("NAT flow control", () => {
  it("pauses the host socket while the guest's side is full and resumes it as the guest catches up", () => {
    const sockets: ScriptedSocket[] = [];
    const guest = new TestGuest({ sockets: scriptedSockets(sockets) });
    const connection = new GuestTcp(guest, { destination: "192.0.2.80", destinationPort: 80, window: 65535 });
    connection.connect();
    const socket = sockets[0]!;
    socket.events!.connected();
    connection.poll();
    expect(connection.established).toBe(true);
    // The host sends 2 MB at once; the guest reads nothing yet.
    const chunk = new Uint8Array(65536).fill(7);
    let pushed = 0;
    for (; pushed < 32 && !socket.paused; pushed++) socket.events!.data(chunk);
    expect(socket.paused).toBe(true);
    // Paused at the send buffer's high-water mark (512 KiB), not after everything.
    expect(pushed).toBe(8);
    // Now the guest reads everything it is sent; the socket resumes once the backlog drains.
    for (let i = 0; i < 1000 && socket.paused; i++) {
      connection.poll();
      if (socket.paused && guest.received.length === 0) guest.clock.step();
    }
    expect(socket.paused).toBe(false);
    expect(connection.windowViolations).toBe(0);
    // Resumed once the buffer fell to its low-water mark (128 KiB).
    expect(connection.receivedLength).toBeGreaterThanOrEqual(pushed * 65536 - 128 * 1024);
    expect(socket.pauses).toBe(1);
  });

  it("closes the window the guest sees while the host socket's queue is full, and reopens it on drain", () => {
    const sockets: ScriptedSocket[] = [];
    const guest = new TestGuest({ sockets: scriptedSockets(sockets) });
    const connection = new GuestTcp(guest, {
      destination: "192.0.2.80",
      destinationPort: 80,
      windowScale: 0,
    });
    connection.connect();
    sockets[0]!.events!.connected();
    connection.poll();
    const socket = sockets[0]!;
    socket.queued = 1 << 30; // the host peer reads nothing
    let window = 1;
    for (let i = 0; i < 400 && window > 0; i++) {
      connection.write(new Uint8Array(1000));
      guest.clock.advance(50_000_000);
      connection.poll(false);
      window = connection.segments.at(-1)!.window;
    }
    expect(window).toBe(0);
    const accepted = socket.written.reduce((sum, bytes) => sum + bytes.length, 0);
    expect(accepted).toBeGreaterThanOrEqual(65535);
    expect(accepted).toBeLessThan(65535 + 1000 * 8);
    socket.queued = 0;
    const count = connection.segments.length;
    socket.events!.drain();
    connection.poll(false);
    expect(connection.segments.slice(count).at(-1)!.window << 3).toBe(256 * 1024);
  });

  it("passes a host half-close to the guest and a failure as a reset", () => {
    const sockets: ScriptedSocket[] = [];
    const guest = new TestGuest({ sockets: scriptedSockets(sockets) });
    const first = new GuestTcp(guest, { destination: "192.0.2.80", destinationPort: 80, sourcePort: 40001 });
    first.connect();
    sockets[0]!.events!.connected();
    first.poll();
    sockets[0]!.events!.data(new TextEncoder().encode("bye"));
    sockets[0]!.events!.end();
    first.poll();
    expect(first.text()).toBe("bye");
    expect(first.finReceived).toBe(true);
    const second = new GuestTcp(guest, { destination: "192.0.2.80", destinationPort: 80, sourcePort: 40002 });
    second.connect();
    sockets[1]!.events!.connected();
    second.poll();
    sockets[1]!.events!.closed(true);
    second.poll();
    expect(second.reset).toBe(true);
  });
});

describe("port forwards", () => {
  it("parses the command line's tcp:HOSTPORT:GUESTPORT", () => {
    expect(parsePortForward("tcp:8080:80")).toEqual({ hostPort: 8080, guestPort: 80 });
    expect(parsePortForward("tcp:0.0.0.0:2222:22")).toEqual({
      hostAddress: "0.0.0.0",
      hostPort: 2222,
      guestPort: 22,
    });
    expect(() => parsePortForward("udp:1:2")).toThrow(/expected tcp:HOSTPORT:GUESTPORT/);
    expect(() => liveGuest({ forwards: [{ hostPort: 70000, guestPort: 80 }] })).toThrow(
      /hostPort must be 0-65535/,
    );
  });

  it("connects a host client to the guest's port from 10.0.2.2, asking ARP for the guest first", async () => {
    const guest = liveGuest({ forwards: [{ hostPort: 0, guestPort: 8080 }] });
    const [bound] = await guest.net.ready;
    expect(bound).toMatchObject({ hostAddress: "127.0.0.1", guestAddress: "10.0.2.15", guestPort: 8080 });
    expect(guest.host.openSources).toBe(1);
    const client = connect({ host: "127.0.0.1", port: bound!.hostPort, allowHalfOpen: true });
    let clientData = "";
    let clientEnded = false;
    client.on("error", () => {});
    client.on("data", (chunk) => (clientData += chunk.toString()));
    client.on("end", () => (clientEnded = true));
    cleanups.push(() => client.destroy());
    // The network does not know the guest's MAC yet: it asks.
    await until(() => guest.received.some((frame) => frame.arp?.operation === 1), "an ARP request");
    const request = guest.take().find((frame) => frame.arp)!;
    expect(request.arp).toMatchObject({
      senderIp: "10.0.2.2",
      targetIp: "10.0.2.15",
      senderMac: GATEWAY_MAC,
    });
    guest.send(arpReply(GUEST_MAC, "10.0.2.15", GATEWAY_MAC, "10.0.2.2"));
    const synFrame = guest.take().find((frame) => frame.tcp)!;
    expect(synFrame.ip).toMatchObject({ source: "10.0.2.2", destination: "10.0.2.15" });
    expect(synFrame.tcp).toMatchObject({ flags: TCP.SYN, destinationPort: 8080, mss: 1460, windowScale: 3 });
    const connection = GuestTcp.accept(guest, "10.0.2.2", synFrame.tcp!);
    client.write("from the host");
    await until(
      () => (connection.poll(), connection.text() === "from the host"),
      "the guest to get the data",
    );
    connection.write("from the guest");
    await until(() => clientData === "from the guest", "the host client to get the data");
    connection.close();
    await until(() => clientEnded, "the client to see the guest's FIN");
    client.end();
    await until(() => (connection.poll(), connection.finReceived), "the guest to see the client's FIN");
    expect(guest.net.stats.forwardedConnections).toBe(1);
  });

  it("closes the host client when the guest refuses the connection", async () => {
    const guest = liveGuest({ forwards: [{ hostPort: 0, guestPort: 9 }] });
    guest.announce();
    const [bound] = await guest.net.ready;
    const client = connect({ host: "127.0.0.1", port: bound!.hostPort });
    let closed = false;
    client.on("error", () => {});
    client.on("close", () => (closed = true));
    await until(() => guest.received.some((frame) => frame.tcp), "the SYN");
    const syn = guest.take().find((frame) => frame.tcp)!.tcp!;
    const refusal = new GuestTcp(guest, {
      destination: "10.0.2.2",
      destinationPort: syn.sourcePort,
      sourcePort: 9,
    });
    refusal.ack = (syn.seq + 1) >>> 0;
    refusal.raw(TCP.RST | TCP.ACK, 0, []);
    await until(() => closed, "the host client to close");
  });

  it("reports a port that cannot be bound through ready", async () => {
    const { port } = await listen(() => {});
    const logged: string[] = [];
    const guest = liveGuest({
      forwards: [{ hostPort: port, guestPort: 80 }],
      log: (line) => logged.push(line),
    });
    await expect(guest.net.ready).rejects.toThrow(/EADDRINUSE/);
    await until(() => logged.length > 0, "the log line");
    expect(logged[0]).toContain("port forward failed");
  });
});
