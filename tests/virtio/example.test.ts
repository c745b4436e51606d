// libvmm's virtio example on virtkit, checked as libvmm's CI checks it on QEMU: a Linux guest whose
// console (hvc0), disk (/dev/vda), network (eth0) and sound card are virtIO devices the VMM emulates
// over sDDF; the UART is shared with a native PD. The disk is an image file on the host.
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUserNetwork } from "../../src/machine/backends/net/user-network.ts";
import { parseWav } from "../../src/machine/backends/wav.ts";
import { SONG } from "../../src/machine/backends/net/trustworthy-systems.ts";
import { openDiskImage } from "../../src/cli/devices.ts";
import { LinuxSession } from "../system/linux-session.ts";
import { fatFiles } from "./fat.ts";

export const VIRTIO_SYSTEM = join(import.meta.dirname, "../../examples/virtio/virtio.system");
const POWERED_OFF = "linux: the guest powered off";

describe("examples/virtio: hvc0, vda, eth0 and sound over sDDF", () => {
  let session: LinuxSession;
  const work = mkdtempSync(join(tmpdir(), "virtkit-virtio-"));
  const diskPath = join(work, "disk.img");
  let bootLog = "";

  beforeAll(async () => {
    session = await LinuxSession.boot("minimal", {
      system: VIRTIO_SYSTEM,
      disk: { backend: openDiskImage(diskPath) },
      hostOutput: { soundDirectory: join(work, "sound") },
      network: { connect: ({ clock, host }) => createUserNetwork({ clock, host }) },
    });
    bootLog = await session.waitFor("buildroot login: ");
    session.type("root\n");
    await session.waitFor("# ");
  }, 600_000);

  afterAll(async () => {
    if (session) await session.powerOff(POWERED_OFF);
  }, 120_000);

  it("boots with its console on hvc0 and finds the disk's partition, the NIC and the sound card", async () => {
    expect(bootLog).toContain("hello: a native PD on the same UART as the guest");
    expect(bootLog).toMatch(/virtio_blk virtio\d: \[vda\] 260096 512-byte logical blocks/);
    expect(bootLog).toContain("VirtIO SoundCard at platform/170000.virtio_mmio");
    expect(bootLog).not.toMatch(/ERROR|LOG: /);
    expect(await session.run("cat /sys/class/tty/console/active")).toBe("hvc0\n");
    expect(await session.run("cat /sys/class/net/eth0/address")).toBe("52:54:01:00:00:10\n");
  });

  it("shares the UART: Ctrl-\\ 1 Enter talks to the native PD, Ctrl-\\ 0 Enter back to the guest", async () => {
    session.type("\x1c1\r");
    session.type("ping\r");
    await session.waitFor('hello: you said "ping"');
    session.type("\x1c0\r");
    // The Enter after the switch reached nobody; the guest's shell is where it was.
    expect(await session.run("echo back in the guest")).toBe("back in the guest\n");
  });

  it("virtio_block: mkdosfs, mount, the integration script twice, and the host sees the files", async () => {
    expect(await session.run("mkdosfs -F 32 -n virtio-blk /dev/vda >/dev/null && echo formatted")).toBe(
      "formatted\n",
    );
    await session.run("mount -t vfat /dev/vda /mnt");
    expect(await session.run("blk-integration /mnt")).toContain("All is well in the universe");
    expect(await session.run("blk-integration /mnt")).toContain("All is well in the universe");
    await session.run("echo written in the guest > /mnt/note.txt; sync");
    const files = fatFiles(diskPath);
    expect(files.get("NOTE.TXT")?.toString()).toBe("written in the guest\n");
    expect(files.get("NUMBERS")?.length).toBe(6_888_897);
    expect(files.get("NUMBERS")?.subarray(0, 10).toString()).toBe("0,1,2,3,4,");
    expect([...files.keys()].filter((name) => /^DIR\d+$/.test(name))).toHaveLength(100);
  }, 300_000);

  it("virtio_network_ping: 10/10 to the gateway after DHCP", async () => {
    const lease = await session.run("udhcpc -i eth0 -q -s /etc/udhcpc/default.script");
    expect(lease).toContain("lease of 10.0.2.15 obtained from 10.0.2.2");
    const ping = await session.run("ping -c 10 10.0.2.2");
    expect(ping).toContain("10 packets transmitted, 10 packets received, 0% packet loss");
  }, 300_000);

  it("virtio_network_http_download: 'song' saved", async () => {
    const saved = await session.run("cd /tmp && wget http://trustworthy.systems/song 2>&1; cd /");
    expect(saved).toContain("'song' saved");
    expect(await session.run("cat /tmp/song")).toBe(SONG);
  }, 300_000);

  it("sound: a static guest program plays a 440 Hz tone for 0.5 s; the WAV holds exactly that tone", async () => {
    expect(await session.run("play_tone 440 500 48000")).toMatch(
      /^played 440 Hz for 500 ms at 48000 Hz \(24000 frames/,
    );
    const folder = join(work, "sound");
    expect(readdirSync(folder)).toEqual(["stream0-0.wav"]);
    const wav = parseWav(readFileSync(join(folder, "stream0-0.wav")));
    expect([wav.channels, wav.rate, wav.bitsPerSample]).toEqual([1, 48000, 16]);
    const samples = new Int16Array(
      wav.data.buffer.slice(wav.data.byteOffset, wav.data.byteOffset + wav.data.length),
    );
    const TONE = 24000;
    // The card read each buffer when it played it, so the tone is whole and in order (no stale ring
    // periods), then silence: the buffer of it play_tone writes after the tone.
    const expected = Array.from({ length: TONE }, (_, n) =>
      Math.round(16000 * Math.sin((2 * Math.PI * 440 * n) / 48000)),
    );
    const wrong = expected.findIndex((value, n) => Math.abs(samples[n]! - value) > 1);
    expect(wrong).toBe(-1);
    expect(samples.length).toBeGreaterThan(TONE);
    expect(samples.subarray(TONE).every((s) => s === 0)).toBe(true);
    let rising = 0;
    for (let n = 1; n < TONE; n++) if (samples[n - 1]! < 0 && samples[n]! >= 0) rising++;
    expect(rising).toBe(219); // 220 cycles in 0.5 s at 440 Hz: the first starts at frame 0, the others rise through 0
  }, 120_000);
});
