// The `simple` example with Debian's stock cloud kernel: its initramfs loads the virtIO modules, and the
// kernel's pointer-authentication hint instructions run as NOPs on the Cortex-A53 virtkit emulates.
import { describe, expect, it } from "vitest";
import { LinuxSession } from "./linux-session.ts";

describe("the simple example with Debian's kernel", () => {
  it("boots to a shell, runs commands and powers off", async () => {
    const session = await LinuxSession.boot("debian");
    await session.waitFor("clocksource: Switched to clocksource arch_sys_counter");
    await session.login();

    expect(await session.run("uname -m")).toBe("aarch64\n");
    expect(await session.run("uname -r")).toMatch(/-cloud-arm64\n$/);
    expect(await session.run("grep -c ^virtio /proc/modules")).not.toBe("0\n");

    await session.powerOff();
  }, 600_000);
});
