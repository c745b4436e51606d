// Debian's stock cloud kernel for arm64, from the package archive: its Image as the guest kernel, and the
// virtIO drivers it builds as modules, with everything they depend on, for the initramfs to load.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import {
  artifactDir,
  ensureArtifact,
  sha256,
  withLockSync,
  writeArtifact,
  type EnsuredArtifact,
} from "../cache.ts";
import {
  candidateVersion,
  DebianArchiveError,
  ensureExtractedPackage,
  ensureHostPackages,
  ensureForeignArchitecture,
  packageDependencies,
} from "../debian/archive.ts";
import { elfSection } from "../elf.ts";
import type { KernelModule } from "../initramfs/rootfs.ts";
import { loadArm64Image } from "../../libvmm/image-header.ts";

/** The meta-package that always depends on the current cloud kernel of the release. */
const META_PACKAGE = "linux-image-cloud-arm64";
/** The virtIO drivers examples use; their dependencies are found from each module's .modinfo. */
export const DEBIAN_VIRTIO_MODULES = ["virtio_mmio", "virtio_net", "virtio_blk", "virtio_console"];

export interface DebianKernel {
  kernel: EnsuredArtifact;
  /** In load order: every module after the modules it depends on. */
  modules: KernelModule[];
  /** E.g. `linux-image-6.1.0-41-cloud-arm64 6.1.158-1`. */
  source: string;
}

function moduleName(file: string): string {
  return file.replace(/\.ko(\.xz)?$/, "").replace(/-/g, "_");
}

function walkModules(dir: string, found: Map<string, string>): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walkModules(path, found);
    else if (/\.ko(\.xz)?$/.test(entry.name)) found.set(moduleName(entry.name), path);
  }
}

function readModule(path: string): Uint8Array {
  if (!path.endsWith(".xz")) return readFileSync(path);
  const result = spawnSync("xz", ["-dc", path], { maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`cannot decompress ${path}: ${result.stderr?.toString().trim()}`);
  return result.stdout;
}

function dependsOf(data: Uint8Array, path: string): string[] {
  const modinfo = elfSection(data, ".modinfo", path);
  if (!modinfo) throw new Error(`${path}: kernel module without a .modinfo section`);
  const fields = new TextDecoder().decode(modinfo).split("\0");
  const depends = fields.find((field) => field.startsWith("depends="))?.slice("depends=".length) ?? "";
  return depends
    .split(",")
    .filter((name) => name !== "")
    .map((name) => name.replace(/-/g, "_"));
}

/**
 * The named modules and their dependencies, dependencies first. A name that is not a module file must
 * be built into the kernel (listed in modules.builtin), otherwise the kernel cannot provide it.
 */
export function resolveModules(modulesDir: string, wanted: readonly string[]): KernelModule[] {
  const files = new Map<string, string>();
  walkModules(join(modulesDir, "kernel"), files);
  const builtinList = join(modulesDir, "modules.builtin");
  const builtin = new Set(
    existsSync(builtinList)
      ? readFileSync(builtinList, "utf8")
          .split("\n")
          .filter((line) => line !== "")
          .map((line) => moduleName(line.slice(line.lastIndexOf("/") + 1)))
      : [],
  );
  const ordered: KernelModule[] = [];
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string, neededBy: string): void => {
    if (done.has(name) || builtin.has(name)) return;
    if (visiting.has(name)) throw new Error(`kernel modules depend on each other in a cycle through ${name}`);
    const path = files.get(name);
    if (!path)
      throw new Error(
        `${neededBy} needs kernel module ${name}, which is neither in ${modulesDir} nor built in`,
      );
    visiting.add(name);
    const data = readModule(path);
    for (const dep of dependsOf(data, path)) visit(dep, name);
    visiting.delete(name);
    done.add(name);
    ordered.push({ name, data });
  };
  for (const name of wanted) visit(name, "virtkit");
  return ordered;
}

/** The versioned kernel package the meta-package currently points to. */
function currentKernelPackage(cacheRoot: string, log: (line: string) => void): string {
  return withLockSync(join(cacheRoot, "apt.lock"), () => resolveKernelPackage(log));
}

function resolveKernelPackage(log: (line: string) => void): string {
  ensureForeignArchitecture("arm64", log);
  if (!candidateVersion(META_PACKAGE, "arm64", log)) {
    throw new DebianArchiveError(
      `the Debian archive has no ${META_PACKAGE} for arm64; check /etc/apt/sources.list`,
    );
  }
  const pkg = packageDependencies(META_PACKAGE, "arm64").find((name) =>
    /^linux-image-[0-9].*-cloud-arm64$/.test(name),
  );
  if (!pkg)
    throw new DebianArchiveError(
      `${META_PACKAGE}:arm64 does not depend on a linux-image-*-cloud-arm64 package`,
    );
  return pkg;
}

export async function ensureDebianKernel(
  cacheRoot: string,
  log: (line: string) => void,
): Promise<DebianKernel> {
  ensureHostPackages(cacheRoot, ["xz-utils"]);
  const pkg = currentKernelPackage(cacheRoot, log);
  const { root, version } = ensureExtractedPackage(cacheRoot, pkg, "arm64", log);
  const source = `${pkg} ${version}`;
  const [release] = readdirSync(join(root, "lib/modules"));
  const vmlinuz = join(root, "boot", `vmlinuz-${release}`);
  if (!release || !existsSync(vmlinuz))
    throw new DebianArchiveError(`${pkg}: no boot/vmlinuz-<release> in the package`);
  const dir = artifactDir(cacheRoot, "kernel", "debian", sha256(source));
  const kernel = await ensureArtifact(dir, async (dir) => {
    const { bytes } = loadArm64Image(readFileSync(vmlinuz), vmlinuz);
    return writeArtifact(dir, { kind: "kernel", name: "debian", file: "Image", source }, bytes);
  });
  return {
    kernel,
    modules: resolveModules(join(root, "lib/modules", release), DEBIAN_VIRTIO_MODULES),
    source,
  };
}
