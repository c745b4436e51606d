// libvmm's virtio example on virtkit, checked as libvmm's CI checks it on QEMU: a Linux guest whose
// console (hvc0), disk (/dev/vda), network (eth0) and sound card are virtIO devices the VMM emulates
// over sDDF; the UART is shared with a native PD. The disk is an image file on the host.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUserNetwork } from "../../src/machine/backends/net/user-network.ts";
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
});
