// The user network behind QEMU's virtio-net, with a real Linux guest (our minimal kernel and busybox
// initramfs) doing what the Microkit tutorial and libvmm's CI do: udhcpc, ping the gateway, wget the
// Wordle word and the song, a 4 MB download checked by SHA-256, nc out through NAT to a host socket,
// and a host connection forwarded in to the guest's nc.
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { patternBytes } from "../../src/machine/backends/net/byte-pattern.ts";
import { SONG } from "../../src/machine/backends/net/trustworthy-systems.ts";
import { createUserNetwork, type UserNetwork } from "../../src/machine/backends/net/user-network.ts";
import { WordService } from "../../src/machine/backends/net/word-service.ts";
import { guestDtb } from "../../src/guest/dtb/guest-dtb.ts";
import { ensureGuestImages } from "../../src/guest/images.ts";
import { qemuVirtDeviceTree } from "../../src/guest/layout.ts";
import { streamProgress } from "../../src/guest/progress.ts";
import { boardNamed } from "../../src/machine/boards/index.ts";
import { haveDebianPackages } from "../guest/debian-tools.ts";
import { QemuConsole } from "../guest/qemu-console.ts";
import { TestHost } from "./guest.ts";
import { StreamBridge, WallClock } from "./qemu-stream.ts";

// Outside CI a missing QEMU skips these tests; under CI it fails them (haveDebianPackages throws).
const haveQemu = haveDebianPackages(["qemu-system-arm"]);
const BOOT_TIMEOUT_MS = 1_200_000; // includes a first build of the guest images
const LOGIN_TIMEOUT_MS = 180_000;
const DOWNLOAD_BYTES = 4_000_000;
const FORWARDED_PORT = 7777;

