// `virtkit check`, and the options every command that reads a .system file takes.

import { InvalidArgumentError, Option } from "commander";
import type { Command } from "commander";
import { BOARDS, DEFAULT_BOARD, boardNamed } from "../machine/boards/index.ts";
import { rmSync } from "node:fs";
import { microkitPlatform } from "../microkit/platform.ts";
import { ProgramError, isSystemImage, unpackSystemImage } from "../microkit/index.ts";
import type { RegisterCommand } from "./commands.ts";
import type { SystemDescription } from "../sdf/index.ts";
import { SdfError, parseSystemFile } from "../sdf/index.ts";

export interface SystemOptions {
  board: string;
  cores: number;
  searchPath: string[];
}

/** Adds the options every command that reads a .system file takes. */
export function addSystemOptions(command: Command): Command {
  return command
    .addOption(
      new Option("--board <name>", "the board the system is for, as the Microkit tool's --board")
        .choices(BOARDS.map((b) => b.name))
        .default(DEFAULT_BOARD),
    )
    .option(
      "--cores <n>",
      "cores of the seL4 build: every PD and vCPU cpu must be below it (the domain scheduler needs 1)",
      parseCores,
      1,
    )
    .option(
      "--search-path <dir>",
      "another folder to search for prefill_path files, after the .system file's own folder (repeatable)",
      (dir: string, previous: string[]) => [...previous, dir],
      [] as string[],
    );
}

function parseCores(text: string): number {
  const cores = Number(text);
  if (!/^[0-9]+$/.test(text) || cores < 1 || cores > 256) {
    throw new InvalidArgumentError("give a whole number of cores from 1 to 256.");
  }
  return cores;
}

/**
 * A command's system file: `target` itself, or for a system image (the SDK's microkit tool writes
 * them) its .system file unpacked into a folder that is removed when the process exits, and the
 * board it was built for.
 */
export type SystemTarget =
  { ok: true; path: string; image?: { board: string } } | { ok: false; error: string };

export function systemTarget(target: string): SystemTarget {
  let image: boolean;
  try {
    image = isSystemImage(target);
  } catch {
    return { ok: true, path: target }; // unreadable: the parser says so in its words
  }
  if (!image) return { ok: true, path: target };
  try {
    const unpacked = unpackSystemImage(target);
    process.once("exit", () => rmSync(unpacked.folder, { recursive: true, force: true }));
    return { ok: true, path: unpacked.systemFile, image: { board: unpacked.board } };
  } catch (error) {
    if (!(error instanceof ProgramError)) throw error;
    return { ok: false, error: error.message };
  }
}

/**
 * The system a command works on: `target` checked as loadSystem does, on the board of an image (the
 * SDK's microkit tool builds one for a board) unless the user named one. Prints why and returns
 * undefined when there is none.
 */
export function loadSystemTarget(
  target: SystemTarget,
  options: SystemOptions,
  command: Command,
): SystemDescription | undefined {
  if (!target.ok) {
    process.stderr.write(`${target.error}\n`);
    return undefined;
  }
  const board = target.image?.board;
  if (board && command.getOptionValueSource("board") !== "cli") options.board = board;
  return loadSystem(target.path, options);
}

/**
 * Reads and checks a system description. Prints the error (its first line is the located
 * error itself) and returns undefined when the description is invalid; warnings go to stderr.
 */
export function loadSystem(file: string, options: SystemOptions): SystemDescription | undefined {
  try {
    const platform = microkitPlatform(boardNamed(options.board), options.cores);
    const system = parseSystemFile(file, { platform, searchPaths: options.searchPath });
    for (const warning of system.warnings) process.stderr.write(`${warning}\n`);
    return system;
  } catch (err) {
    if (!(err instanceof SdfError)) throw err;
    process.stderr.write(`${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ""}`);
    return undefined;
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

export const registerCheck: RegisterCommand = (program, setExitCode) => {
  addSystemOptions(
    program
      .command("check")
      .description(
        "Check a Microkit system description (.system) with the Microkit tool's rules. " +
          "Exits 0 when it is valid (warnings go to stderr) and 1 when it is not, with the error, " +
          "located as file:line:col, on the first line of stderr.",
      )
      .argument("<file>", "the .system file (or a system image from the SDK's microkit tool) to check"),
  ).action((file: string, options: SystemOptions, command: Command) => {
    const system = loadSystemTarget(systemTarget(file), options, command);
    if (!system) {
      setExitCode(1);
      return;
    }
    const parts = [
      plural(system.allProtectionDomains.length, "protection domain"),
      plural(system.memoryRegions.length, "memory region"),
      plural(system.channels.length, "channel"),
      plural(system.virtualMachines.length, "virtual machine"),
    ];
    process.stdout.write(`${file}: valid (${parts.join(", ")})\n`);
    setExitCode(0);
  });
};
