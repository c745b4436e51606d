// libvmm's CI checks for the `simple` example, on virtkit's own CPU core: the minimal kernel boots to a
// login prompt, root logs in, commands run, and poweroff ends the run.
import { describe, expect, it } from "vitest";
import { LinuxSession } from "./linux-session.ts";

describe("the simple example with the minimal kernel", () => {
  it("boots to a shell, runs commands and powers off", async () => {
    const session = await LinuxSession.boot("minimal");
    const boot = await session.waitFor("clocksource: Switched to clocksource arch_sys_counter");
    expect(boot).toContain("Booting Linux on physical CPU 0x0000000000");
    expect(boot).toContain("psci: PSCIv1.1 detected in firmware."); // libvmm's PSCI over SMC
    await session.login();

    expect(await session.run("uname -m")).toBe("aarch64\n");
    const cpuinfo = await session.run("cat /proc/cpuinfo");
    expect(cpuinfo).toMatch(/^processor\t: 0$/m);
    expect(cpuinfo).toMatch(/^CPU part\t: 0xd03$/m); // Cortex-A53
    // The UART's interrupt arrives while the guest sleeps in WFI and its timer fires: both must keep working.
    expect(await session.run("sleep 1; echo slept")).toBe("slept\n");
    expect(await session.run("echo $((6 * 7))")).toBe("42\n");
    expect(await session.run("cat /proc/interrupts | grep -c -e uart-pl011 -e arch_timer")).toBe("2\n");

    await session.powerOff();
    expect(session.console.output).toContain("VMM|INFO: linux: the guest powered off (PSCI SYSTEM_OFF)");
  }, 600_000);

  it("boots the same way every time: the guest's clock is virtual time", async () => {
    const boots: string[] = [];
    for (let run = 0; run < 2; run++) {
      const session = await LinuxSession.boot("minimal");
      boots.push(await session.waitFor("buildroot login: "));
      session.system.stop();
      await session.done;
    }
    expect(boots[0]).toMatch(/^\[ +0\.\d{6}\] Run \/init as init process$/m);
    expect(boots[1]).toBe(boots[0]);
  }, 600_000);
});

describe("a fault in the simple example's guest", () => {
  it("is reported with the instruction, and stops the VM", async () => {
    const session = await LinuxSession.boot("minimal");
    await session.login();
    // Nothing is mapped or emulated at 0x9100000: busybox's devmem loads from it through /dev/mem.
    session.type("devmem 0x9100000 32\n");
    const report = await session.waitFor("the rest of the system keeps running");
    expect(report).toContain("VMM|ERROR: linux: unexpected memory fault on vCPU 0");
    expect(report).toContain("address: 0x9100000 (guest-physical), read of 4 bytes");
    expect(report).toMatch(/pc: 0x[0-9a-f]+ {2}ldr w\d+, \[x\d+/);
    expect(report).toContain("vCPU 0 of 'linux' is stopped");
    session.system.stop();
    await session.done;
  }, 600_000);
});
