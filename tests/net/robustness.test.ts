// Guest input can be anything: thousands of random, truncated and mutated frames (and well-formed
// frames with random fields) never make the network throw, and it keeps working afterwards. Also:
// a NIC that answers from inside its receive callback never re-enters the network.
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/machine/backends/net/random.ts";
import { dhcpDatagram } from "./dhcp-client.ts";
import { createUserNetwork } from "../../src/machine/backends/net/user-network.ts";
import { TCP, arpRequest, decode, ethernet, icmpEcho, ipv4, tcp, udp } from "./frames.ts";
import { GATEWAY_MAC, GUEST_MAC, GuestTcp, ManualClock, TestGuest, TestHost } from "./guest.ts";

const MS = 1_000_000;

function validFrames(random: () => number): Uint8Array[] {
  const pick = <T>(items: readonly T[]): T => items[random() % items.length]!;
  const addresses = [
    "10.0.2.2",
    "10.0.2.3",
    "10.0.2.100",
    "10.0.2.15",
    "10.0.2.255",
    "255.255.255.255",
    "8.8.8.8",
  ];
  const bytes = (n: number) => Array.from({ length: n }, () => random() & 255);
  const http = Array.from("GET /bytes/3000 HTTP/1.1\r\nHost: t\r\n\r\n", (c) => c.charCodeAt(0));
  return [
    arpRequest(GUEST_MAC, "10.0.2.15", pick(addresses)),
    ethernet(
      GATEWAY_MAC,
      GUEST_MAC,
      0x0800,
      dhcpDatagram({ type: 1 + (random() % 8), xid: random(), clientMac: GUEST_MAC }),
    ),
    ethernet(
      GATEWAY_MAC,
      GUEST_MAC,
      0x0800,
      icmpEcho("10.0.2.15", pick(addresses), random() & 0xffff, 1, bytes(random() % 64)),
    ),
    ethernet(
      GATEWAY_MAC,
      GUEST_MAC,
      0x0800,
      udp(
        "10.0.2.15",
        random() & 0xffff,
        pick(addresses),
        pick([53, 67, 80, random() & 0xffff]),
        bytes(random() % 80),
      ),
    ),
    ethernet(
      GATEWAY_MAC,
      GUEST_MAC,
      0x0800,
      tcp("10.0.2.15", pick(["10.0.2.100", "10.0.2.3", "10.0.2.2"]), {
        sourcePort: 40000 + (random() % 4),
        destinationPort: pick([80, 53, 81]),
        seq: pick([1000, 1001, random()]),
        ack: random(),
        flags: random() & 0x3f,
        window: random() & 0xffff,
        mss: random() % 2 ? random() & 0xffff : undefined,
        windowScale: random() % 2 ? random() & 0xff : undefined,
        payload: random() % 2 ? http : bytes(random() % 200),
      }),
    ),
    ethernet(
      GATEWAY_MAC,
      GUEST_MAC,
      0x0800,
      ipv4("10.0.2.15", pick(addresses), random() & 0xff, bytes(random() % 40)),
    ),
  ];
}

function mutate(frame: Uint8Array, random: () => number): Uint8Array {
  switch (random() % 4) {
    case 0:
      return frame.subarray(0, random() % (frame.length + 1));
    case 1: {
      const copy = Uint8Array.from(frame);
      for (let i = 0, n = 1 + (random() % 4); i < n; i++) copy[random() % copy.length] = random() & 255;
      return copy;
    }
    case 2: {
      const longer = new Uint8Array(frame.length + (random() % 100));
      longer.set(frame);
      for (let i = frame.length; i < longer.length; i++) longer[i] = random() & 255;
      return longer;
    }
    default:
      return frame;
  }
}

describe("garbage from the guest", () => {
  it("survives 20000 random, truncated, mutated and well-formed-but-random frames, and still works", () => {
    const logged: string[] = [];
    const guest = new TestGuest({ log: (message) => logged.push(message), restrict: true });
    const random = seededRandom(2024);
    for (let i = 0; i < 20_000; i++) {
      let frame: Uint8Array;
      if (i % 5 === 0) frame = Uint8Array.from({ length: random() % 1600 }, () => random() & 255);
      else {
        const frames = validFrames(random);
        frame = mutate(frames[random() % frames.length]!, random);
      }
      expect(() => guest.send(frame)).not.toThrow();
      if (i % 50 === 0) guest.clock.advance((random() % 3000) * MS);
      guest.take();
    }
    guest.clock.advance(300_000 * MS);
    guest.take();
    expect(guest.net.stats.internalErrors).toBe(0);
    expect(logged.filter((line) => line.includes("internal error"))).toEqual([]);
    expect(guest.net.stats.malformed).toBeGreaterThan(1000);
    expect(guest.net.stats.framesFromGuest).toBe(20_000);
    // Everything still answers.
    guest.ping("10.0.2.2", 9, 9, [1, 2, 3]);
    expect(guest.take().map((frame) => frame.icmp?.type)).toEqual([0]);
    const connection = new GuestTcp(guest, {
      destination: "10.0.2.100",
      destinationPort: 80,
      sourcePort: 50000,
      isn: 77,
    });
    expect(connection.connect()).toBe(true);
    connection.write("GET /song HTTP/1.0\r\n\r\n");
    expect(connection.drain()).toBe(true);
    expect(connection.text()).toMatch(/^HTTP\/1\.1 200 OK/);
  });

  it("never throws on frames of every length from 0 to 100 bytes of each protocol header", () => {
    const guest = new TestGuest();
    const random = seededRandom(7);
    for (const frame of validFrames(random)) {
      for (let length = 0; length <= Math.min(frame.length, 100); length++)
        guest.send(frame.subarray(0, length));
    }
    expect(guest.net.stats.internalErrors).toBe(0);
  });
});

