// The DNS server at 10.0.2.3: embedded names, NXDOMAIN, the host's resolver when allowed, SERVFAIL
// on its failure, and malformed queries answered or dropped without harm.
import { describe, expect, it } from "vitest";
import type { OutsideAnswer } from "../../src/machine/backends/net/dns.ts";
import type { HostSockets } from "../../src/machine/backends/net/host-sockets.ts";
import { ip, ipText } from "./frames.ts";
import { TestGuest, TestHost } from "./guest.ts";

function query(name: string, type = 1, id = 0x4242, flags = 0x0100): number[] {
  const bytes = [id >>> 8, id & 255, flags >>> 8, flags & 255, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const label of name.split(".")) bytes.push(label.length, ...Array.from(label, (c) => c.charCodeAt(0)));
  bytes.push(0, type >>> 8, type & 255, 0, 1);
  return bytes;
}

interface Answer {
  id: number;
  flags: number;
  rcode: number;
  questions: number;
  answers: { type: number; ttl: number; data: Uint8Array }[];
}

function parseAnswer(bytes: Uint8Array): Answer {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 12;
  const questions = view.getUint16(4);
  for (let q = 0; q < questions; q++) {
    while (bytes[at] !== 0) at += bytes[at]! + 1;
    at += 5;
  }
  const answers = [];
  for (let a = 0; a < view.getUint16(6); a++) {
    expect(view.getUint16(at)).toBe(0xc00c); // a pointer to the question's name
    const length = view.getUint16(at + 10);
    answers.push({
      type: view.getUint16(at + 2),
      ttl: view.getUint32(at + 6),
      data: bytes.slice(at + 12, at + 12 + length),
    });
    at += 12 + length;
  }
  expect(at).toBe(bytes.length);
  return {
    id: view.getUint16(0),
    flags: view.getUint16(2),
    rcode: view.getUint16(2) & 15,
    questions,
    answers,
  };
}

function ask(guest: TestGuest, bytes: number[], sourcePort = 33333): Answer | undefined {
  guest.udp("10.0.2.3", sourcePort, 53, bytes);
  const frames = guest.take();
  if (frames.length === 0) return undefined;
  expect(frames).toHaveLength(1);
  const frame = frames[0]!;
  expect(frame.ip).toMatchObject({ source: "10.0.2.3", destination: "10.0.2.15" });
  expect(frame.udp).toMatchObject({ sourcePort: 53, destinationPort: sourcePort, checksumOk: true });
  return parseAnswer(frame.udp!.payload);
}

const address = (data: Uint8Array): string => ipText(new DataView(data.buffer, data.byteOffset).getUint32(0));

/** Host sockets whose resolver answers from a table (other calls are not expected). */
function fakeResolver(table: Record<string, OutsideAnswer>, pending: (() => void)[]): () => HostSockets {
  return () => ({
    connect: () => {
      throw new Error("no sockets in this test");
    },
    listen: () => Promise.reject(new Error("no sockets in this test")),
    lookup: (name, done) => pending.push(() => done(table[name] ?? { error: "not-found" })),
  });
}

