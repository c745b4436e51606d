// `virtkit run examples/simple` as a person runs it: the folder names its system, the console is the
// process's stdio, and poweroff ends the process with exit code 0.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureGuestImages } from "../../src/guest/images.ts";
import { WAIT_MS } from "./linux-session.ts";

const ROOT = join(import.meta.dirname, "../..");

describe("virtkit run examples/simple", () => {
  it("logs in, runs a command and exits 0 on poweroff", async () => {
    await ensureGuestImages({ kernel: "minimal" });
    const child = spawn(
      process.execPath,
      ["bin/virtkit.mjs", "run", "--console", "stdio", "examples/simple"],
      {
        cwd: ROOT,
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("latin1")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("latin1")));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    let cursor = 0;
    const waitFor = async (text: string): Promise<void> => {
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
    };

    await waitFor("buildroot login: ");
    child.stdin.write("root\n");
    await waitFor("# ");
    child.stdin.write("uname -m\n");
    await waitFor("aarch64\r\n");
    await waitFor("# ");
    child.stdin.write("poweroff\n");
    expect(await exited).toBe(0);
    expect(output).toContain("reboot: Power down");
  }, 600_000);
});
