// End to end: Debian's QEMU boots our kernels with our initramfs and device tree to buildroot's login
// prompt, and the shell works. This proves the images independently of virtkit's emulator.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { guestDtb } from "../../src/guest/dtb/guest-dtb.ts";
import { ensureGuestImages, type GuestImages } from "../../src/guest/images.ts";
import { qemuVirtDeviceTree } from "../../src/guest/layout.ts";
import { boardNamed } from "../../src/machine/boards/index.ts";
import { streamProgress } from "../../src/guest/progress.ts";
import { haveDebianPackages } from "./debian-tools.ts";
import { QemuConsole } from "./qemu-console.ts";

const FIXTURE_EXAMPLES = fileURLToPath(new URL("./fixtures/examples", import.meta.url));
const haveQemu = haveDebianPackages(["qemu-system-arm", "qemu-user"]);
// The first run builds the minimal kernel (about 4 minutes on 2 cores, more on a busy machine).
const BUILD_TIMEOUT_MS = 1_200_000;
const LOGIN_TIMEOUT_MS = 180_000;

function qemuArgs(images: GuestImages, dtb: string, disk: string): string[] {
  return [
    ...["-M", "virt,gic-version=2", "-cpu", "cortex-a53", "-m", "256M", "-nographic", "-no-reboot"],
    ...["-kernel", images.kernel, "-initrd", images.initrd!, "-dtb", dtb],
    ...["-drive", `if=none,format=raw,file=${disk},id=disk0`, "-device", "virtio-blk-device,drive=disk0"],
    ...["-netdev", "user,id=net0,restrict=on", "-device", "virtio-net-device,netdev=net0"],
  ];
}

function scratchFiles(): { dtb: string; disk: string } {
  const dir = mkdtempSync(join(tmpdir(), "virtkit-qemu-"));
  const dtb = join(dir, "qemu-virt.dtb");
  writeFileSync(dtb, guestDtb(qemuVirtDeviceTree(boardNamed())));
  const disk = join(dir, "disk.img");
  writeFileSync(disk, new Uint8Array(40 * 1024 * 1024));
  return { dtb, disk };
}

async function login(guest: QemuConsole): Promise<void> {
  await guest.waitFor("buildroot login: ", LOGIN_TIMEOUT_MS);
  guest.send("root\n");
  await guest.waitFor("# ", 30_000);
}

describe.skipIf(!haveQemu)("guest images boot under qemu-system-aarch64", () => {
  let guest: QemuConsole | undefined;
  afterEach(() => guest?.kill());

  describe("minimal kernel", () => {
    let images: GuestImages;
    beforeAll(async () => {
      images = await ensureGuestImages({
        example: "demo",
        examplesDir: FIXTURE_EXAMPLES,
        onProgress: streamProgress(process.stderr),
      });
    }, BUILD_TIMEOUT_MS);

    it(
      "logs in as root, runs the overlay's program, uses virtIO block and net, and powers off",
      async () => {
        const { dtb, disk } = scratchFiles();
        guest = new QemuConsole(qemuArgs(images, dtb, disk));
        await login(guest);
        expect(await guest.run("echo $((6 * 7)); uname -m")).toBe("42\naarch64\n");
        expect(await guest.run("hello")).toBe("hello from the demo overlay, wordle\n");
        // QEMU at EL1 needs PSCI over HVC: seeing it proves the guest runs on our DTB, not QEMU's.
        expect(await guest.run("tr -d '\\000' < /proc/device-tree/psci/method; echo")).toBe("hvc\n");
        expect(
          await guest.run("mkdosfs -F 32 -n VIRTKIT /dev/vda >/dev/null && mount /dev/vda /mnt && echo ok"),
        ).toBe("ok\n");
        expect(await guest.run("seq 1 1000 > /mnt/n.txt; sync; tail -n 1 /mnt/n.txt; umount /mnt")).toBe(
          "1000\n",
        );
        expect(
          await guest.run("udhcpc -i eth0 -n -q 2>&1 | grep -o 'lease of [0-9.]* obtained'", 60_000),
        ).toBe("lease of 10.0.2.15 obtained\n");
        guest.send("poweroff\n");
        await guest.waitFor("reboot: Power down", 60_000);
        expect(await guest.exit(30_000)).toBe(0);
      },
      LOGIN_TIMEOUT_MS + 240_000,
    );
    it(
      "gives the login prompt on the virtIO console when console=hvc0",
      async () => {
        const { dtb } = scratchFiles();
        guest = new QemuConsole([
          ...["-M", "virt,gic-version=2", "-cpu", "cortex-a53", "-m", "256M", "-no-reboot"],
          // -nic none: without it QEMU adds its default virtio-net-pci NIC, whose option ROM
          // (efi-virtio.rom, package ipxe-qemu) is not installed.
          ...["-display", "none", "-monitor", "none", "-serial", "none", "-nic", "none"],
          ...["-kernel", images.kernel, "-initrd", images.initrd!, "-dtb", dtb, "-append", "console=hvc0"],
          ...[
            "-chardev",
            "stdio,id=console0",
            "-device",
            "virtio-serial-device",
            "-device",
            "virtconsole,chardev=console0",
          ],
        ]);
        await login(guest);
        expect(await guest.run("cut -d ' ' -f 1 /proc/consoles")).toBe("hvc0\n");
        guest.send("poweroff\n");
        expect(await guest.exit(60_000)).toBe(0);
      },
      LOGIN_TIMEOUT_MS + 120_000,
    );
  });

  describe("Debian's stock kernel", () => {
    let images: GuestImages;
    beforeAll(async () => {
      images = await ensureGuestImages({ kernel: "debian", onProgress: streamProgress(process.stderr) });
    }, BUILD_TIMEOUT_MS);

    it(
      "loads the virtIO modules from the initramfs and finds the block device",
      async () => {
        const { dtb, disk } = scratchFiles();
        guest = new QemuConsole(qemuArgs(images, dtb, disk));
        await login(guest);
        const modules = await guest.run("cut -d ' ' -f 1 /proc/modules | sort | tr '\\n' ' '; echo");
        expect(modules.trim().split(" ")).toEqual(
          expect.arrayContaining([
            "virtio_mmio",
            "virtio_net",
            "virtio_blk",
            "virtio_console",
            "net_failover",
          ]),
        );
        expect(await guest.run("cat /sys/block/vda/size")).toBe(`${(40 * 1024 * 1024) / 512}\n`);
        guest.send("poweroff\n");
        expect(await guest.exit(60_000)).toBe(0);
      },
      LOGIN_TIMEOUT_MS + 120_000,
    );
  });
});
