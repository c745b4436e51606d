// The embedded web server at trustworthy.systems over the network's TCP: the tutorial's word,
// libvmm's song, multi-megabyte /bytes/<N>, HTTP/1.0 and 1.1 connection handling.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { patternBytes } from "../../src/machine/backends/net/byte-pattern.ts";
import { SONG } from "../../src/machine/backends/net/trustworthy-systems.ts";
import { WORDS } from "../../src/machine/backends/net/word-service.ts";
import { GuestTcp, TestGuest } from "./guest.ts";

let nextPort = 41000;

/** One request on a fresh connection; returns the raw response once the server closes. */
function fetchRaw(
  guest: TestGuest,
  request: string,
  options: Partial<ConstructorParameters<typeof GuestTcp>[1]> = {},
): GuestTcp {
  const connection = new GuestTcp(guest, {
    destination: "10.0.2.100",
    destinationPort: 80,
    sourcePort: nextPort++,
    ...options,
  });
  expect(connection.connect()).toBe(true);
  connection.write(request);
  expect(connection.drain()).toBe(true);
  // After the guest's ACK of the FIN nothing more comes: exactly one FIN, never a second.
  connection.poll();
  expect(connection.segments.filter((segment) => segment.flags & 1)).toHaveLength(1);
  return connection;
}

function get(
  guest: TestGuest,
  path: string,
  extra = "Connection: close\r\n",
): { head: string; body: string } {
  const text = fetchRaw(guest, `GET ${path} HTTP/1.1\r\nHost: trustworthy.systems\r\n${extra}\r\n`).text();
  const split = text.indexOf("\r\n\r\n");
  return { head: text.slice(0, split), body: text.slice(split + 4) };
}

/** The same generator as documented in byte-pattern.ts, written out again. */
function expectedPattern(length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = 0x2545f491;
  for (let i = 0; i < length; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    for (let k = 0; k < 4 && i + k < length; k++) out[i + k] = (x >>> (8 * k)) & 0xff;
  }
  return out;
}

