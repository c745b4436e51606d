import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { writeCpioNewc, type CpioEntry } from "../../src/guest/initramfs/cpio.ts";
import { haveDebianPackages } from "./debian-tools.ts";

const haveCpio = haveDebianPackages(["cpio"]);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

const ENTRIES: CpioEntry[] = [
  { type: "file", path: "/etc/hostname", data: text("buildroot\n") },
  { type: "directory", path: "etc" },
  { type: "directory", path: "bin" },
  { type: "file", path: "bin/busybox", data: new Uint8Array(1001).fill(7), mode: 0o755 },
  { type: "symlink", path: "bin/sh", target: "/bin/busybox" },
  { type: "directory", path: "dev" },
  { type: "device", path: "dev/console", device: "char", major: 5, minor: 1 },
  { type: "file", path: "empty", data: new Uint8Array(0) },
];

function cpio(args: string[], archive: Uint8Array): string {
  const result = spawnSync("cpio", args, { input: archive, encoding: "utf8" });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

describe("cpio newc writer", () => {
  it("is deterministic and aligns every record to 4 bytes", () => {
    const archive = writeCpioNewc(ENTRIES);
    expect(writeCpioNewc([...ENTRIES].reverse())).toEqual(archive);
    expect(archive.length % 4).toBe(0);
    expect(new TextDecoder().decode(archive.subarray(0, 6))).toBe("070701");
  });

  it("rejects duplicates, missing parent directories and paths leaving the archive", () => {
    expect(() => writeCpioNewc([...ENTRIES, { type: "directory", path: "/bin/" }])).toThrow(
      /"bin" appears twice/,
    );
    expect(() => writeCpioNewc([{ type: "file", path: "usr/bin/x", data: text("") }])).toThrow(
      /"usr\/bin\/x" is in directory "usr\/bin", which is not in the archive/,
    );
    expect(() => writeCpioNewc([{ type: "file", path: "../etc/passwd", data: text("") }])).toThrow(
      /contains "\.\."/,
    );
  });

  describe.skipIf(!haveCpio)("against GNU cpio", () => {
    it("lists with cpio -t, parents first", () => {
      expect(cpio(["-t", "--quiet"], writeCpioNewc(ENTRIES)).trim().split("\n")).toEqual([
        "bin",
        "bin/busybox",
        "bin/sh",
        "dev",
        "dev/console",
        "empty",
        "etc",
        "etc/hostname",
      ]);
    });

    it("keeps modes, link targets, device numbers and contents", () => {
      const archive = writeCpioNewc(ENTRIES);
      const long = cpio(["-tv", "--quiet"], archive);
      expect(long).toMatch(/^-rwxr-xr-x .* 1001 .* bin\/busybox$/m);
      expect(long).toMatch(/^lrwxrwxrwx .* bin\/sh -> \/bin\/busybox$/m);
      expect(long).toMatch(/^crw------- .* 5,\s+1 .* dev\/console$/m);
      expect(long).toMatch(/^drwxr-xr-x .* etc$/m);
      expect(cpio(["-i", "--quiet", "--to-stdout", "etc/hostname"], archive)).toBe("buildroot\n");
    });
  });
});