describe("a NIC that answers from inside its receive callback", () => {
  it("is never re-entered, and gets the frames in order", () => {
    const guest = new TestGuest();
    const request = Array.from("GET /bytes/200000 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", (c) =>
      c.charCodeAt(0),
    );
    const send = (flags: number, seq: number, ack: number, payload: number[] = []): void =>
      guest.sendIp(
        tcp("10.0.2.15", "10.0.2.100", { sourcePort: 40500, destinationPort: 80, seq, ack, flags, payload }),
      );
    let inside = false;
    let reentered = false;
    let ack = 0;
    let received = 0;
    let finished = false;
    const sequence: number[] = [];
    // The guest's whole TCP runs inside the receive callback: every segment is answered at once.
    guest.net.connect((frame) => {
      if (inside) reentered = true;
      inside = true;
      const t = decode(frame).tcp!;
      if (t.flags === (TCP.SYN | TCP.ACK)) {
        ack = (t.seq + 1) >>> 0;
        send(TCP.ACK, 1001, ack);
        send(TCP.ACK | TCP.PSH, 1001, ack, request);
      } else if (t.seq === ack && (t.payload.length > 0 || t.flags & TCP.FIN)) {
        sequence.push(t.seq);
        received += t.payload.length;
        ack = (ack + t.payload.length + (t.flags & TCP.FIN ? 1 : 0)) >>> 0;
        finished ||= (t.flags & TCP.FIN) !== 0;
        send(TCP.ACK, 1001 + request.length, ack);
      }
      inside = false;
    });
    send(TCP.SYN, 1000, 0);
    for (let i = 0; i < 100 && !finished; i++) guest.clock.step();
    expect(finished).toBe(true);
    expect(reentered).toBe(false);
    expect(received).toBeGreaterThan(200_000);
    for (let i = 1; i < sequence.length; i++)
      expect((sequence[i]! - sequence[i - 1]!) | 0).toBeGreaterThan(0);
    expect(guest.net.stats.tcp.retransmissions).toBe(0);
  });

  it("drops frames (counted) while no receiver is connected", () => {
    const net = createUserNetwork({ clock: new ManualClock(), host: new TestHost() });
    const ping = ethernet(GATEWAY_MAC, GUEST_MAC, 0x0800, icmpEcho("10.0.2.15", "10.0.2.2", 1, 1, [1]));
    net.transmit(ping);
    expect(net.stats.undeliverable).toBe(1);
    const received: Uint8Array[] = [];
    net.connect((frame) => received.push(frame));
    net.transmit(ping);
    expect(received).toHaveLength(1);
  });

  it("does not deliver a frame twice when the receiver throws", () => {
    const net = createUserNetwork({ clock: new ManualClock(), host: new TestHost() });
    const received: number[] = [];
    net.connect((frame) => {
      received.push(frame[frame.length - 1]!);
      if (received.length === 1) throw new Error("NIC trouble");
    });
    const ping = (last: number) =>
      net.transmit(ethernet(GATEWAY_MAC, GUEST_MAC, 0x0800, icmpEcho("10.0.2.15", "10.0.2.2", 1, 1, [last])));
    expect(() => ping(1)).toThrow("NIC trouble");
    ping(2);
    expect(received).toEqual([1, 2]);
  });

  it("sends nothing once closed", () => {
    const guest = new TestGuest();
    const connection = new GuestTcp(guest, { destination: "10.0.2.100", destinationPort: 80 });
    connection.connect();
    connection.write("GET /bytes/100000 HTTP/1.1\r\nHost: t\r\n\r\n");
    guest.net.close();
    guest.take();
    guest.clock.advance(100_000 * MS);
    guest.ping("10.0.2.2", 1, 1, [1]);
    expect(guest.take()).toEqual([]);
    expect(guest.clock.pending).toBe(0);
  });
});
