// The guest's root file system, assembled in layers: busybox and its applet links, device nodes the
// kernel needs before devtmpfs is mounted, our skeleton (init, inittab, login files), kernel modules
// for kernels that need them, and last an example's overlay, which may replace anything below it.
import { fileURLToPath } from "node:url";
import { archivePath, type CpioEntry } from "./cpio.ts";
import { readDirectoryTree } from "./directory-tree.ts";

export const SKELETON_DIR = fileURLToPath(new URL("./skeleton", import.meta.url));

/** Directories every guest has, whether or not a layer puts files in them. */
const BASE_DIRECTORIES: [string, number][] = [
  ["bin", 0o755],
  ["sbin", 0o755],
  ["usr", 0o755],
  ["usr/bin", 0o755],
  ["usr/sbin", 0o755],
  ["dev", 0o755],
  ["proc", 0o555],
  ["sys", 0o555],
  ["tmp", 0o1777],
  ["root", 0o700],
  ["etc", 0o755],
  ["lib", 0o755],
  ["mnt", 0o755],
  ["run", 0o755],
  ["var", 0o755],
  ["var/log", 0o755],
  ["home", 0o755],
];

export interface KernelModule {
  /** The module's name as the kernel knows it, e.g. `virtio_mmio`. */
  name: string;
  /** The uncompressed .ko. */
  data: Uint8Array;
}

export interface RootfsLayers {
  busybox: { binary: Uint8Array; applets: readonly string[] };
  /** Loaded by /etc/init.d/S02modules in this order (dependencies first). */
  modules?: readonly KernelModule[];
  /** Host directories copied over everything else, in order: an example's `overlay/`. */
  overlays?: readonly string[];
}

/** A path-keyed tree where later layers replace earlier entries and parent directories appear as needed. */
class RootfsTree {
  private readonly entries = new Map<string, CpioEntry>();

  add(entry: CpioEntry): void {
    const path = archivePath(entry.path);
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const existing = this.entries.get(parent);
      if (existing && existing.type !== "directory") {
        throw new Error(
          `initramfs: "${path}" needs "${parent}" to be a directory, but an earlier layer made it a ${existing.type}`,
        );
      }
      if (!existing) this.entries.set(parent, { type: "directory", path: parent });
    }
    const existing = this.entries.get(path);
    if (existing && (existing.type === "directory") !== (entry.type === "directory")) {
      throw new Error(
        `initramfs: "${path}" is a ${entry.type} here but an earlier layer made it a ${existing.type}`,
      );
    }
    // A directory from an overlay keeps the contents below it; anything else replaces what was there.
    if (existing?.type === "directory") return;
    this.entries.set(path, { ...entry, path });
  }

  list(): CpioEntry[] {
    return [...this.entries.values()];
  }
}

export function buildRootfs(layers: RootfsLayers): CpioEntry[] {
  const tree = new RootfsTree();
  for (const [path, mode] of BASE_DIRECTORIES) tree.add({ type: "directory", path, mode });
  // The kernel opens /dev/console for init before anything mounts devtmpfs.
  tree.add({ type: "device", path: "dev/console", device: "char", major: 5, minor: 1, mode: 0o600 });
  tree.add({ type: "device", path: "dev/null", device: "char", major: 1, minor: 3, mode: 0o666 });
  tree.add({ type: "file", path: "bin/busybox", data: layers.busybox.binary, mode: 0o755 });
  for (const applet of layers.busybox.applets) {
    if (archivePath(applet) !== "bin/busybox")
      tree.add({ type: "symlink", path: applet, target: "/bin/busybox" });
  }
  for (const entry of readDirectoryTree(SKELETON_DIR)) tree.add(entry);
  const modules = layers.modules ?? [];
  if (modules.length > 0) {
    tree.add({ type: "directory", path: "lib/modules" });
    for (const module of modules)
      tree.add({ type: "file", path: `lib/modules/${module.name}.ko`, data: module.data });
    tree.add({
      type: "file",
      path: "etc/modules",
      data: new TextEncoder().encode(modules.map((m) => `${m.name}\n`).join("")),
    });
  }
  for (const overlay of layers.overlays ?? []) {
    for (const entry of readDirectoryTree(overlay)) tree.add(entry);
  }
  return tree.list();
}
