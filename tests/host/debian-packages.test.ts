// Reading dpkg's database instead of spawning dpkg-query: the same answers, and a read only when it changed.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  DPKG_STATUS,
  dpkgKnowsArchitecture,
  installedDebianPackages,
  missingDebianPackages,
} from "../../src/host/debian-packages.ts";

const folder = mkdtempSync(join(tmpdir(), "virtkit-dpkg-"));

function file(name: string, text: string): string {
  writeFileSync(join(folder, name), text);
  return join(folder, name);
}

const STATUS = [
  "Package: make\nStatus: install ok installed\nPriority: optional\nVersion: 4.3-4.1\nDescription: utility\n with a continuation line",
  "Package: removed-tool\nStatus: deinstall ok config-files\nVersion: 1.0-1",
  "Package: half\nStatus: install ok half-configured\nVersion: 2.0",
  "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\nVersion: 2.36-9",
  "Package: libc6\nStatus: install ok installed\nArchitecture: arm64\nMulti-Arch: same\nVersion: 2.36-9",
].join("\n\n");

describe("dpkg's database", () => {
  it("lists only fully installed packages, with their versions", () => {
    const status = file("status", `${STATUS}\n`);
    expect([...installedDebianPackages(status)]).toEqual([
      ["make", "4.3-4.1"],
      ["libc6", "2.36-9"],
    ]);
    expect(missingDebianPackages(["make", "removed-tool", "half", "libc6", "absent"], status)).toEqual([
      "removed-tool",
      "half",
      "absent",
    ]);
  });

  it("reads the file again when it changes", () => {
    const status = file("status-changing", `${STATUS}\n`);
    expect(installedDebianPackages(status).has("newcomer")).toBe(false);
    writeFileSync(status, `${STATUS}\n\nPackage: newcomer\nStatus: install ok installed\nVersion: 9\n`);
    expect(installedDebianPackages(status).get("newcomer")).toBe("9");
  });

  it("treats a host without dpkg as having nothing installed", () => {
    expect(missingDebianPackages(["make"], join(folder, "no-such-status"))).toEqual(["make"]);
  });

  it("knows an architecture only when dpkg's list names it", () => {
    const arch = file("arch", "amd64\narm64\n");
    expect(dpkgKnowsArchitecture("arm64", arch)).toBe(true);
    expect(dpkgKnowsArchitecture("riscv64", arch)).toBe(false);
    expect(dpkgKnowsArchitecture("arm64", join(folder, "no-such-arch"))).toBe(false);
  });

  it("agrees with dpkg-query on this host", () => {
    const query = spawnSync("dpkg-query", ["-W", "-f=${Package} ${Version} ${db:Status-Status}\n"], {
      encoding: "utf8",
    });
    expect(query.status, "dpkg-query runs (virtkit needs a Debian host)").toBe(0);
    const expected = new Map(
      query.stdout
        .split("\n")
        .filter((line) => line.endsWith(" installed"))
        .map((line) => line.split(" "))
        .map(([pkg, version]) => [pkg!.split(":")[0]!, version!] as const),
    );
    expect(new Map(installedDebianPackages(DPKG_STATUS))).toEqual(expected);
  });
});