describe("DNS", () => {
  it("answers trustworthy.systems with 10.0.2.100, in any letter case, echoing id and question", () => {
    const guest = new TestGuest();
    const answer = ask(guest, query("Trustworthy.Systems", 1, 0xbeef))!;
    expect(answer.id).toBe(0xbeef);
    expect(answer.flags & 0x8000).toBe(0x8000); // a response
    expect(answer.flags & 0x0100).toBe(0x0100); // RD copied
    expect(answer.flags & 0x0080).toBe(0x0080); // RA
    expect(answer.rcode).toBe(0);
    expect(answer.questions).toBe(1);
    expect(answer.answers).toHaveLength(1);
    expect(answer.answers[0]!.type).toBe(1);
    expect(address(answer.answers[0]!.data)).toBe("10.0.2.100");
    expect(guest.net.stats.dnsQueries).toBe(1);
  });

  it("gives an empty NOERROR answer for other record types of an embedded name (AAAA)", () => {
    const guest = new TestGuest();
    const answer = ask(guest, query("trustworthy.systems", 28))!;
    expect(answer.rcode).toBe(0);
    expect(answer.answers).toEqual([]);
  });

  it("answers the reverse name of an embedded address", () => {
    const guest = new TestGuest();
    const answer = ask(guest, query("100.2.0.10.in-addr.arpa", 12))!;
    expect(answer.answers).toHaveLength(1);
    expect(Array.from(answer.answers[0]!.data)).toEqual([
      11,
      ...Array.from("trustworthy", (c) => c.charCodeAt(0)),
      7,
      ...Array.from("systems", (c) => c.charCodeAt(0)),
      0,
    ]);
  });

  it("answers NXDOMAIN for other names unless resolving outside is on", () => {
    const guest = new TestGuest();
    const answer = ask(guest, query("example.com"))!;
    expect(answer.rcode).toBe(3);
    expect(answer.answers).toEqual([]);
  });

  it("resolves other names with the host's resolver when allowed, and answers SERVFAIL when it fails", () => {
    const pending: (() => void)[] = [];
    const guest = new TestGuest({
      resolveOutside: true,
      sockets: fakeResolver(
        {
          "example.com": { addresses: [ip("93.184.216.34"), ip("93.184.216.35")] },
          "broken.example": { error: "failure" },
        },
        pending,
      ),
    });
    expect(ask(guest, query("example.com", 1, 1))).toBeUndefined();
    expect(ask(guest, query("broken.example", 1, 2))).toBeUndefined();
    expect(ask(guest, query("missing.example", 1, 3))).toBeUndefined();
    // The answers come when the host's resolver does (as host events).
    pending.splice(0).forEach((deliver) => deliver());
    const answers = guest.take().map((frame) => parseAnswer(frame.udp!.payload));
    expect(answers.map((a) => [a.id, a.rcode])).toEqual([
      [1, 0],
      [2, 2],
      [3, 3],
    ]);
    expect(answers[0]!.answers.map((a) => address(a.data))).toEqual(["93.184.216.34", "93.184.216.35"]);
    expect(answers[0]!.answers[0]!.ttl).toBe(60);
  });

  it("asks the host's own resolver (through the event loop) when resolving outside is on", async () => {
    const guest = new TestGuest({ resolveOutside: true }, undefined, new TestHost(true));
    guest.udp("10.0.2.3", 33333, 53, query("localhost", 1, 0x1111));
    expect(guest.received).toEqual([]);
    expect(guest.host.openSources).toBe(1);
    const deadline = Date.now() + 10_000;
    while (guest.received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const answer = parseAnswer(guest.take()[0]!.udp!.payload);
    expect(answer.id).toBe(0x1111);
    expect(answer.rcode).toBe(0);
    expect(answer.answers.map((a) => address(a.data))).toContain("127.0.0.1");
    expect(guest.host.openSources).toBe(0);
  });

  it("answers FORMERR for two questions and NOTIMP for another opcode; drops responses and scraps", () => {
    const guest = new TestGuest();
    const two = query("a.b");
    two[5] = 2;
    expect(ask(guest, two)!.rcode).toBe(1);
    expect(ask(guest, query("a.b", 1, 7, 0x2800))!.rcode).toBe(4); // opcode 5 (UPDATE)
    const pointer = query("x");
    pointer[12] = 0xc0;
    expect(ask(guest, pointer)!.rcode).toBe(1);
    expect(ask(guest, query("trustworthy.systems", 1, 9, 0x8100))).toBeUndefined(); // a response
    expect(ask(guest, [1, 2, 3])).toBeUndefined();
    expect(ask(guest, query("trustworthy.systems").slice(0, 20))!.rcode).toBe(1);
    expect(guest.net.stats.internalErrors).toBe(0);
  });
});
