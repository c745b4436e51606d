// Builds the bare-metal test guests from tests/guests/*.c (plus the shared lib/) into build/guests/,
// with the Debian cross compiler. Rebuilds only when a source is newer than the image.
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CROSS, runTool } from "../cpu/toolchain.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
export const GUEST_BUILD_DIR = join(root, "build", "guests");
const LIB_SOURCES = ["lib/start.S", "lib/runtime.c", "lib/mmu.c", "lib/el0.c"].map((s) => join(here, s));
const LIB_DEPENDENCIES = [
  "lib/runtime.h",
  "lib/mmu.h",
  "lib/gicv.h",
  "lib/el0.h",
  "lib/virtio_mmio.h",
  "lib/guest.ld",
].map((s) => join(here, s));

export const GUEST_CFLAGS = [
  "-O2",
  "-g",
  "-Wall",
  "-Wextra",
  "-Werror",
  "-ffreestanding",
  "-fno-builtin",
  "-nostdlib",
  "-nostartfiles",
  "-static",
  "-fno-pic",
  "-fno-pie",
  "-no-pie",
  "-fno-stack-protector",
  "-fno-tree-loop-distribute-patterns",
  "-fno-asynchronous-unwind-tables",
  "-Wl,--build-id=none",
  // No FP/SIMD in the guests' C code (the vectors do not save V registers), and no unaligned accesses
  // the compiler invents: data accesses with the MMU off are Device accesses.
  "-mgeneral-regs-only",
  "-mstrict-align",
  "-march=armv8-a",
];

export interface GuestImage {
  name: string;
  elf: string;
  /** Flat image to load at the guest RAM base. */
  bin: string;
}

/** The guest programs: every tests/guests/*.c is one. */
export function guestNames(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith(".c"))
    .map((f) => f.slice(0, -2))
    .sort();
}

function newest(paths: string[]): number {
  return Math.max(...paths.map((p) => statSync(p).mtimeMs));
}

/**
 * Links `sources` (C, assembly or objects) with the guest runtime into `<outDir>/<name>.elf` and `.bin`,
 * for the start of guest RAM or `loadAddress`.
 */
export function linkGuest(outDir: string, name: string, sources: string[], loadAddress?: number): GuestImage {
  mkdirSync(outDir, { recursive: true });
  const elf = join(outDir, `${name}.elf`);
  const bin = join(outDir, `${name}.bin`);
  const inputs = [...sources, ...LIB_SOURCES];
  if (!existsSync(bin) || statSync(bin).mtimeMs < newest([...inputs, ...LIB_DEPENDENCIES])) {
    const flags = [...GUEST_CFLAGS, "-I", here, "-T", join(here, "lib/guest.ld")];
    if (loadAddress !== undefined) flags.push(`-Wl,--defsym=GUEST_LOAD_ADDRESS=${loadAddress}`);
    runTool(CROSS.gcc, [...flags, "-o", elf, ...inputs]);
    runTool(CROSS.objcopy, ["-O", "binary", elf, bin]);
  }
  return { name, elf, bin };
}

/** Builds tests/guests/<name>.c; `loadAddress` for a guest that is not loaded at the start of RAM. */
export function buildGuest(name: string, loadAddress?: number): GuestImage {
  return linkGuest(GUEST_BUILD_DIR, name, [join(here, `${name}.c`)], loadAddress);
}
