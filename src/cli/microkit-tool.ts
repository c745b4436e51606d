// `virtkit microkit`: the Microkit tool's command line (what the SDK's bin/microkit runs), so that
// Makefiles written for Microkit's SDK work unchanged: it checks the system as `virtkit check` does
// and writes a system image for `virtkit run` and a report.

import { writeFileSync } from "node:fs";
import { Option } from "commander";
import type { RegisterCommand } from "./commands.ts";
import { BOARDS, DEFAULT_BOARD } from "../machine/boards/index.ts";
import { ProgramError, buildSystemImage, elfReport } from "../microkit/index.ts";
import { summarise } from "../sdf/summary.ts";
import { loadSystem } from "./check.ts";
import { renderReport } from "./report.ts";
import { SDK_CONFIGS } from "./sdk.ts";

interface ToolOptions {
  board: string;
  config: string;
  searchPath: string[];
  output: string;
  report: string;
}

export const registerMicrokitTool: RegisterCommand = (program, setExitCode) => {
  program
    .command("microkit")
    .description(
      "the Microkit tool as virtkit's SDK provides it: check SYSTEM, write a system image and a report",
    )
    .argument("<system>", "the .system file")
    .addOption(
      new Option("--board <name>", "the board").choices(BOARDS.map((b) => b.name)).default(DEFAULT_BOARD),
    )
    .addOption(new Option("--config <config>", "the SDK configuration").choices(SDK_CONFIGS).default("debug"))
    .option("--search-path <dirs...>", "folders to find program images and prefill files in", [] as string[])
    .option("-o, --output <image>", "the image to write", "loader.img")
    .option("-r, --report <file>", "the report to write", "report.txt")
    // Options of the Microkit tool whose outputs describe a real seL4 boot; accepted so Makefiles run.
    .option("--viper-output <dir>", "accepted as the Microkit tool takes it; virtkit writes nothing there")
    .option("--capdl-json <file>", "accepted as the Microkit tool takes it; virtkit writes no capDL spec")
    .option("--image-type <type>", "accepted as the Microkit tool takes it; virtkit writes its own image")
    .option(
      "--override-kernel <elf>",
      "accepted as the Microkit tool takes it; virtkit's kernel is its model",
    )
    .action((system: string, options: ToolOptions) => {
      const description = loadSystem(system, {
        board: options.board,
        cores: 1,
        searchPath: options.searchPath,
      });
      if (!description) {
        setExitCode(1);
        return;
      }
      try {
        const image = buildSystemImage(description, {
          board: options.board,
          config: options.config,
          searchPaths: options.searchPath,
        });
        writeFileSync(options.output, image);
      } catch (error) {
        if (!(error instanceof ProgramError)) throw error;
        process.stderr.write(`${error.message}\n`);
        setExitCode(1);
        return;
      }
      const report = [renderReport(summarise(description)), ...elfReport(description, options.searchPath)];
      writeFileSync(options.report, `${report.join("\n")}\n`);
      setExitCode(0);
    });
};
