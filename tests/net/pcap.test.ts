// Captures and determinism: the pcap file holds every frame both ways with the machine clock's
// timestamps, and the same guest frames at the same virtual times give the same replies, byte for byte.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dhcpDatagram } from "./dhcp-client.ts";
import { arpRequest, decode } from "./frames.ts";
import { GUEST_MAC, GuestTcp, TestGuest } from "./guest.ts";

const MS = 1_000_000;

interface PcapRecord {
  seconds: number;
  microseconds: number;
  original: number;
  frame: Uint8Array;
}

function parsePcap(bytes: Uint8Array): { header: number[]; records: PcapRecord[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = [
    view.getUint32(0, true),
    view.getUint16(4, true),
    view.getUint16(6, true),
    view.getInt32(8, true),
    view.getUint32(12, true),
    view.getUint32(16, true),
    view.getUint32(20, true),
  ];
  const records: PcapRecord[] = [];
  let at = 24;
  while (at < bytes.length) {
    const included = view.getUint32(at + 8, true);
    records.push({
      seconds: view.getUint32(at, true),
      microseconds: view.getUint32(at + 4, true),
      original: view.getUint32(at + 12, true),
      frame: bytes.slice(at + 16, at + 16 + included),
    });
    at += 16 + included;
  }
  expect(at).toBe(bytes.length);
  return { header, records };
}

/** A little of everything a booting guest does, at fixed virtual times; returns every frame both ways. */
function session(guest: TestGuest): Uint8Array[] {
  const wire: Uint8Array[] = [];
  const send = guest.net.transmit.bind(guest.net);
  guest.net.transmit = (frame) => {
    wire.push(Uint8Array.from(frame));
    send(frame);
  };
  guest.net.connect((frame) => {
    wire.push(Uint8Array.from(frame));
    guest.received.push(decode(frame));
  });
  guest.clock.advance(1500 * MS);
  guest.sendIp(dhcpDatagram({ type: 1, xid: 1, clientMac: GUEST_MAC }), "ff:ff:ff:ff:ff:ff");
  guest.sendIp(
    dhcpDatagram({ type: 3, xid: 1, clientMac: GUEST_MAC, requested: "10.0.2.15" }),
    "ff:ff:ff:ff:ff:ff",
  );
  guest.clock.advance(3 * MS);
  guest.send(arpRequest(GUEST_MAC, "10.0.2.15", "10.0.2.2"));
  guest.ping("10.0.2.2", 5, 1, [1, 2, 3, 4]);
  guest.clock.advance(1000 * MS);
  guest.udp("10.0.2.3", 40000, 53, [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 120, 0, 0, 1, 0, 1]);
  guest.take();
  for (const path of ["/projects/microkit/tutorial/word", "/bytes/50000"]) {
    const connection = new GuestTcp(guest, {
      destination: "10.0.2.100",
      destinationPort: 80,
      sourcePort: 41000 + path.length,
    });
    connection.connect();
    guest.clock.advance(2 * MS);
    connection.write(`GET ${path} HTTP/1.1\r\nHost: trustworthy.systems\r\nConnection: close\r\n\r\n`);
    expect(connection.drain()).toBe(true);
    connection.close();
  }
  guest.clock.advance(120_000 * MS);
  return wire;
}

describe("pcap capture", () => {
  it("writes a standard capture file with every frame both ways, stamped with virtual time", () => {
    const path = join(mkdtempSync(join(tmpdir(), "virtkit-pcap-")), "net.pcap");
    const guest = new TestGuest({ pcap: path });
    const wire = session(guest);
    guest.net.close();
    const { header, records } = parsePcap(readFileSync(path));
    expect(header).toEqual([0xa1b2c3d4, 2, 4, 0, 0, 262144, 1]);
    expect(records.map((record) => Buffer.from(record.frame).toString("hex"))).toEqual(
      wire.map((frame) => Buffer.from(frame).toString("hex")),
    );
    expect(records.length).toBe(guest.net.stats.framesFromGuest + guest.net.stats.framesToGuest);
    for (const record of records) expect(record.original).toBe(record.frame.length);
    // The first frame was sent at 1.5 s of virtual time; times never go backwards.
    expect([records[0]!.seconds, records[0]!.microseconds]).toEqual([1, 500000]);
    const times = records.map((record) => record.seconds * 1e6 + record.microseconds);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]!);
  });

  it("writes to a caller's sink", () => {
    const chunks: Uint8Array[] = [];
    const guest = new TestGuest({ pcap: { write: (bytes) => chunks.push(bytes) } });
    guest.ping("10.0.2.2", 1, 1, [9]);
    const all = Buffer.concat(chunks);
    const { records } = parsePcap(all);
    expect(records).toHaveLength(2);
    expect(records[1]!.frame[12]).toBe(0x08);
  });
});

describe("determinism", () => {
  it("gives the same frames and the same capture for the same guest frames at the same times", () => {
    const run = (seed?: number) => {
      const chunks: Uint8Array[] = [];
      const guest = new TestGuest({
        pcap: { write: (bytes) => chunks.push(bytes) },
        ...(seed === undefined ? {} : { seed }),
      });
      const wire = session(guest);
      return { wire: Buffer.concat(wire).toString("hex"), pcap: Buffer.concat(chunks).toString("hex") };
    };
    const first = run();
    const second = run();
    expect(second.wire).toBe(first.wire);
    expect(second.pcap).toBe(first.pcap);
    // Another seed changes the initial sequence numbers, so the frames differ.
    expect(run(99).wire).not.toBe(first.wire);
  });
});
