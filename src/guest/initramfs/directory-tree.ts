// Reads a directory on the host (the root file system skeleton, an example's overlay) as cpio entries,
// keeping what the guest can observe: executable bits and symbolic links.
import { lstatSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import type { CpioEntry } from "./cpio.ts";

export function readDirectoryTree(root: string, prefix = ""): CpioEntry[] {
  const entries: CpioEntry[] = [];
  for (const name of readdirSync(root).sort()) {
    const hostPath = join(root, name);
    const path = prefix === "" ? name : `${prefix}/${name}`;
    const stat = lstatSync(hostPath);
    if (stat.isSymbolicLink()) {
      entries.push({ type: "symlink", path, target: readlinkSync(hostPath) });
    } else if (stat.isDirectory()) {
      entries.push({ type: "directory", path, mode: 0o755 });
      entries.push(...readDirectoryTree(hostPath, path));
    } else if (stat.isFile()) {
      // Only the executable bit carries meaning from a git checkout; the rest is normalised.
      entries.push({
        type: "file",
        path,
        data: readFileSync(hostPath),
        mode: stat.mode & 0o111 ? 0o755 : 0o644,
      });
    } else {
      throw new Error(`${hostPath}: only files, directories and symbolic links can go into the initramfs`);
    }
  }
  return entries;
}
