// `virtkit run examples/simple --board maaxboard` (and odroidc4) as a person runs it: the folder names
// the board's system, the console is the process's stdio, the guest reaches a login, and poweroff ends
// the process with exit code 0. Explicitly asking for a NIC on a board without a slot is an error.
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureGuestImages } from "../../src/guest/images.ts";
import { boardNamed } from "../../src/machine/boards/index.ts";
import { WAIT_MS } from "../system/linux-session.ts";

const ROOT = join(import.meta.dirname, "../..");

describe.each([
  { board: "maaxboard", uart: "ttymxc0" },
  { board: "odroidc4", uart: "ttyAML0" },
])("virtkit run examples/simple --board $board", ({ board, uart }) => {
  it("boots to a login, runs a command and exits 0 on poweroff", async () => {
    await ensureGuestImages({ kernel: "minimal", board: boardNamed(board) });
    const child = spawn(
      process.execPath,
      ["bin/virtkit.mjs", "run", "--console", "stdio", "examples/simple", "--board", board],
      { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] },
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

    await waitFor(`console [${uart}] enabled`);
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

  it("refuses --net user: the board has no virtio-mmio slot for a NIC", () => {
    const result = spawnSync(
      process.execPath,
      ["bin/virtkit.mjs", "run", "--console", "stdio", "--net", "user", "examples/simple", "--board", board],
      { cwd: ROOT, encoding: "utf8", input: "", timeout: 120_000 },
    );
    expect(result.stderr).toContain(`Error: board ${board} has no virtio-mmio slot for a NIC`);
    expect(result.status).toBe(1);
  }, 180_000);
});
