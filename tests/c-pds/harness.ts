// Builds C PDs with virtkit's SDK and Debian's cross compiler, and runs systems of them (mixed with
// TypeScript PDs) on an in-memory console. Without the toolchain the tests skip, except under CI.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CROSS_PREFIX, SDK_PACKAGES, ensureSdk } from "../../src/cli/sdk.ts";
import { ensureDebianPackages } from "../../src/host/debian-packages.ts";
import { bootSystemFile } from "../../src/microkit/index.ts";
import { HarnessConsole } from "../../src/machine/backends/harness-console.ts";

const PROGRAMS = join(import.meta.dirname, "programs");
const BOARD = "qemu_virt_aarch64";

/** Why the C toolchain is unusable, or undefined when it works. Under CI its absence is a failure. */
export function toolchainProblem(): string | undefined {
  try {
    ensureDebianPackages(SDK_PACKAGES, () => {});
    return undefined;
  } catch (error) {
    if (process.env.CI === "true") throw error;
    return (error as Error).message;
  }
}

let sdk: string | undefined;

/** virtkit's SDK, written once per test file into a temporary folder. */
export function sdkPath(): string {
  sdk ??= ensureSdk(mkdtempSync(join(tmpdir(), "virtkit-sdk-test-")));
  return sdk;
}

/** Compiles and links programs/<source>.c (with the SDK's flags, as Microkit's Makefiles do) into dir/<elf>. */
export function buildPd(dir: string, source: string, elf = `${source}.elf`, defines: string[] = []): string {
  const board = join(sdkPath(), "board", BOARD, "debug");
  const object = join(dir, `${source}.o`);
  const flags = ["-ffreestanding", "-nostdlib", "-O2", "-g", "-Wall", "-Werror", "-mstrict-align"];
  execFileSync(`${CROSS_PREFIX}gcc`, [
    ...flags,
    ...defines.map((d) => `-D${d}`),
    "-I",
    join(board, "include"),
    "-c",
    join(PROGRAMS, `${source}.c`),
    "-o",
    object,
  ]);
  const out = join(dir, elf);
  execFileSync(`${CROSS_PREFIX}ld`, [
    "-L",
    join(board, "lib"),
    object,
    "-lmicrokit",
    "-Tmicrokit.ld",
    "-o",
    out,
  ]);
  return out;
}

/** A fresh folder holding `files` (name → text) and copies of `copies` (name → path). */
export function folder(files: Record<string, string>, copies: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "virtkit-c-pds-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  for (const [name, path] of Object.entries(copies)) copyFileSync(path, join(dir, name));
  return dir;
}

/** Text typed at the UART, then what to wait for on the console before typing more. */
export interface Keys {
  type: string;
  waitFor: string;
}

/** Boots dir/<system>, types `input` at its UART, runs it until nothing more can happen, returns the console output. */
export async function runSystem(
  dir: string,
  system = "test.system",
  input: readonly Keys[] = [],
): Promise<string> {
  const console = new HarnessConsole();
  const booted = await bootSystemFile(join(dir, system), { console, ramSize: 64 * 1024 * 1024 });
  const done = booted.run();
  for (const keys of input) {
    console.type(keys.type);
    await console.waitFor(keys.waitFor, { timeoutMs: 30_000 });
  }
  console.endInput();
  await done;
  return console.output;
}

export const MONITOR_STARTED = "MON|INFO: Microkit Monitor started!\n";
