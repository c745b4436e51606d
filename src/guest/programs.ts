// C programs for a guest's user space: an example's programs/*.c, cross-compiled statically with
// Debian's arm64 compiler into /usr/bin of an overlay, cached as an `overlay` artifact keyed by the
// sources and the compiler.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { artifactDir, ensureArtifact, recordArtifact, sha256, type EnsuredArtifact } from "./cache.ts";
import { ensureHostPackages } from "./debian/archive.ts";
import { MINIMAL_KERNEL_PACKAGES } from "./kernel/minimal-kernel.ts";
import { inPhase, type OnProgress } from "./progress.ts";
import { runLogged } from "./run-logged.ts";

export const GUEST_CC = "aarch64-linux-gnu-gcc";
export const GUEST_CFLAGS = ["-static", "-O2", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"];
/** The cross compiler and a static C library (with the kernel's UAPI headers) for arm64. */
export const GUEST_PROGRAM_PACKAGES = [...MINIMAL_KERNEL_PACKAGES, "libc6-dev-arm64-cross"];

/** The compiler's first --version line: part of every cache key of what it builds. */
export function guestCompilerVersion(): string {
  const probe = spawnSync(GUEST_CC, ["--version"], { encoding: "utf8" });
  if (probe.status !== 0)
    throw new Error(`${GUEST_CC} --version failed: ${probe.stderr || probe.error?.message}`);
  return probe.stdout.split("\n")[0]!;
}

/** The C files of an example's `programs/` folder, sorted; none when it has no such folder. */
export function examplePrograms(exampleDir: string): string[] {
  const dir = join(exampleDir, "programs");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith(".c"))
    .sort()
    .map((name) => join(dir, name));
}

/** /usr/bin/<name>: a plain file name without .c. */
export function guestProgramName(path: string): string {
  const name = basename(path).replace(/\.c$/, "");
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || !path.endsWith(".c"))
    throw new Error(`guest program ${path}: give a C file (name.c) with a plain file name`);
  return name;
}

/** Builds (or finds in the cache) the programs, each from its one C file, linked with -lm. */
export async function ensureGuestPrograms(options: {
  cacheRoot: string;
  /** Names the artifact (the example's name). */
  name: string;
  programs: readonly string[];
  onProgress: OnProgress;
}): Promise<{ overlay: string; artifact: EnsuredArtifact }> {
  const { programs, onProgress } = options;
  const names = programs.map(guestProgramName);
  ensureHostPackages(options.cacheRoot, GUEST_PROGRAM_PACKAGES);
  const hash = sha256(
    guestCompilerVersion(),
    ...programs.flatMap((path) => [basename(path), readFileSync(path)]),
  );
  const name = `programs-${options.name}`;
  const artifact = await ensureArtifact(
    artifactDir(options.cacheRoot, "overlay", name, hash),
    async (dir) => {
      const logFile = join(dir, "build.log");
      const bin = join(dir, "root", "usr", "bin");
      mkdirSync(bin, { recursive: true });
      for (const [i, program] of programs.entries()) {
        const phase = `building ${basename(program)}`;
        await inPhase(onProgress, phase, () =>
          runLogged(GUEST_CC, [...GUEST_CFLAGS, "-o", join(bin, names[i]!), program, "-lm"], {
            cwd: dir,
            logFile,
            phase,
            onProgress,
          }),
        );
      }
      return recordArtifact(dir, {
        kind: "overlay",
        name,
        file: "root",
        size: 0,
        sha256: hash,
        source: programs.map((p) => basename(p)).join(", "),
      });
    },
  );
  return { overlay: join(artifact.dir, "root"), artifact };
}
