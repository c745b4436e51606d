// `virtkit images` as a script would use it: a subprocess, JSON on stdout, progress and errors on stderr.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { cellsOf, findNode, getProperty, readFdt, stringsOf } from "../../src/libvmm/fdt.ts";
import { guestDtb } from "../../src/guest/dtb/guest-dtb.ts";
import { guestLayout } from "../../src/guest/layout.ts";
import { boardNamed } from "../../src/machine/boards/index.ts";
import { virtioMmioSlot } from "../../src/machine/boards/board.ts";
import { ensureMinimalKernel } from "../../src/guest/kernel/minimal-kernel.ts";
import { cacheRoot } from "../../src/guest/cache.ts";
import { silentProgress } from "../../src/guest/progress.ts";
import { haveDebianPackages } from "./debian-tools.ts";

const SIMPLE_LAYOUT = guestLayout(boardNamed());

const VIRTKIT = fileURLToPath(new URL("../../bin/virtkit.mjs", import.meta.url));
const haveTools = haveDebianPackages(["qemu-user", "gcc-aarch64-linux-gnu", "linux-source-6.1"]);
// Builds the minimal kernel when the cache is empty; other test files wait on the same build.
const BUILD_TIMEOUT_MS = 1_200_000;

function virtkit(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [VIRTKIT, ...args], { encoding: "utf8", timeout: BUILD_TIMEOUT_MS });
}

