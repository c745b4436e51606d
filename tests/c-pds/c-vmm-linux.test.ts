// The tutorial's C VMM on virtkit's SDK: examples/c-simple built with make against the SDK (its VMM
// links the SDK's libvmm and embeds the guest's images), run with `virtkit run build/loader.img`; the
// minimal Linux guest boots on the emulated GIC's timer and UART interrupts, takes a login and
// commands, and powers off through the C VMM's PSCI.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { ensureGuestImages } from "../../src/guest/images.ts";
import { WAIT_MS } from "../system/linux-session.ts";
import { sdkPath, toolchainProblem } from "./harness.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const VIRTKIT = join(ROOT, "bin/virtkit.mjs");
const problem = toolchainProblem();

describe.skipIf(problem !== undefined)("a C VMM on the SDK boots Linux (examples/c-simple)", () => {
  test("make builds the image; virtkit run boots to a login, runs commands and powers off", async () => {
    await ensureGuestImages({ kernel: "minimal" });
    const build = mkdtempSync(join(tmpdir(), "virtkit-c-simple-"));
    execFileSync(
      "make",
      [
        "-s",
        "-C",
        join(ROOT, "examples/c-simple"),
        `MICROKIT_SDK=${sdkPath()}`,
        `BUILD_DIR=${build}`,
        `VIRTKIT=${process.execPath} ${VIRTKIT}`,
      ],
      { stdio: "pipe" },
    );
    const child = spawn(process.execPath, [VIRTKIT, "run", join(build, "loader.img"), "--console", "stdio"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("latin1")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("latin1")));
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
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await waitFor('VMM|INFO: starting "VMM"');
      await waitFor("VMM|INFO: starting guest at 0x40000000, DTB at 0x4f000000");
      await waitFor("psci: PSCIv1.1 detected in firmware.");
      await waitFor("buildroot login: ");
      child.stdin.write("root\n");
      await waitFor("# ");
      child.stdin.write("uname -m\n");
      await waitFor("aarch64\r\n");
      await waitFor("# ");
      // The timer's PPI and the UART's SPI, as the guest counted them through the emulated distributor.
      child.stdin.write("cat /proc/interrupts\n");
      await waitFor("# ");
      const interrupts = output.slice(output.lastIndexOf("cat /proc/interrupts"));
      const count = (name: string): number => {
        const line = interrupts.split("\n").find((l) => l.includes(name));
        expect(line, `/proc/interrupts has no ${name} line:\n${interrupts}`).toBeDefined();
        return Number(line!.trim().split(/\s+/)[1]);
      };
      expect(count("arch_timer")).toBeGreaterThan(10);
      expect(count("uart-pl011")).toBeGreaterThan(0);
      child.stdin.write("poweroff\n");
      await waitFor("reboot: Power down");
      await waitFor("VMM|INFO: the guest powered off (PSCI SYSTEM_OFF)");
      expect(output).not.toContain("ERROR");
    } finally {
      child.kill();
    }
  }, 180_000);
});