/** Compares large arrays quickly (a deep equality assertion on megabytes is slow). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

describe("trustworthy.systems over HTTP", () => {
  it("serves a five-letter word, a different one for each request, the same sequence for the same seed", () => {
    const words = (seed?: number): string[] => {
      const guest = new TestGuest(seed === undefined ? {} : { wordSeed: seed });
      return Array.from({ length: 8 }, () => {
        const { head, body } = get(guest, "/projects/microkit/tutorial/word");
        expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
        expect(head).toContain("\r\nContent-Length: 5");
        expect(head).toContain("\r\nConnection: close");
        expect(body).toMatch(/^[a-z]{5}$/);
        expect(WORDS).toContain(body);
        return body;
      });
    };
    const first = words();
    for (let i = 1; i < first.length; i++) expect(first[i]).not.toBe(first[i - 1]);
    expect(words()).toEqual(first);
    expect(words(12345)).not.toEqual(first);
  });

  it("serves the fixed word when one is given, and rejects a word that is not five letters", () => {
    const guest = new TestGuest({ word: "hello" });
    expect(get(guest, "/projects/microkit/tutorial/word").body).toBe("hello");
    expect(get(guest, "/projects/microkit/tutorial/word").body).toBe("hello");
    expect(() => new TestGuest({ word: "Hello" })).toThrow(/exactly five lower-case letters a-z.*"Hello"/);
    expect(() => new TestGuest({ word: "hell" })).toThrow(/five lower-case letters/);
  });

  it("serves the song, answers HEAD without a body, 404 for unknown paths, 501 for other methods", () => {
    const guest = new TestGuest();
    expect(get(guest, "/song").body).toBe(SONG);
    expect(SONG.trimEnd()).not.toContain("\n");
    const head = fetchRaw(guest, "HEAD /song HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").text();
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head).toContain(`Content-Length: ${SONG.length}\r\n`);
    expect(head.endsWith("\r\n\r\n")).toBe(true);
    const missing = get(guest, "/nothing/here");
    expect(missing.head).toMatch(/^HTTP\/1\.1 404 Not Found/);
    expect(get(guest, "/bytes/abc").head).toMatch(/^HTTP\/1\.1 404/);
    const post = fetchRaw(guest, "POST /song HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc").text();
    expect(post).toMatch(/^HTTP\/1\.1 501 Not Implemented/);
    const bad = fetchRaw(guest, "GARBAGE\r\n\r\n").text();
    expect(bad).toMatch(/^HTTP\/1\.1 400 Bad Request/);
  });

  it("keeps an HTTP/1.1 connection open for pipelined requests and closes when the guest does", () => {
    const guest = new TestGuest({ word: "crane" });
    const connection = new GuestTcp(guest, {
      destination: "10.0.2.100",
      destinationPort: 80,
      sourcePort: 40001,
    });
    expect(connection.connect()).toBe(true);
    connection.write(
      "GET /song HTTP/1.1\r\nHost: t\r\n\r\nGET /projects/microkit/tutorial/word HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    connection.poll();
    const text = connection.text();
    expect(text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
    expect(text).not.toContain("Connection: close");
    expect(text.endsWith("\r\n\r\ncrane")).toBe(true);
    expect(connection.finReceived).toBe(false);
    // The guest closes first: the server answers with its own FIN (CLOSE_WAIT, then LAST_ACK).
    connection.close();
    connection.poll();
    expect(connection.finReceived).toBe(true);
    // Once our last ACK arrived the connection is gone: anything more gets a reset.
    connection.raw(0x10, connection.seq, [1]);
    connection.poll();
    expect(connection.reset).toBe(true);
  });

  it("closes an HTTP/1.0 connection after the response unless asked to keep it alive", () => {
    const guest = new TestGuest();
    const closed = fetchRaw(guest, "GET /song HTTP/1.0\r\n\r\n").text();
    expect(closed).toContain("Connection: close");
    const connection = new GuestTcp(guest, {
      destination: "10.0.2.100",
      destinationPort: 80,
      sourcePort: 40002,
    });
    connection.connect();
    connection.write("GET /song HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    connection.poll();
    expect(connection.text()).toContain("Connection: keep-alive");
    expect(connection.finReceived).toBe(false);
  });

  it("serves routes and hosts added through the options", () => {
    const guest = new TestGuest({
      routes: { "/song": () => ({ body: "replaced\n" }) },
      hosts: [{ name: "example.test", routes: { "/": (request) => ({ body: `q=${request.query}` }) } }],
    });
    expect(get(guest, "/song").body).toBe("replaced\n");
    const other = new GuestTcp(guest, { destination: "10.0.2.101", destinationPort: 80, sourcePort: 40003 });
    other.connect();
    other.write("GET /?a=1 HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n");
    other.drain();
    expect(other.text().endsWith("\r\n\r\nq=a=1")).toBe(true);
  });

  it("answers 500 when a route throws, and keeps serving", () => {
    const logged: string[] = [];
    const guest = new TestGuest({
      log: (message) => logged.push(message),
      routes: {
        "/boom": () => {
          throw new Error("kaboom");
        },
      },
    });
    expect(get(guest, "/boom").head).toMatch(/^HTTP\/1\.1 500/);
    expect(logged.join("\n")).toContain("kaboom");
    expect(get(guest, "/song").body).toBe(SONG);
    expect(guest.net.stats.internalErrors).toBe(0);
  });
});

describe("/bytes/<N>", () => {
  it("documents a generator the test can recompute", () => {
    expect(sameBytes(patternBytes(4099), expectedPattern(4099))).toBe(true);
    expect(Array.from(patternBytes(8))).toEqual(Array.from(expectedPattern(8)));
  });

  it("streams 4 MB within the guest's window, byte for byte, without window scaling", () => {
    const guest = new TestGuest();
    const n = 4_000_000;
    const connection = fetchRaw(guest, `GET /bytes/${n} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`, {
      window: 65535,
    });
    const data = connection.data();
    const text = new TextDecoder("latin1").decode(data.subarray(0, 400));
    const headLength = text.indexOf("\r\n\r\n") + 4;
    expect(text).toContain(`Content-Length: ${n}\r\n`);
    expect(text).toContain("Content-Type: application/octet-stream");
    const body = data.subarray(headLength);
    expect(body.length).toBe(n);
    expect(createHash("sha256").update(body).digest("hex")).toBe(
      createHash("sha256").update(expectedPattern(n)).digest("hex"),
    );
    expect(connection.windowViolations).toBe(0);
    // Segments never exceed the guest's MSS, and scaling stayed off.
    expect(Math.max(...connection.segments.map((s) => s.payload.length))).toBe(1460);
    expect(connection.peerScale).toBeUndefined();
    expect(guest.net.stats.tcp.retransmissions).toBe(0);
  });

  it("uses window scaling when the guest offers it, and a small MSS when the guest asks", () => {
    const guest = new TestGuest();
    const connection = fetchRaw(guest, "GET /bytes/300000 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", {
      window: 200_000,
      windowScale: 4,
      mss: 536,
    });
    expect(connection.peerScale).toBe(3);
    expect(connection.segments[0]!.mss).toBe(1460);
    expect(Math.max(...connection.segments.map((s) => s.payload.length))).toBe(536);
    expect(connection.windowViolations).toBe(0);
    const data = connection.data();
    expect(sameBytes(data.subarray(data.length - 300000), expectedPattern(300000))).toBe(true);
  });

  it("respects a tiny window", () => {
    const guest = new TestGuest();
    const connection = fetchRaw(guest, "GET /bytes/20000 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", {
      window: 1000,
    });
    expect(connection.windowViolations).toBe(0);
    expect(Math.max(...connection.segments.map((s) => s.payload.length))).toBeLessThanOrEqual(1000);
    const data = connection.data();
    expect(sameBytes(data.subarray(data.length - 20000), expectedPattern(20000))).toBe(true);
  });
});
