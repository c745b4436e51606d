// The default guest kernel: Debian's linux-source-6.1 configured with allnoconfig plus our fragment,
// cross-compiled with Debian's aarch64-linux-gnu-gcc. Small and quick to boot (see
// shared/reference/anchors.md); cached by a hash of the fragment and the source package version.
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, copyFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  artifactDir,
  ensureArtifact,
  recordArtifact,
  sha256,
  sha256Bytes,
  type EnsuredArtifact,
} from "../cache.ts";
import { ensureHostPackages, installedVersion } from "../debian/archive.ts";
import { inPhase, type OnProgress } from "../progress.ts";
import { runLogged, stopOrphanedBuild } from "../run-logged.ts";
import { checkConfigApplied, parseConfigFragment } from "./config-fragment.ts";
import { loadArm64Image } from "../../libvmm/image-header.ts";

export const MINIMAL_CONFIG_FRAGMENT = fileURLToPath(new URL("./minimal.config", import.meta.url));
export const LINUX_SOURCE_PACKAGE = "linux-source-6.1";
const LINUX_SOURCE_TARBALL = `/usr/src/${LINUX_SOURCE_PACKAGE}.tar.xz`;

/** Host tools the build needs: the cross compiler, the kernel's host-side build tools, the source. */
export const MINIMAL_KERNEL_PACKAGES = [
  "gcc-aarch64-linux-gnu",
  "gcc",
  "libc6-dev",
  "make",
  "bc",
  "flex",
  "bison",
  "xz-utils",
  LINUX_SOURCE_PACKAGE,
];

export const MAKE_VARS = ["ARCH=arm64", "CROSS_COMPILE=aarch64-linux-gnu-"];

/**
 * What out-of-tree modules (`make M=…`) need from the object tree, as Debian's linux-headers keeps it:
 * the configuration, generated headers, the built host tools and the exported symbols. Kept in the
 * artifact's `build/` when the kernel has module support.
 */
const MODULE_BUILD_TREE = [".config", "Module.symvers", "include", "arch/arm64/include", "scripts"];
/** The artifact's layout (now with `build/`): part of the cache key, so older artifacts are rebuilt. */
const ARTIFACT_LAYOUT = "Image, config, build.log and the module build tree";

/** The object tree `make M=…` builds modules against, in a minimal kernel artifact; undefined without one. */
export function moduleBuildTree(kernelDir: string): string | undefined {
  const tree = join(kernelDir, "build");
  return existsSync(join(tree, "Module.symvers")) ? tree : undefined;
}

export interface MinimalKernelOptions {
  cacheRoot: string;
  onProgress: OnProgress;
  /** Another fragment, for tests and experiments; defaults to src/guest/kernel/minimal.config. */
  fragment?: string;
}

/** The extracted source tree, shared by every fragment built from the same version. */
export async function ensureSourceTree(
  cacheRoot: string,
  version: string,
  onProgress: OnProgress,
): Promise<string> {
  const tree = join(cacheRoot, "src", `${LINUX_SOURCE_PACKAGE}_${version}`);
  const marker = ".virtkit-extracted";
  if (existsSync(join(tree, marker))) return tree;
  // Unpack aside and rename, so a tree under the final name is always complete.
  const scratch = `${tree}.extracting-${process.pid}`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  await inPhase(onProgress, `extracting ${LINUX_SOURCE_TARBALL} (${version})`, () =>
    runLogged("tar", ["-xJf", LINUX_SOURCE_TARBALL, "-C", scratch], {
      cwd: scratch,
      logFile: join(scratch, "extract.log"),
      phase: "extracting",
      onProgress,
    }),
  );
  mkdirSync(join(scratch, LINUX_SOURCE_PACKAGE, marker));
  if (existsSync(join(tree, marker))) {
    rmSync(scratch, { recursive: true, force: true });
    return tree;
  }
  rmSync(tree, { recursive: true, force: true });
  renameSync(join(scratch, LINUX_SOURCE_PACKAGE), tree);
  rmSync(scratch, { recursive: true, force: true });
  return tree;
}

/** Builds (or finds in the cache) the minimal kernel; the artifact directory keeps Image, .config and build.log. */
export async function ensureMinimalKernel(options: MinimalKernelOptions): Promise<EnsuredArtifact> {
  const fragmentPath = options.fragment ?? MINIMAL_CONFIG_FRAGMENT;
  const fragment = readFileSync(fragmentPath, "utf8");
  const settings = parseConfigFragment(fragment, fragmentPath);
  ensureHostPackages(options.cacheRoot, MINIMAL_KERNEL_PACKAGES);
  const version = installedVersion(LINUX_SOURCE_PACKAGE);
  const inputsHash = sha256(fragment, version, ARTIFACT_LAYOUT);
  const dir = artifactDir(options.cacheRoot, "kernel", "minimal", inputsHash);
  return ensureArtifact(dir, async (dir) => {
    const { onProgress } = options;
    const source = await ensureSourceTree(options.cacheRoot, version, onProgress);
    // Outside the artifact directory, so an interrupted build resumes where make stopped.
    const objects = join(options.cacheRoot, "build", `kernel-minimal-${inputsHash.slice(0, 16)}`);
    const pidFile = `${objects}.make-pid`;
    await stopOrphanedBuild(pidFile);
    mkdirSync(objects, { recursive: true });
    const logFile = join(dir, "build.log");
    const env = {
      ...process.env,
      // Reproducible builds: the same inputs give the same Image.
      KBUILD_BUILD_TIMESTAMP: "1970-01-01",
      KBUILD_BUILD_USER: "virtkit",
      KBUILD_BUILD_HOST: "virtkit",
    };
    const make = (phase: string, args: string[]): Promise<void> =>
      inPhase(onProgress, phase, () =>
        runLogged("make", [...MAKE_VARS, `O=${objects}`, ...args], {
          cwd: source,
          logFile,
          phase,
          onProgress,
          env,
          pidFile,
        }),
      );
    await make(`configuring (allnoconfig + ${basename(fragmentPath)})`, [
      `KCONFIG_ALLCONFIG=${fragmentPath}`,
      "allnoconfig",
    ]);
    const dotConfig = readFileSync(join(objects, ".config"), "utf8");
    checkConfigApplied(settings, dotConfig, fragmentPath);
    const jobs = availableParallelism();
    const modules = /^CONFIG_MODULES=y$/m.test(dotConfig);
    // `modules` builds no module here (nothing is =m) but writes Module.symvers for out-of-tree ones.
    await make(`building Image (make -j${jobs}; about 4 minutes on 2 cores)`, [
      `-j${jobs}`,
      "Image",
      ...(modules ? ["modules"] : []),
    ]);
    const built = join(objects, "arch/arm64/boot/Image");
    const image = readFileSync(built);
    loadArm64Image(image, built);
    copyFileSync(built, join(dir, "Image"));
    copyFileSync(join(objects, ".config"), join(dir, "config"));
    if (modules) {
      for (const path of MODULE_BUILD_TREE)
        cpSync(join(objects, path), join(dir, "build", path), { recursive: true, verbatimSymlinks: true });
    }
    // The object tree is ~200 MB and only needed while building.
    rmSync(objects, { recursive: true, force: true });
    return recordArtifact(dir, {
      kind: "kernel",
      name: "minimal",
      file: "Image",
      size: image.length,
      sha256: sha256Bytes(image),
      source: `${LINUX_SOURCE_PACKAGE} ${version} + ${fragmentPath.split("/").slice(-3).join("/")}`,
    });
  });
}
