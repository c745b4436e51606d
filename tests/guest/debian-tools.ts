// Tests that need Debian tools install them through the project's helper. Without them a test is
// skipped on a developer's machine but fails under CI, where everything must run.
import { ensureDebianPackages } from "../../src/host/debian-packages.ts";

export function haveDebianPackages(packages: readonly string[]): boolean {
  try {
    ensureDebianPackages(packages, () => {});
    return true;
  } catch (err) {
    if (process.env.CI) throw err;
    console.warn(`skipping: ${(err as Error).message}`);
    return false;
  }
}
