import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { ensureBusybox } from "../../src/guest/initramfs/busybox.ts";
import type { CpioEntry } from "../../src/guest/initramfs/cpio.ts";
import { ensureInitramfs } from "../../src/guest/initramfs/initramfs.ts";
import { buildRootfs } from "../../src/guest/initramfs/rootfs.ts";
import { exampleOverlay } from "../../src/guest/images.ts";
import { cacheRoot } from "../../src/guest/cache.ts";
import { checkAarch64Elf } from "../../src/guest/elf.ts";
import { readFileSync } from "node:fs";
import { haveDebianPackages } from "./debian-tools.ts";

const FIXTURE_EXAMPLES = fileURLToPath(new URL("./fixtures/examples", import.meta.url));
const FAKE_BUSYBOX = {
  binary: new Uint8Array([0x7f, 0x45, 0x4c, 0x46]),
  applets: ["bin/sh", "sbin/getty", "usr/bin/wget", "bin/busybox"],
};
const haveTools = haveDebianPackages(["qemu-user", "cpio"]);
const text = (data: Uint8Array): string => new TextDecoder().decode(data);

function byPath(entries: CpioEntry[]): Map<string, CpioEntry> {
  return new Map(entries.map((e) => [e.path, e]));
}

function fileText(entries: Map<string, CpioEntry>, path: string): string {
  const entry = entries.get(path);
  if (entry?.type !== "file") throw new Error(`${path} is not a file in the rootfs`);
  return text(entry.data);
}

describe("root file system", () => {
  it("links every applet to busybox and gives buildroot's login on the console", () => {
    const rootfs = byPath(buildRootfs({ busybox: FAKE_BUSYBOX }));
    expect(rootfs.get("bin/sh")).toEqual({ type: "symlink", path: "bin/sh", target: "/bin/busybox" });
    expect(rootfs.get("usr/bin/wget")).toMatchObject({ type: "symlink", target: "/bin/busybox" });
    expect(rootfs.get("bin/busybox")).toMatchObject({ type: "file", mode: 0o755 });
    expect(rootfs.get("init")).toMatchObject({ type: "file", mode: 0o755 });
    expect(rootfs.get("dev/console")).toMatchObject({ type: "device", device: "char", major: 5, minor: 1 });
    expect(rootfs.get("tmp")).toMatchObject({ type: "directory", mode: 0o1777 });
    expect(fileText(rootfs, "etc/hostname")).toBe("buildroot\n");
    expect(fileText(rootfs, "etc/inittab")).toMatch(/^console::respawn:\/sbin\/getty -L 0 console vt100$/m);
    expect(fileText(rootfs, "etc/shadow")).toMatch(/^root::/m);
    expect(fileText(rootfs, "init")).toMatch(/mount -t devtmpfs devtmpfs \/dev/);
    expect(rootfs.has("etc/modules")).toBe(false);
  });

  it("packs kernel modules with their load order", () => {
    const modules = [
      { name: "virtio_ring", data: new Uint8Array([1]) },
      { name: "virtio_mmio", data: new Uint8Array([2]) },
    ];
    const rootfs = byPath(buildRootfs({ busybox: FAKE_BUSYBOX, modules }));
    expect(fileText(rootfs, "etc/modules")).toBe("virtio_ring\nvirtio_mmio\n");
    expect(rootfs.get("lib/modules/virtio_mmio.ko")).toMatchObject({
      type: "file",
      data: new Uint8Array([2]),
    });
  });

  it("lays an example's overlay over everything else, keeping executable bits", () => {
    const overlay = exampleOverlay(FIXTURE_EXAMPLES, "demo")!;
    const rootfs = byPath(buildRootfs({ busybox: FAKE_BUSYBOX, overlays: [overlay] }));
    expect(fileText(rootfs, "etc/issue")).toBe("Welcome to the demo example\n\n");
    expect(fileText(rootfs, "etc/demo-word")).toBe("wordle\n");
    expect(rootfs.get("usr/bin/hello")).toMatchObject({ type: "file", mode: 0o755 });
    expect(fileText(rootfs, "etc/hostname")).toBe("buildroot\n");
  });

  it("says which examples exist when one is unknown, and rejects overlays that clash with the layers below", () => {
    expect(() => exampleOverlay(FIXTURE_EXAMPLES, "nope")).toThrow(
      /there is no example "nope" in .* \(examples: demo\)/,
    );
    const clash = mkdtempSync(join(tmpdir(), "virtkit-overlay-"));
    mkdirSync(join(clash, "etc"));
    writeFileSync(join(clash, "init"), "#!/bin/sh\n");
    mkdirSync(join(clash, "etc/hostname"), { recursive: true });
    writeFileSync(join(clash, "etc/hostname/x"), "");
    expect(() => buildRootfs({ busybox: FAKE_BUSYBOX, overlays: [clash] })).toThrow(
      /"etc\/hostname" is a directory here but an earlier layer made it a file/,
    );
  });

  it("refuses a busybox built for the wrong machine", () => {
    expect(() => checkAarch64Elf(readFileSync(process.execPath), "node")).toThrow(
      /node: built for x86-64, but the guest needs AArch64 \(the package must be the arm64 one/,
    );
  });

  describe.skipIf(!haveTools)("with Debian's busybox-static:arm64", () => {
    it("takes the arm64 busybox and its own applet list", () => {
      const busybox = ensureBusybox(cacheRoot(), () => {});
      expect(() => checkAarch64Elf(busybox.binary, "busybox")).not.toThrow();
      expect(busybox.applets).toEqual(
        expect.arrayContaining([
          "sbin/getty",
          "bin/login",
          "sbin/init",
          "usr/bin/wget",
          "sbin/udhcpc",
          "bin/sh",
        ]),
      );
    });

    it("writes a gzip initramfs that GNU cpio lists, cached by content", async () => {
      const root = mkdtempSync(join(tmpdir(), "virtkit-initrd-"));
      const busybox = ensureBusybox(cacheRoot(), () => {});
      const options = {
        cacheRoot: root,
        name: "initrd-demo",
        busybox,
        overlays: [exampleOverlay(FIXTURE_EXAMPLES, "demo")!],
        source: "test",
      };
      const first = await ensureInitramfs(options);
      const again = await ensureInitramfs(options);
      expect([first.built, again.built]).toEqual([true, false]);
      const listing = spawnSync("cpio", ["-t", "--quiet"], {
        input: gunzipSync(readFileSync(first.path)),
        encoding: "utf8",
      });
      expect(listing.status).toBe(0);
      expect(listing.stdout.split("\n")).toEqual(
        expect.arrayContaining(["init", "bin/busybox", "bin/sh", "etc/inittab", "usr/bin/hello"]),
      );
    });
  });
});
