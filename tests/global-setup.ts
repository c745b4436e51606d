// Runs once before any test file. Test files run in parallel workers, so on a fresh machine they
// would otherwise race on dpkg's lock and start the same kernel build twice; doing the slow,
// shared setup here first (with progress) also keeps the one-off kernel build out of test timeouts.
import { ensureDebianPackages } from "../src/host/debian-packages.ts";
import { ensureGuestImages } from "../src/guest/images.ts";
import { streamProgress } from "../src/guest/progress.ts";
import { CPU_TEST_PACKAGES } from "./cpu/toolchain.ts";

const TEST_HOST_PACKAGES = [
  ...CPU_TEST_PACKAGES,
  "qemu-system-arm",
  "device-tree-compiler",
  "cpio",
  "bsdutils",
  "xz-utils",
];

export default async function setup(): Promise<void> {
  try {
    ensureDebianPackages(TEST_HOST_PACKAGES);
    for (const kernel of ["minimal", "debian"] as const) {
      await ensureGuestImages({ kernel, onProgress: streamProgress(process.stderr) });
    }
  } catch (err) {
    // Under CI every test must run, so a setup failure fails the run; elsewhere the tests that
    // need the missing pieces report it themselves.
    if (process.env.CI) throw err;
    process.stderr.write(`test setup: ${(err as Error).message}\n`);
  }
}
