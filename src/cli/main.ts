// The `virtkit` program: parses the command line and runs a command.

import { Command, CommanderError } from "commander";
import { commands } from "./commands.ts";

/** Runs the virtkit CLI and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name("virtkit")
    .description("Run seL4 Microkit systems and libvmm virtual machines on an emulated AArch64 machine")
    .exitOverride()
    .showHelpAfterError();
  let exitCode = 0;
  for (const register of commands) {
    register(program, (code) => {
      exitCode = code;
    });
  }
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 1;
    throw err;
  }
  return exitCode;
}
