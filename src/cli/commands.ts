// The list of `virtkit` commands.

import type { Command } from "commander";
import { registerCheck } from "./check.ts";
import { registerReport } from "./report.ts";
import { registerImages } from "./images.ts";
import { registerRun } from "./run.ts";
import { registerSdk } from "./sdk.ts";
import { registerMicrokitTool } from "./microkit-tool.ts";

/** Each CLI command registers itself on the program and reports its exit code. */
export type RegisterCommand = (program: Command, setExitCode: (code: number) => void) => void;

export const commands: RegisterCommand[] = [
  registerCheck,
  registerReport,
  registerImages,
  registerRun,
  registerSdk,
  registerMicrokitTool,
];
