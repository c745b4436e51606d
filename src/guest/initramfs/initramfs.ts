// The initial RAM disk: the root file system as a gzip-compressed newc archive, cached by a hash of the
// archive itself, so any change to busybox, the skeleton, the modules or an overlay gives a new one.
import { gzipSync } from "node:zlib";
import { artifactDir, ensureArtifact, sha256Bytes, writeArtifact, type EnsuredArtifact } from "../cache.ts";
import { writeCpioNewc } from "./cpio.ts";
import { buildRootfs, type RootfsLayers } from "./rootfs.ts";

export interface InitramfsOptions extends RootfsLayers {
  cacheRoot: string;
  /** Names the artifact in the cache: `initrd`, `initrd-wordle`, `initrd-debian`. */
  name: string;
  /** Recorded in the manifest: which busybox, kernel modules and overlay went in. */
  source: string;
}

export async function ensureInitramfs(options: InitramfsOptions): Promise<EnsuredArtifact> {
  const archive = writeCpioNewc(buildRootfs(options));
  const dir = artifactDir(options.cacheRoot, "initrd", options.name, sha256Bytes(archive));
  return ensureArtifact(dir, async (dir) =>
    writeArtifact(
      dir,
      { kind: "initrd", name: options.name, file: "initrd.gz", source: options.source },
      gzipSync(archive, { level: 9 }),
    ),
  );
}
