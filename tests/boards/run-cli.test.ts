// `virtkit run examples/simple --board maaxboard` (and odroidc4) as a person runs it: the folder names
// the board's system, the console is the process's stdio, the guest reaches a login, and poweroff ends
// the process with exit code 0. Explicitly asking for a NIC on a board without a slot is an error.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ensureGuestImages } from "../../src/guest/images.ts";
import { boardNamed } from "../../src/machine/boards/index.ts";
import { ROOT, startVirtkit } from "../system/virtkit-process.ts";

describe.each([
  { board: "maaxboard", uart: "ttymxc0" },
  { board: "odroidc4", uart: "ttyAML0" },
])("virtkit run examples/simple --board $board", ({ board, uart }) => {
  it("boots to a login, runs a command and exits 0 on poweroff", async () => {
    await ensureGuestImages({ kernel: "minimal", board: boardNamed(board) });
    const { type, waitFor, exited, output } = startVirtkit([
      ...["run", "--console", "stdio", "examples/simple", "--board", board],
    ]);

    await waitFor(`console [${uart}] enabled`);
    await waitFor("buildroot login: ");
    type("root\n");
    await waitFor("# ");
    type("uname -m\n");
    await waitFor("aarch64\r\n");
    await waitFor("# ");
    type("poweroff\n");
    expect((await exited).code).toBe(0);
    expect(output()).toContain("reboot: Power down");
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
