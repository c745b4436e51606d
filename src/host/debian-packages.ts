// Installs the Debian packages virtkit needs (cross compiler, qemu, linux-source,
// busybox) on demand. Idempotent: packages already installed cost one dpkg query.
import { spawnSync } from "node:child_process";

export class MissingPackagesError extends Error {}

/** Returns the subset of `packages` that dpkg does not report as installed. */
export function missingDebianPackages(packages: readonly string[]): string[] {
  if (packages.length === 0) return [];
  const result = spawnSync("dpkg-query", ["-W", "-f=${Package} ${db:Status-Status}\n", ...packages], {
    encoding: "utf8",
  });
  const installed = new Set(
    result.stdout
      .split("\n")
      .filter((line) => line.endsWith(" installed"))
      .map((line) => line.split(" ")[0]!.split(":")[0]),
  );
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
