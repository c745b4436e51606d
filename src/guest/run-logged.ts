// Runs a build tool with its output appended to a log file and counted as progress. A failure reports
// the tail of the log, which is where make and gcc say what went wrong.
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { OnProgress } from "./progress.ts";

export class BuildCommandError extends Error {}

export interface RunLoggedOptions {
  cwd: string;
  logFile: string;
  phase: string;
  onProgress: OnProgress;
  env?: NodeJS.ProcessEnv;
  /**
   * Runs the command as its own process group and records the group's id here while it runs, so a
   * build left running by a process that died can be stopped (stopOrphanedBuild) before it is retried.
   */
  pidFile?: string;
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
      detached: options.pidFile !== undefined,
    });
    const { pidFile } = options;
    const stopGroup = (): void => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // Already gone.
      }
    };
    if (pidFile && child.pid !== undefined) {
      writeFileSync(pidFile, String(child.pid));
      // A detached group outlives us unless stopped: stop it when this process exits first.
      process.once("exit", stopGroup);
    }
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
      if (pidFile) {
        process.off("exit", stopGroup);
        rmSync(pidFile, { force: true });
      }
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

/** Stops the process group named by a pid file that a build left behind when its parent died. */
export async function stopOrphanedBuild(pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const group = Number.parseInt(readFileSync(pidFile, "utf8"), 10);
  const alive = (): boolean => {
    try {
      process.kill(-group, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (Number.isInteger(group) && group > 0 && alive()) {
    process.kill(-group, "SIGKILL");
    for (let waited = 0; alive() && waited < 10_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  rmSync(pidFile, { force: true });
}
