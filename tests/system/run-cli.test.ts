// `virtkit run examples/simple` as a person runs it: the folder names its system, the console is the
// process's stdio, and poweroff ends the process with exit code 0.
import { describe, expect, it } from "vitest";
import { ensureGuestImages } from "../../src/guest/images.ts";
import { startVirtkit } from "./virtkit-process.ts";

describe("virtkit run examples/simple", () => {
  it("logs in, runs a command and exits 0 on poweroff", async () => {
    await ensureGuestImages({ kernel: "minimal" });
    const { type, waitFor, exited, output } = startVirtkit(["run", "--console", "stdio", "examples/simple"]);

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
});
