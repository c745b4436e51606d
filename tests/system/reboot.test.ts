// PSCI SYSTEM_RESET in the simple example: `reboot` restarts the guest from its images, and the second
// boot must reach a working shell (its timer and UART interrupts delivered as on the first boot).
import { describe, expect, it } from "vitest";
import { LinuxSession } from "./linux-session.ts";

describe("rebooting the simple example's guest", () => {
  it("boots again from its images and runs commands after the reboot", async () => {
    const session = await LinuxSession.boot("minimal");
    await session.login();
    expect(await session.run("echo before")).toBe("before\n");

    session.type("reboot\n");
    await session.waitFor("VMM|INFO: linux: the guest asked for a reset (PSCI SYSTEM_RESET)");
    const secondBoot = await session.waitFor("clocksource: Switched to clocksource arch_sys_counter");
    expect(secondBoot).toContain("Booting Linux on physical CPU 0x0000000000");
    await session.login();
    expect(await session.run("sleep 1; echo slept")).toBe("slept\n");
    expect(await session.run("echo $((6 * 7))")).toBe("42\n");

    await session.powerOff();
    expect(session.console.output).toContain("VMM|INFO: linux: the guest powered off (PSCI SYSTEM_OFF)");
  }, 600_000);
});