describe("virtkit images", () => {
  it("rejects a kernel that is not an arm64 Image before building anything", () => {
    const file = join(mkdtempSync(join(tmpdir(), "virtkit-cli-")), "vmlinux");
    // An ELF file (vmlinux) is refused; a file with no header at all would boot as a raw binary.
    writeFileSync(file, Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, ...new Uint8Array(4092).fill(0x41)]));
    const result = virtkit("images", "build", "--kernel", file);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `virtkit images: ${file}: not an arm64 Linux Image: the magic at offset 56 is 0x41414141`,
    );
    expect(virtkit("images", "build", "--kernel", "tiny").stderr).toMatch(
      /--kernel must be minimal, debian or the path of an arm64 Image; "tiny"/,
    );
    const noNic = virtkit("images", "path", "--board", "odroidc4", "--nic");
    expect(noNic.status).toBe(1);
    expect(noNic.stderr).toBe("virtkit images: --nic: board odroidc4 has no virtio-mmio slot for a NIC\n");
  });

  describe.skipIf(!haveTools)("with the default images", () => {
    it(
      "prints the default kernel, initrd and DTB paths as JSON, and lists them",
      () => {
        const result = virtkit("images", "path", "--json");
        expect(result.status, result.stderr).toBe(0);
        const paths = JSON.parse(result.stdout) as { kernel: string; initrd: string; dtb: string };
        expect(Object.keys(paths)).toEqual(["kernel", "initrd", "dtb"]);
        expect(readFileSync(paths.kernel).readUInt32LE(56)).toBe(0x644d5241);
        expect(readFileSync(paths.initrd).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
        expect(readFdt(readFileSync(paths.dtb), paths.dtb).root.children.map((c) => c.name)).toContain(
          "chosen",
        );
        const list = virtkit("images", "list");
        expect(list.status).toBe(0);
        expect(list.stdout).toContain(paths.kernel);
        expect(list.stdout).toMatch(/kernel minimal +\d+\.\d MiB {2}sha256:[0-9a-f]{16} {2}/);
        expect(list.stdout).toContain("from linux-source-6.1 ");
      },
      BUILD_TIMEOUT_MS,
    );

    it(
      "finds the minimal kernel in the cache without rebuilding, with its build log and config kept",
      async () => {
        const first = await ensureMinimalKernel({ cacheRoot: cacheRoot(), onProgress: silentProgress });
        const log = join(first.dir, "build.log");
        const logTime = statSync(log).mtimeMs;
        const again = await ensureMinimalKernel({ cacheRoot: cacheRoot(), onProgress: silentProgress });
        expect(again.built).toBe(false);
        expect(again.path).toBe(first.path);
        expect(statSync(log).mtimeMs).toBe(logTime);
        expect(readFileSync(join(first.dir, "config"), "utf8")).toContain("CONFIG_VIRTIO_MMIO=y");
        expect(readFileSync(log, "utf8")).toContain("allnoconfig");
      },
      BUILD_TIMEOUT_MS,
    );

    it(
      "uses a user DTB only when its /chosen describes the initrd",
      () => {
        const dir = mkdtempSync(join(tmpdir(), "virtkit-cli-"));
        const noInitrd = join(dir, "no-initrd.dtb");
        writeFileSync(
          noInitrd,
          guestDtb({ ...SIMPLE_LAYOUT.deviceTree(0), chosen: { bootargs: "console=ttyAMA0" } }),
        );
        const refused = virtkit("images", "path", "--json", "--dtb", noInitrd);
        expect(refused.status).toBe(1);
        expect(refused.stderr).toMatch(
          /the DTB's \/chosen has no linux,initrd-start\/end, so Linux will not find the initrd loaded at 0x4d000000-/,
        );
        const initrd = (JSON.parse(virtkit("images", "path", "--json").stdout) as { initrd: string }).initrd;
        const covering = join(dir, "covering.dtb");
        writeFileSync(covering, guestDtb(SIMPLE_LAYOUT.deviceTree(statSync(initrd).size)));
        const accepted = virtkit("images", "path", "--json", "--dtb", covering);
        expect(accepted.status, accepted.stderr).toBe(0);
        const dtb = (JSON.parse(accepted.stdout) as { dtb: string }).dtb;
        expect(dtb).toMatch(/dtbs\/user-covering-[0-9a-f]{16}\/guest.dtb$/);
        expect(readFileSync(dtb).equals(readFileSync(covering))).toBe(true);
      },
      BUILD_TIMEOUT_MS,
    );

    it(
      "gives a C VMM passing the NIC through the guest part 4's TypeScript VMM boots: overlay, NIC, command line",
      () => {
        const bootargs = "console=ttyAMA0 quiet";
        const result = virtkit(
          "images",
          "path",
          "--json",
          "--example",
          "wordle",
          "--nic",
          "--append",
          bootargs,
        );
        expect(result.status, result.stderr).toBe(0);
        const paths = JSON.parse(result.stdout) as { initrd: string; dtb: string };
        const plain = JSON.parse(virtkit("images", "path", "--json").stdout) as {
          initrd: string;
          dtb: string;
        };
        expect(paths.initrd).not.toBe(plain.initrd);
        const nic = virtioMmioSlot(boardNamed().virtioMmio!, boardNamed().virtioMmio!.nicSlot);
        const nodeName = `virtio_mmio@${nic.base.toString(16)}`;
        const root = readFdt(readFileSync(paths.dtb), paths.dtb).root;
        const interrupts = cellsOf(getProperty(findNode(root, nodeName)!, "interrupts")!);
        // An SPI (type 0) numbered from INTID 32, edge-triggered (rising, 1) as QEMU's slots are.
        expect(interrupts).toEqual([0, nic.irq - 32, 1]);
        expect(stringsOf(getProperty(findNode(root, "chosen")!, "bootargs")!)).toEqual([bootargs]);
        const plainRoot = readFdt(readFileSync(plain.dtb), plain.dtb).root;
        expect(findNode(plainRoot, nodeName)).toBeUndefined();
      },
      BUILD_TIMEOUT_MS,
    );

    it(
      "accepts a gzip-compressed Image of the user's own and caches it raw",
      () => {
        const paths = JSON.parse(virtkit("images", "path", "--json").stdout) as { kernel: string };
        const raw = readFileSync(paths.kernel);
        const gz = join(mkdtempSync(join(tmpdir(), "virtkit-cli-")), "Image.gz");
        writeFileSync(gz, gzipSync(raw));
        const result = virtkit("images", "path", "--json", "--kernel", gz);
        expect(result.status, result.stderr).toBe(0);
        const custom = (JSON.parse(result.stdout) as { kernel: string }).kernel;
        expect(custom).toMatch(/kernels\/custom-[0-9a-f]{16}\/Image$/);
        expect(readFileSync(custom).equals(raw)).toBe(true);
      },
      BUILD_TIMEOUT_MS,
    );
  });
});
