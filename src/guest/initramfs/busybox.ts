// Debian's busybox-static for arm64: one static binary plus the list of applets to link to it. The list
// comes from the binary itself (`busybox --list-full`, run under qemu-aarch64), so the links match
// exactly what this build of busybox provides.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureExtractedPackage, ensureHostPackages } from "../debian/archive.ts";
import { checkAarch64Elf } from "../elf.ts";

export const BUSYBOX_PACKAGE = "busybox-static";

export interface Busybox {
  binary: Uint8Array;
  /** Applet paths without the leading slash, e.g. `bin/sh`, `usr/bin/wget`. */
  applets: string[];
  version: string;
}

function listApplets(cacheRoot: string, binaryPath: string): string[] {
  ensureHostPackages(cacheRoot, ["qemu-user"]);
  const result = spawnSync("qemu-aarch64", [binaryPath, "--list-full"], { encoding: "utf8" });
  if (result.error || result.status !== 0) {
    throw new Error(
      `cannot list busybox applets: qemu-aarch64 ${binaryPath} --list-full failed: ` +
        `${result.error?.message ?? result.stderr.trim()}`,
    );
  }
  const applets = result.stdout.split("\n").filter((line) => line.trim() !== "");
  if (applets.length < 50) throw new Error(`busybox --list-full listed only ${applets.length} applets`);
  return applets;
}

export function ensureBusybox(cacheRoot: string, log: (line: string) => void): Busybox {
  const { root, version } = ensureExtractedPackage(cacheRoot, BUSYBOX_PACKAGE, "arm64", log);
  const binaryPath = join(root, "bin/busybox");
  const binary = readFileSync(binaryPath);
  checkAarch64Elf(binary, binaryPath);
  const listFile = join(root, "applets.txt");
  if (!existsSync(listFile)) {
    const scratch = `${listFile}.${process.pid}`;
    writeFileSync(scratch, `${listApplets(cacheRoot, binaryPath).join("\n")}\n`);
    renameSync(scratch, listFile);
  }
  const applets = readFileSync(listFile, "utf8")
    .split("\n")
    .filter((line) => line !== "");
  return { binary, applets, version };
}
