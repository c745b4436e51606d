// Debian packages for another architecture (arm64) fetched from the package archive with apt-get
// download and unpacked with dpkg-deb: the guest's busybox and stock kernel. Nothing is installed on
// the host; the .deb files are kept in the cache so later builds need no archive access.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  dpkgKnowsArchitecture,
  ensureDebianPackages,
  installedDebianPackages,
  missingDebianPackages,
} from "../../host/debian-packages.ts";
import { cacheRoot, withLockSync } from "../cache.ts";
import { memoisedAptQuery } from "./apt-query-memo.ts";

const EXTRACTED_MARKER = ".virtkit-extracted";

export class DebianArchiveError extends Error {}

function run(
  command: string,
  args: readonly string[],
  cwd?: string,
): { ok: boolean; stdout: string; stderr: string } {
  const result = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (result.error) throw new DebianArchiveError(`cannot run ${command}: ${result.error.message}`);
  return { ok: result.status === 0, stdout: result.stdout, stderr: result.stderr };
}

function mustRun(command: string, args: readonly string[], cwd?: string): string {
  const result = run(command, args, cwd);
  if (!result.ok) {
    throw new DebianArchiveError(
      `${command} ${args.join(" ")} failed:\n${result.stderr.trim() || result.stdout.trim()}`,
    );
  }
  return result.stdout;
}

/** The installed version of a host package, e.g. `6.1.192-2` for linux-source-6.1. */
export function installedVersion(pkg: string): string {
  const version = installedDebianPackages().get(pkg);
  if (version === undefined) throw new DebianArchiveError(`Debian package ${pkg} is not installed`);
  return version;
}

let listsRefreshed = false;

function refreshPackageLists(log: (line: string) => void): void {
  if (listsRefreshed) return;
  log("virtkit: apt-get update");
  mustRun("apt-get", ["update", "-qq"]);
  listsRefreshed = true;
}

/** Makes apt know the packages of `arch` (dpkg --add-architecture), needed to download them. */
export function ensureForeignArchitecture(arch: string, log: (line: string) => void): void {
  if (dpkgKnowsArchitecture(arch)) return;
  const native = mustRun("dpkg", ["--print-architecture"]).trim();
  const foreign = mustRun("dpkg", ["--print-foreign-architectures"])
    .split("\n")
    .map((a) => a.trim());
  if (native === arch || foreign.includes(arch)) return;
  log(`virtkit: dpkg --add-architecture ${arch} (to download ${arch} packages; nothing of it is installed)`);
  mustRun("dpkg", ["--add-architecture", arch]);
  listsRefreshed = false;
  refreshPackageLists(log);
}

/** apt-cache's answer to `args`, remembered across runs; undefined when apt-cache failed. */
function aptCache(args: readonly string[]): string | undefined {
  return memoisedAptQuery(cacheRoot(), args, () => {
    const result = run("apt-cache", args);
    return result.ok ? result.stdout : undefined;
  });
}

/** The version apt would fetch for `pkg:arch`, or undefined when the archive has no such package. */
export function candidateVersion(pkg: string, arch: string, log: (line: string) => void): string | undefined {
  const query = (): string | undefined => {
    const stdout = aptCache(["policy", `${pkg}:${arch}`]) ?? "";
    const match = /Candidate:\s*(\S+)/.exec(stdout);
    return match && match[1] !== "(none)" ? match[1] : undefined;
  };
  const found = query();
  if (found || listsRefreshed) return found;
  refreshPackageLists(log);
  return query();
}

/** The names of the packages `pkg:arch` depends on, as apt-cache lists them. */
export function packageDependencies(pkg: string, arch: string): string[] {
  const args = ["depends", "--no-recommends", "--no-suggests", `${pkg}:${arch}`];
  const out = aptCache(args) ?? mustRun("apt-cache", args);
  return [...out.matchAll(/^\s+(?:\|)?Depends:\s+<?([^\s>:]+)/gm)].map((m) => m[1]!);
}