describe.skipIf(!haveQemu)("a Linux guest under QEMU on the user network", () => {
  let guest: QemuConsole | undefined;
  let network: UserNetwork;
  let bridge: StreamBridge;
  const received: string[] = [];
  // Reached from the guest through NAT: answers with the line reversed.
  const hostServer = createServer((socket) => {
    socket.on("error", () => {});
    socket.on("data", (data) => {
      received.push(data.toString());
      socket.end(`${[...data.toString().trim()].reverse().join("")}\n`);
    });
  });

  beforeAll(async () => {
    const images = await ensureGuestImages({ onProgress: streamProgress(process.stderr) });
    const dtb = join(mkdtempSync(join(tmpdir(), "virtkit-qemu-net-")), "qemu-virt.dtb");
    writeFileSync(dtb, guestDtb(qemuVirtDeviceTree(boardNamed())));
    await new Promise<void>((resolve) => hostServer.listen(0, "127.0.0.1", resolve));
    network = createUserNetwork({
      clock: new WallClock(),
      host: new TestHost(true),
      forwards: [{ hostPort: 0, guestPort: FORWARDED_PORT }],
      log: (message) => process.stderr.write(`network: ${message}\n`),
    });
    bridge = await StreamBridge.listen(network);
    guest = new QemuConsole([
      ...["-M", "virt,gic-version=2", "-cpu", "cortex-a53", "-m", "256M", "-nographic", "-no-reboot"],
      ...["-kernel", images.kernel, "-initrd", images.initrd!, "-dtb", dtb],
      ...["-netdev", bridge.netdev("n0"), "-device", "virtio-net-device,netdev=n0"],
    ]);
    await guest.waitFor("buildroot login: ", LOGIN_TIMEOUT_MS);
    guest.send("root\n");
    await guest.waitFor("# ", 30_000);
  }, BOOT_TIMEOUT_MS);

  afterAll(async () => {
    guest?.send("poweroff\n");
    if (guest) await guest.exit(60_000).catch(() => guest?.kill());
    bridge?.close();
    network?.close();
    hostServer.close();
  }, 90_000);

  it("gets 10.0.2.15 from udhcpc and pings the gateway", async () => {
    const lease = await guest!.run("udhcpc -i eth0 -q -s /etc/udhcpc/default.script 2>&1", 60_000);
    expect(lease).toContain("lease of 10.0.2.15 obtained from 10.0.2.2");
    expect(lease).toContain("adding dns 10.0.2.3");
    expect(await guest!.run("cat /etc/resolv.conf")).toContain("nameserver 10.0.2.3");
    const ping = await guest!.run("ping -c 3 10.0.2.2", 60_000);
    expect(ping).toContain("64 bytes from 10.0.2.2");
    expect(ping).toContain("3 packets transmitted, 3 packets received, 0% packet loss");
  }, 120_000);

  it("fetches the Wordle word and the song from trustworthy.systems by name", async () => {
    // The network's first word with the default seed.
    const expected = new WordService().next();
    const word = await guest!.run(
      'WORD=$(wget -qO- http://trustworthy.systems/projects/microkit/tutorial/word); echo "$WORD ${#WORD} ${WORD:2:1}"',
      60_000,
    );
    expect(word).toBe(`${expected} 5 ${expected[2]}\n`);
    expect(
      await guest!.run("cd /tmp && wget http://trustworthy.systems/song 2>&1 && cat song", 60_000),
    ).toContain(`'song' saved`);
    expect(await guest!.run("cat /tmp/song")).toBe(SONG);
    expect(await guest!.run("wget -qO- http://trustworthy.systems/nothing 2>&1; echo rc=$?")).toMatch(
      /404 Not Found[\s\S]*rc=1/,
    );
  }, 120_000);

  it("downloads 4 MB, byte for byte", async () => {
    const started = performance.now();
    const nullRun = await guest!.run(
      `time wget -q -O /dev/null http://trustworthy.systems/bytes/${DOWNLOAD_BYTES} 2>&1`,
      120_000,
    );
    const seconds = (performance.now() - started) / 1000;
    const digest = await guest!.run(
      `wget -q -O - http://trustworthy.systems/bytes/${DOWNLOAD_BYTES} | sha256sum`,
      120_000,
    );
    const expected = createHash("sha256").update(patternBytes(DOWNLOAD_BYTES)).digest("hex");
    expect(digest.trim()).toBe(`${expected}  -`);
    process.stderr.write(
      `qemu-net: 4 MB wget to /dev/null in ${seconds.toFixed(2)} s wall (${(DOWNLOAD_BYTES / 1e6 / seconds).toFixed(1)} MB/s); guest says ${nullRun.trim().replace(/\s+/g, " ")}; ` +
        `retransmissions ${network.stats.tcp.retransmissions}, malformed ${network.stats.malformed}\n`,
    );
    expect(network.stats.internalErrors).toBe(0);
  }, 240_000);

  it("connects out through NAT to a host socket", async () => {
    const port = (hostServer.address() as AddressInfo).port;
    const reply = await guest!.run(`echo virtkit | nc 10.0.2.2 ${port}`, 60_000);
    expect(received.join("")).toBe("virtkit\n");
    expect(reply.trim()).toBe("tiktriv");
    expect(network.stats.natConnections).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it("forwards a host connection to the guest's nc", async () => {
    const [forward] = await network.ready;
    guest!.send(`(nc -l -p ${FORWARDED_PORT} > /tmp/forwarded; echo "got: $(cat /tmp/forwarded)") &\n`);
    await guest!.waitFor("# ", 10_000);
    // Connect once nc listens: an earlier SYN would be refused (and the client closed).
    for (let i = 0; i < 100 && !(await guest!.run("netstat -ltn")).includes(`:${FORWARDED_PORT} `); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const client = connect({ host: "127.0.0.1", port: forward!.hostPort });
    client.on("error", () => {});
    client.end("through the forward\n");
    await guest!.waitFor("got: through the forward", 60_000);
    expect(network.stats.forwardedConnections).toBe(1);
  }, 120_000);
});
