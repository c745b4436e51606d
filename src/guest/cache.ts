// The guest-image cache: every artifact lives in a directory named after a hash of its inputs, with a
// manifest describing what it is and where it came from, so a second run finds it and costs nothing.
import { createHash } from "node:crypto";
import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** `$VIRTKIT_CACHE`, else `$XDG_CACHE_HOME/virtkit`, else `~/.cache/virtkit`. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VIRTKIT_CACHE) return env.VIRTKIT_CACHE;
  const xdg = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(xdg, "virtkit");
}

export function sha256(...parts: (string | Uint8Array)[]): string {
  const hash = createHash("sha256");
  for (const part of parts) {
    hash.update(part);
    // A separator keeps ("ab","c") and ("a","bc") apart.
    hash.update("\0");
  }
  return hash.digest("hex");
}

export type ArtifactKind = "kernel" | "initrd" | "dtb" | "overlay";

/** What `virtkit images list` shows about one cached artifact. */
export interface ArtifactManifest {
  kind: ArtifactKind;
  /** A short name, such as `minimal`, `debian` or `initrd-simple`. */
  name: string;
  /** The file inside the artifact directory. */
  file: string;
  size: number;
  sha256: string;
  /** Where it came from: package versions, the config fragment, the overlay. */
  source: string;
}

const MANIFEST = "manifest.json";

/** An artifact directory under the cache root: `<root>/<kind>s/<name>-<hash16>`. */
export function artifactDir(root: string, kind: ArtifactKind, name: string, inputsHash: string): string {
  return join(root, `${kind}s`, `${name}-${inputsHash.slice(0, 16)}`);
}

/** The manifest of a complete artifact, or undefined when it is missing or was left half-built. */
export function readArtifact(dir: string): ArtifactManifest | undefined {
  const path = join(dir, MANIFEST);
  if (!existsSync(path)) return undefined;
  const manifest = JSON.parse(readFileSync(path, "utf8")) as ArtifactManifest;
  return existsSync(join(dir, manifest.file)) ? manifest : undefined;
}

/**
 * Writes an artifact's file and manifest. The manifest is written last, through a rename, so an
 * interrupted build never looks complete.
 */
export function writeArtifact(
  dir: string,
  entry: Omit<ArtifactManifest, "size" | "sha256">,
  contents: Uint8Array,
): ArtifactManifest {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, entry.file), contents);
  return recordArtifact(dir, { ...entry, size: contents.length, sha256: sha256Bytes(contents) });
}

/** Records the manifest of an artifact whose file is already in place. */
export function recordArtifact(dir: string, manifest: ArtifactManifest): ArtifactManifest {
  const tmp = join(dir, `${MANIFEST}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(tmp, join(dir, MANIFEST));
  return manifest;
}

export function sha256Bytes(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Every complete artifact in the cache, with its directory. */
export function listArtifacts(root: string): { dir: string; manifest: ArtifactManifest }[] {
  const found: { dir: string; manifest: ArtifactManifest }[] = [];
  for (const kind of ["kernel", "initrd", "dtb", "overlay"] as const) {
    const kindDir = join(root, `${kind}s`);
    if (!existsSync(kindDir)) continue;
    for (const name of readdirSync(kindDir).sort()) {
      const dir = join(kindDir, name);
      const manifest = readArtifact(dir);
      if (manifest) found.push({ dir, manifest });
    }
  }
  return found;
}

export interface EnsuredArtifact {
  dir: string;
  path: string;
  manifest: ArtifactManifest;
  /** False when the cache already held it. */
  built: boolean;
}

/**
 * Returns the artifact in `dir`, building it first when it is missing. Concurrent callers (parallel test
 * files, two CLI runs) wait for one build instead of racing: the directory is locked while building.
 */
export async function ensureArtifact(
  dir: string,
  build: (dir: string) => Promise<ArtifactManifest>,
): Promise<EnsuredArtifact> {
  const found = (built: boolean): EnsuredArtifact | undefined => {
    const manifest = readArtifact(dir);
    return manifest && { dir, path: join(dir, manifest.file), manifest, built };
  };
  const cached = found(false);
  if (cached) return cached;
  return withLock(`${dir}.lock`, async () => {
    const builtMeanwhile = found(false);
    if (builtMeanwhile) return builtMeanwhile;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await build(dir);
    const done = found(true);
    if (!done) throw new Error(`internal error: building ${dir} did not record its manifest`);
    return done;
  });
}

const LOCK_POLL_MS = 500;

/** Whether the process holding a lock still runs; `gone` when the lock was released meanwhile. */
function lockHolder(lockFile: string): "alive" | "dead" | "gone" {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(lockFile, "utf8"), 10);
  } catch {
    return "gone";
  }
  if (!Number.isInteger(pid) || pid <= 0) return "dead";
  try {
    process.kill(pid, 0);
    return "alive";
  } catch {
    return "dead";
  }
}

/**
 * One attempt to take an exclusive lock file, taking over a lock left by a dead process. The lock
 * appears atomically with its holder's pid in it: written aside, then hard-linked into place.
 */
function tryLock(lockFile: string): boolean {
  mkdirSync(join(lockFile, ".."), { recursive: true });
  const claim = `${lockFile}.${process.pid}`;
  writeFileSync(claim, String(process.pid));
  try {
    linkSync(claim, lockFile);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    if (lockHolder(lockFile) === "dead") rmSync(lockFile, { force: true });
    return false;
  } finally {
    rmSync(claim, { force: true });
  }
}

/** Runs `fn` holding an exclusive lock file, waiting while another process (or call) holds it. */
export async function withLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  while (!tryLock(lockFile)) await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  try {
    return await fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

/** withLock for synchronous work (apt-get runs): the wait blocks the thread. */
export function withLockSync<T>(lockFile: string, fn: () => T): T {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (!tryLock(lockFile)) Atomics.wait(sleeper, 0, 0, LOCK_POLL_MS);
  try {
    return fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}
