// A Linux guest on virtkit's core drives the board's virtio-net NIC with its own drivers, on the
// user-mode network: DHCP, ARP and ping to the gateway, a multi-megabyte download from an embedded
// server checked by its digest, TCP out through NAT to a host socket, a host port forwarded in, and a
// capture of it all that parses as pcap.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUserNetwork, type UserNetwork } from "../../src/machine/backends/net/user-network.ts";
import { patternBytes } from "../../src/machine/backends/net/byte-pattern.ts";
import { LinuxSession } from "./linux-session.ts";

const NETWORK_SYSTEM = join(import.meta.dirname, "../../examples/network/qemu_virt_aarch64/network.system");
const DOWNLOAD_BYTES = 4_000_000;
const GUEST_PORT = 7777;

describe("Linux on the user-mode network, through the passed-through NIC", () => {
  let session: LinuxSession;
  let network: UserNetwork | undefined;
  const pcap = join(mkdtempSync(join(tmpdir(), "virtkit-net-")), "wire.pcap");
  // A host server the guest reaches through NAT: it answers each line with the line reversed.
  const received: string[] = [];
  const hostServer = createServer((socket) => {
    socket.on("data", (data) => {
      received.push(data.toString());
      socket.end(`${[...data.toString().trim()].reverse().join("")}\n`);
    });
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => hostServer.listen(0, "127.0.0.1", resolve));
    session = await LinuxSession.boot("minimal", {
      system: NETWORK_SYSTEM,
      network: {
        connect: ({ clock, host }) =>
          (network = createUserNetwork({
            clock,
            host,
            pcap,
            forwards: [{ hostPort: 0, guestPort: GUEST_PORT }],
          })),
      },
    });
    await session.login();
  }, 600_000);

  afterAll(async () => {
    hostServer.close();
    if (session) await session.powerOff();
  }, 120_000);

  it("gets its lease by DHCP and reaches the gateway (ARP, ICMP)", async () => {
    const lease = await session.run("udhcpc -i eth0 -q -s /etc/udhcpc/default.script");
    expect(lease).toContain("lease of 10.0.2.15 obtained from 10.0.2.2");
    expect(lease).toContain("adding dns 10.0.2.3");
    const ping = await session.run("ping -c 10 10.0.2.2");
    expect(ping).toContain("64 bytes from 10.0.2.2");
    expect(ping).toContain("10 packets transmitted, 10 packets received, 0% packet loss");
  }, 300_000);

  it("downloads 4 MB from an embedded server, byte for byte", async () => {
    const digest = await session.run(
      `wget -q -O - http://trustworthy.systems/bytes/${DOWNLOAD_BYTES} | sha256sum`,
    );
    const expected = createHash("sha256").update(patternBytes(DOWNLOAD_BYTES)).digest("hex");
    expect(digest.trim()).toBe(`${expected}  -`);
  }, 300_000);

  it("connects out to a host socket through NAT", async () => {
    const port = (hostServer.address() as AddressInfo).port;
    const reply = await session.run(`echo virtkit | nc 10.0.2.2 ${port}`);
    expect(received.join("")).toBe("virtkit\n");
    expect(reply.trim()).toBe("tiktriv");
  }, 300_000);

  it("accepts a connection forwarded from a host port", async () => {
    const [forward] = await network!.ready;
    session.type(`nc -l -p ${GUEST_PORT} > /tmp/forwarded; echo "got: $(cat /tmp/forwarded)"\n`);
    // The listener must be up before the host connects: the shell echoes the command line first.
    await session.waitFor('/tmp/forwarded)"\r\n');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await new Promise<void>((resolve, reject) => {
      const socket = connect(forward!.hostPort, "127.0.0.1", () => socket.end("from the host\n"));
      socket.on("close", () => resolve());
      socket.on("error", reject);
    });
    await session.waitFor("got: from the host");
    await session.waitFor("# ");
  }, 300_000);

  it("captured the wire as pcap", () => {
    const bytes = readFileSync(pcap);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(view.getUint32(0, true)).toBe(0xa1b2c3d4); // microsecond pcap, little-endian
    expect(view.getUint32(20, true)).toBe(1); // LINKTYPE_ETHERNET
    let records = 0;
    for (let at = 24; at < bytes.length; records++) at += 16 + view.getUint32(at + 8, true);
    expect(records).toBeGreaterThan(1000);
  });
});
