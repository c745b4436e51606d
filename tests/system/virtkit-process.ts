// `virtkit` as a separate process, as a person runs it: its stdout and stderr collected as one
// console, waits for text that has not been seen yet, and its end.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { WAIT_MS } from "./linux-session.ts";

export const ROOT = join(import.meta.dirname, "../..");

export interface VirtkitProcess {
  readonly child: ReturnType<typeof spawn>;
  /** Settles with the exit code and signal once the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once `text` appears after the previous match; fails if the process ends or WAIT_MS passes first. */
  waitFor(text: string): Promise<void>;
  /** Everything the process has written so far. */
  output(): string;
  type(text: string): void;
}

/** Starts `bin/virtkit.mjs args…` in the repository's folder. */
export function startVirtkit(args: string[]): VirtkitProcess {
  const child = spawn(process.execPath, [join(ROOT, "bin/virtkit.mjs"), ...args], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString("latin1")));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString("latin1")));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  let cursor = 0;
  return {
    child,
    exited,
    output: () => output,
    type: (text) => void child.stdin!.write(text),
    async waitFor(text) {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const at = output.indexOf(text, cursor);
        if (at >= 0) {
          cursor = at + text.length;
          return;
        }
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`console never showed ${JSON.stringify(text)}; it shows:\n${output.slice(-3000)}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}
