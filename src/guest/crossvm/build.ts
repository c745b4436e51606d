// The guest side of the cross-VM connectors, built for the kernel that boots: the three modules
// (dataport, emits_event, consumes_event) out of tree against the minimal kernel's build tree, and
// the init tools and an example's programs linked statically with the user library. Cached as an
// `overlay` artifact keyed by the kernel, every source and the compiler.
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { artifactDir, ensureArtifact, recordArtifact, sha256, type EnsuredArtifact } from "../cache.ts";
import { ensureHostPackages, installedVersion } from "../debian/archive.ts";
import type { KernelModule } from "../initramfs/rootfs.ts";
import {
  LINUX_SOURCE_PACKAGE,
  MAKE_VARS,
  ensureSourceTree,
  moduleBuildTree,
} from "../kernel/minimal-kernel.ts";
import { inPhase, type OnProgress } from "../progress.ts";
import { runLogged } from "../run-logged.ts";
import {
  GUEST_CC,
  GUEST_CFLAGS,
  GUEST_PROGRAM_PACKAGES,
  guestCompilerVersion,
  guestProgramName,
} from "../programs.ts";

export const CROSSVM_SOURCES = fileURLToPath(new URL(".", import.meta.url));
/** The modules, in the order S02modules loads them. */
export const CROSSVM_MODULES = ["dataport", "emits_event", "consumes_event"] as const;
/** The init tools: one program, three names. */
export const CROSSVM_INIT_TOOLS = ["dataport_init", "consumes_event_init", "emits_event_init"] as const;
/** The cross compiler and a static C library for arm64, besides what the kernel build needs. */
export const CROSSVM_PACKAGES = GUEST_PROGRAM_PACKAGES;

export interface CrossvmGuestOptions {
  cacheRoot: string;
  /** The kernel artifact the guest boots: a minimal kernel built with module support. */
  kernel: EnsuredArtifact;
  /** C programs built against the library and installed as /usr/sbin/<file name without .c>. */
  programs?: readonly string[];
  onProgress: OnProgress;
}

export interface CrossvmGuestFiles {
  /** dataport, emits_event, consumes_event, for /etc/modules (S02modules loads them at boot). */
  modules: KernelModule[];
  /** A directory to copy over the root file system: /usr/bin's tools, /usr/sbin's programs. */
  overlay: string;
  artifact: EnsuredArtifact;
}

/** The files under a source folder, for the cache key. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /\.(c|h)$|^Kbuild$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}

/** Builds (or finds in the cache) the modules, tools and programs for `options.kernel`. */
export async function ensureCrossvmGuest(options: CrossvmGuestOptions): Promise<CrossvmGuestFiles> {
  const { kernel, onProgress } = options;
  const tree = moduleBuildTree(kernel.dir);
  if (!tree) {
    throw new Error(
      `the cross-VM connectors need their kernel modules built against the guest's kernel, and ` +
        `${kernel.manifest.source} has no module build tree: boot the minimal kernel (--kernel minimal), ` +
        `whose fragment src/guest/kernel/minimal.config turns on CONFIG_MODULES`,
    );
  }
  const programs = options.programs ?? [];
  for (const program of programs) {
    if (!existsSync(program)) throw new Error(`cross-VM guest program ${program} does not exist`);
  }
  const names = programs.map(guestProgramName);
  const clash = names.find((name, i) => names.indexOf(name) !== i);
  if (clash) throw new Error(`two cross-VM guest programs would both be /usr/sbin/${clash}`);
  ensureHostPackages(options.cacheRoot, CROSSVM_PACKAGES);

  const moduleSources = sourceFiles(join(CROSSVM_SOURCES, "modules"));
  const libSources = sourceFiles(join(CROSSVM_SOURCES, "lib"));
  const toolSources = sourceFiles(join(CROSSVM_SOURCES, "tools"));
  const inputs = [...moduleSources, ...libSources, ...toolSources, ...programs];
  const hash = sha256(
    kernel.manifest.sha256,
    guestCompilerVersion(),
    ...inputs.flatMap((path) => [basename(path), readFileSync(path)]),
  );
  const name = ["crossvm", ...names].join("-");
  const dir = artifactDir(options.cacheRoot, "overlay", name, hash);
  const artifact = await ensureArtifact(dir, async (dir) => {
    const logFile = join(dir, "build.log");
    const work = join(dir, "work");
    // The modules build in a copy, beside the header they share with the library.
    mkdirSync(join(work, "modules"), { recursive: true });
    mkdirSync(join(work, "lib"), { recursive: true });
    for (const file of moduleSources) cpSync(file, join(work, "modules", basename(file)));
    cpSync(join(CROSSVM_SOURCES, "lib", "crossvm_abi.h"), join(work, "lib", "crossvm_abi.h"));
    const source = await ensureSourceTree(
      options.cacheRoot,
      installedVersion(LINUX_SOURCE_PACKAGE),
      onProgress,
    );
    const phase = "building the cross-VM modules";
    await inPhase(onProgress, phase, () =>
      runLogged("make", ["-C", source, ...MAKE_VARS, `O=${tree}`, `M=${join(work, "modules")}`, "modules"], {
        cwd: work,
        logFile,
        phase,
        onProgress,
        env: { ...process.env, KBUILD_BUILD_TIMESTAMP: "1970-01-01" },
      }),
    );
    const root = join(dir, "root");
    mkdirSync(join(root, "usr", "bin"), { recursive: true });
    mkdirSync(join(root, "usr", "sbin"), { recursive: true });
    mkdirSync(join(dir, "modules"));
    for (const module of CROSSVM_MODULES)
      cpSync(join(work, "modules", `${module}.ko`), join(dir, "modules", `${module}.ko`));

    const lib = join(CROSSVM_SOURCES, "lib");
    const cc = (phase: string, output: string, sources: string[]): Promise<void> =>
      inPhase(onProgress, phase, () =>
        runLogged(GUEST_CC, [...GUEST_CFLAGS, `-I${lib}`, "-o", output, ...sources, join(lib, "crossvm.c")], {
          cwd: work,
          logFile,
          phase,
          onProgress,
        }),
      );
    await cc("building the cross-VM init tools", join(root, "usr", "bin", "crossvm_init"), [
      join(CROSSVM_SOURCES, "tools", "crossvm_init.c"),
    ]);
    for (const tool of CROSSVM_INIT_TOOLS) symlinkSync("crossvm_init", join(root, "usr", "bin", tool));
    for (const [i, program] of programs.entries())
      await cc(`building ${basename(program)}`, join(root, "usr", "sbin", names[i]!), [program]);
    rmSync(work, { recursive: true, force: true });
    return recordArtifact(dir, {
      kind: "overlay",
      name,
      file: "root",
      size: 0,
      sha256: hash,
      source: `src/guest/crossvm (modules for ${kernel.manifest.source}; ${CROSSVM_INIT_TOOLS.join(", ")})${
        programs.length > 0 ? `; ${programs.map((p) => basename(p)).join(", ")}` : ""
      }`,
    });
  });
  return {
    modules: CROSSVM_MODULES.map((module) => ({
      name: module,
      data: readFileSync(join(artifact.dir, "modules", `${module}.ko`)),
    })),
    overlay: join(artifact.dir, "root"),
    artifact,
  };
}
