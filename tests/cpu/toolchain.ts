// The Debian cross toolchain and qemu-user that the CPU tests, the bare-metal guests and the CPU
// benchmark build and run with. Every caller goes through ensureCpuTestTools so a missing tool is
// installed, or reported with what to do, in one place.
import { execFileSync, spawnSync } from "node:child_process";
import { ensureDebianPackages } from "../../src/host/debian-packages.ts";

export const CPU_TEST_PACKAGES = [
  "qemu-user",
  "binutils-aarch64-linux-gnu",
  "gcc-aarch64-linux-gnu",
] as const;

export const CROSS = {
  as: "aarch64-linux-gnu-as",
  ld: "aarch64-linux-gnu-ld",
  gcc: "aarch64-linux-gnu-gcc",
  objcopy: "aarch64-linux-gnu-objcopy",
  objdump: "aarch64-linux-gnu-objdump",
  nm: "aarch64-linux-gnu-nm",
  qemu: "qemu-aarch64",
} as const;

let checked: string | undefined;

/**
 * Installs the cross toolchain and qemu-user when missing. Returns undefined when they are usable,
 * otherwise the reason (outside CI a test may skip with it; under CI it must fail).
 */
export function ensureCpuTestTools(): string | undefined {
  if (checked !== undefined) return checked === "" ? undefined : checked;
  try {
    ensureDebianPackages(CPU_TEST_PACKAGES);
    for (const tool of [CROSS.as, CROSS.gcc, CROSS.qemu]) {
      const probe = spawnSync(tool, ["--version"], { encoding: "utf8" });
      if (probe.status !== 0)
        throw new Error(`${tool} --version failed: ${probe.error?.message ?? probe.stderr}`);
    }
    checked = "";
    return undefined;
  } catch (error) {
    checked = `the CPU test tools (${CPU_TEST_PACKAGES.join(", ")}) are unavailable: ${(error as Error).message}`;
    return checked;
  }
}

/** Runs a toolchain command and turns its failure into an error naming the command and its output. */
export function runTool(tool: string, args: string[], input?: string): Buffer {
  try {
    return execFileSync(tool, args, { input, maxBuffer: 256 * 1024 * 1024, stdio: ["pipe", "pipe", "pipe"] });
  } catch (error) {
    const e = error as { stderr?: Buffer; message: string };
    throw new Error(`${tool} ${args.join(" ")} failed:\n${e.stderr?.toString() || e.message}`, {
      cause: error,
    });
  }
}
