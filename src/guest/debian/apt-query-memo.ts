// apt-cache answers take about a second each (several seconds for the Debian kernel's lookups), and
// every `virtkit run` asks them again to find the current package versions. Their answers change
// only when apt's package lists or dpkg's architectures change, so they are remembered in the cache
// and trusted while those are older than the answer.
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** What apt-cache's answers depend on. */
const APT_STATE_PATHS = ["/var/lib/apt/lists", "/var/lib/dpkg/arch", "/etc/apt/sources.list"];

interface Entry {
  stdout: string;
  answeredAt: number;
}

function aptStateChangedAt(statePaths: readonly string[]): number {
  let latest = 0;
  for (const path of statePaths) {
    if (existsSync(path)) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

function load(file: string): Record<string, Entry> {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, Entry>;
  } catch {
    return {};
  }
}

/**
 * Returns apt-cache's remembered answer to `args`, or asks `query` (which returns undefined when
 * apt-cache failed; failures are not remembered) and remembers the answer.
 */
export function memoisedAptQuery(
  cacheRoot: string,
  args: readonly string[],
  query: () => string | undefined,
  statePaths: readonly string[] = APT_STATE_PATHS,
): string | undefined {
  const file = join(cacheRoot, "apt-queries.json");
  const key = args.join(" ");
  const entries = load(file);
  const known = entries[key];
  if (known && known.answeredAt > aptStateChangedAt(statePaths)) return known.stdout;
  const answeredAt = Date.now();
  const stdout = query();
  if (stdout === undefined) return undefined;
  entries[key] = { stdout, answeredAt };
  // Write aside and rename so a reader never sees half a file.
  mkdirSync(dirname(file), { recursive: true });
  const scratch = `${file}.${process.pid}`;
  writeFileSync(scratch, JSON.stringify(entries, null, 1));
  renameSync(scratch, file);
  return stdout;
}
