// Tests that need Debian tools install them through the project's helper (one test file at a time).
// Without them a test is skipped on a developer's machine but fails under CI, where everything must run.
import { cacheRoot } from "../../src/guest/cache.ts";
import { ensureHostPackages } from "../../src/guest/debian/archive.ts";

export function haveDebianPackages(packages: readonly string[]): boolean {
  try {
    ensureHostPackages(cacheRoot(), packages);
    return true;
  } catch (err) {
    if (process.env.CI) throw err;
    console.warn(`skipping: ${(err as Error).message}`);
    return false;
  }
}
