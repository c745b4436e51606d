// Installs the Debian packages virtkit needs (cross compiler, qemu, linux-source,
// busybox) on demand. Idempotent: packages already installed cost one read of dpkg's database.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";

export class MissingPackagesError extends Error {}

/** dpkg's database of installed packages, the file dpkg-query answers from. */
export const DPKG_STATUS = "/var/lib/dpkg/status";
/** The architectures dpkg knows (native and foreign), one a line. */
export const DPKG_ARCHITECTURES = "/var/lib/dpkg/arch";

/** The status file's lines virtkit reads: a Package, Version or Status field, or a blank line. */
const STANZA_LINES = /^(Package|Version|Status): (.*)$|^$/gm;

let lastRead: { file: string; mtimeMs: number; size: number; installed: Map<string, string> } | undefined;

/**
 * The installed packages and their versions, read from dpkg's status file rather than by spawning
 * dpkg-query at every start (and read again only when the file changes). A package is installed when
 * its Status field ends in `installed` (as dpkg-query's `${db:Status-Status}`); names carry no `:arch`.
 */
export function installedDebianPackages(statusFile: string = DPKG_STATUS): ReadonlyMap<string, string> {
  if (!existsSync(statusFile)) return new Map();
  const { mtimeMs, size } = statSync(statusFile);
  if (lastRead?.file === statusFile && lastRead.mtimeMs === mtimeMs && lastRead.size === size) {
    return lastRead.installed;
  }
  const installed = new Map<string, string>();
  let pkg = "";
  let version = "";
  let isInstalled = false;
  // One regular-expression scan for the three fields and the blank lines ending each package's stanza
  // (the sentinel ends the last one): splitting the ~700 KB file into lines cost ~10-20 ms at start.
  for (const [, field, value] of `${readFileSync(statusFile, "utf8")}\n\n`.matchAll(STANZA_LINES)) {
    if (field === undefined) {
      if (pkg && version && isInstalled && !installed.has(pkg)) installed.set(pkg, version);
      [pkg, version, isInstalled] = ["", "", false];
    } else if (field === "Package") pkg = value!.trim();
    else if (field === "Version") version = value!.trim();
    else isInstalled = value!.trim().split(" ")[2] === "installed";
  }
  lastRead = { file: statusFile, mtimeMs, size, installed };
  return installed;
}

/** Whether dpkg already knows `arch` (natively or through --add-architecture); false when unsure. */
export function dpkgKnowsArchitecture(arch: string, archFile: string = DPKG_ARCHITECTURES): boolean {
  return existsSync(archFile) && readFileSync(archFile, "utf8").split("\n").includes(arch);
}

/** Returns the subset of `packages` that dpkg does not report as installed. */
export function missingDebianPackages(
  packages: readonly string[],
  statusFile: string = DPKG_STATUS,
): string[] {
  if (packages.length === 0) return [];
  const installed = installedDebianPackages(statusFile);
  return packages.filter((p) => !installed.has(p));
}

function runApt(args: string[], log: (line: string) => void): void {
  const asRoot = process.getuid?.() === 0;
  const command = asRoot ? "apt-get" : "sudo";
  const fullArgs = asRoot ? args : ["-n", "apt-get", ...args];
  log(`$ ${asRoot ? "" : "sudo "}apt-get ${args.join(" ")}`);
  const result = spawnSync(command, fullArgs, {
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (result.status !== 0) {
    throw new MissingPackagesError(
      `apt-get ${args.join(" ")} failed (exit ${result.status ?? result.signal}):\n${(result.stderr ?? "").trim()}`,
    );
  }
}

/**
 * Makes sure every package is installed, running apt-get when some are missing.
 * Throws MissingPackagesError with apt's message when installation is impossible.
 */
export function ensureDebianPackages(
  packages: readonly string[],
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): void {
  const missing = missingDebianPackages(packages);
  if (missing.length === 0) return;
  log(`virtkit: installing Debian packages: ${missing.join(" ")}`);
  runApt(["update", "-qq"], log);
  // Another process (a build, a benchmark) may hold dpkg's lock for a while: wait for it.
  runApt(
    ["-o", "DPkg::Lock::Timeout=600", "install", "-y", "-qq", "--no-install-recommends", ...missing],
    log,
  );
  const still = missingDebianPackages(missing);
  if (still.length > 0)
    throw new MissingPackagesError(`packages still missing after apt-get: ${still.join(" ")}`);
}
