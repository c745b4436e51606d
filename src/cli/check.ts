// `virtkit check`, and the options every command that reads a .system file takes.

import { InvalidArgumentError, Option } from "commander";
import type { Command } from "commander";
import { BOARDS, DEFAULT_BOARD, boardNamed } from "../machine/boards/index.ts";
import { microkitPlatform } from "../microkit/platform.ts";
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
      .argument("<file>", "the .system file to check"),
  ).action((file: string, options: SystemOptions) => {
    const system = loadSystem(file, options);
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
