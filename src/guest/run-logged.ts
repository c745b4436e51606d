// Runs a build tool with its output appended to a log file and counted as progress. A failure reports
// the tail of the log, which is where make and gcc say what went wrong.
import { spawn } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import type { OnProgress } from "./progress.ts";

export class BuildCommandError extends Error {}

export interface RunLoggedOptions {
  cwd: string;
  logFile: string;
  phase: string;
  onProgress: OnProgress;
  env?: NodeJS.ProcessEnv;
}

const TAIL_LINES = 25;

export function runLogged(
  command: string,
  args: readonly string[],
  options: RunLoggedOptions,
): Promise<void> {
  appendFileSync(options.logFile, `$ ${command} ${args.join(" ")}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let lines = 0;
    let partial = "";
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString("utf8");
      appendFileSync(options.logFile, text);
      const parts = (partial + text).split("\n");
      partial = parts.pop()!;
      for (const line of parts) {
        lines += 1;
        options.onProgress({ type: "output", phase: options.phase, lines, line });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", (err) => reject(new BuildCommandError(`cannot run ${command}: ${err.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) return resolve();
      const tail = readFileSync(options.logFile, "utf8").trimEnd().split("\n").slice(-TAIL_LINES).join("\n");
      reject(
        new BuildCommandError(
          `${options.phase} failed: ${command} ${args.join(" ")} exited with ${code ?? signal}.\n` +
            `Last lines of ${options.logFile}:\n${tail}`,
        ),
      );
    });
  });
}