function debFileName(pkg: string, version: string, arch: string): string {
  // apt-get download escapes the epoch colon of a version as %3a.
  return `${pkg}_${version.replace(/:/g, "%3a")}_${arch}.deb`;
}

/**
 * Downloads `pkg:arch` into `debDir` (kept there as a cache) and returns the .deb's path and version.
 */
export function downloadPackage(
  pkg: string,
  arch: string,
  debDir: string,
  log: (line: string) => void,
): { deb: string; version: string } {
  ensureForeignArchitecture(arch, log);
  const version = candidateVersion(pkg, arch, log);
  if (!version) {
    throw new DebianArchiveError(
      `the Debian archive has no package ${pkg} for ${arch}; check the name with apt-cache search, ` +
        `and that /etc/apt/sources.list reaches the archive`,
    );
  }
  mkdirSync(debDir, { recursive: true });
  const deb = join(debDir, debFileName(pkg, version, arch));
  if (existsSync(deb)) return { deb, version };
  // Download into a scratch folder so a partial file never appears under the final name.
  const scratch = join(debDir, `.download-${process.pid}`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch);
  try {
    log(`virtkit: apt-get download ${pkg}:${arch}=${version}`);
    let result = run("apt-get", ["download", `${pkg}:${arch}=${version}`], scratch);
    if (!result.ok) {
      listsRefreshed = false;
      refreshPackageLists(log);
      result = run("apt-get", ["download", `${pkg}:${arch}=${version}`], scratch);
    }
    if (!result.ok)
      throw new DebianArchiveError(`apt-get download ${pkg}:${arch} failed:\n${result.stderr.trim()}`);
    const [file] = readdirSync(scratch).filter((name) => name.endsWith(".deb"));
    if (!file)
      throw new DebianArchiveError(`apt-get download ${pkg}:${arch} reported success but left no .deb`);
    renameSync(join(scratch, file), deb);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { deb, version };
}

/** Unpacks a .deb's files (not its scripts) into `dir`. */
export function extractPackage(deb: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  mustRun("dpkg-deb", ["-x", deb, dir]);
}

/**
 * Downloads `pkg:arch` and unpacks it under `<cacheRoot>/packages/`, once per version. Returns the
 * directory holding the package's files and the version. apt runs under a lock in the cache so that
 * parallel builds (test files, two CLI runs) do not trip over apt's own locks.
 */
export function ensureExtractedPackage(
  cacheRoot: string,
  pkg: string,
  arch: string,
  log: (line: string) => void,
): { root: string; version: string } {
  return withLockSync(join(cacheRoot, "apt.lock"), () => {
    const { deb, version } = downloadPackage(pkg, arch, join(cacheRoot, "debs"), log);
    const root = join(cacheRoot, "packages", debFileName(pkg, version, arch).replace(/\.deb$/, ""));
    if (!existsSync(join(root, EXTRACTED_MARKER))) {
      // Unpack aside and rename, so a directory under the final name is always complete.
      const scratch = `${root}.extracting-${process.pid}`;
      rmSync(scratch, { recursive: true, force: true });
      extractPackage(deb, scratch);
      mkdirSync(join(scratch, EXTRACTED_MARKER));
      rmSync(root, { recursive: true, force: true });
      renameSync(scratch, root);
    }
    return { root, version };
  });
}

/**
 * Installs host tools through the project's helper, one process at a time: parallel builds and test
 * files would otherwise run apt-get together and fail on dpkg's lock.
 */
export function ensureHostPackages(cacheRoot: string, packages: readonly string[]): void {
  // Installed already, as at every start but the first: no need to wait for a lock another process
  // (an install, a test file's own check) may hold.
  if (missingDebianPackages(packages).length === 0) return;
  withLockSync(join(cacheRoot, "apt.lock"), () => ensureDebianPackages(packages));
}
