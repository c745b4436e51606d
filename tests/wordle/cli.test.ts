import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ensureDebianPackages } from "../../src/host/debian-packages.ts";
import { WORDLE, word } from "./session.ts";

const ROOT = join(import.meta.dirname, "../..");
const VIRTKIT = join(ROOT, "bin/virtkit.mjs");

function virtkit(args: string[], input: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [VIRTKIT, ...args], {
    input,
    encoding: "latin1",
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("virtkit run", () => {
  test("--console stdio plays from a pipe and exits 0 when the input ends", () => {
    const run = virtkit(["run", join(WORDLE, "part3.system"), "--console", "stdio"], "hlelo\nhello\n");
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout.startsWith("MON|INFO: Microkit Monitor started!\nWORDLE SERVER: starting\n")).toBe(
      true,
    );
    expect(run.stdout).toContain(`${word("hello", "green")}\n`);
  });

  test("a folder with several systems, a bad file and a missing PD module are errors with exit 1", () => {
    const folder = virtkit(["run", WORDLE, "--console", "stdio"], "");
    expect(folder.status).toBe(1);
    expect(folder.stderr).toContain("holds part3.system, part4.system: name the one to run");
    const missing = virtkit(["run", join(ROOT, "no-such.system"), "--console", "stdio"], "");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("no-such.system");
    // A system whose PD has no module beside it.
    const lonely = join(mkdtempSync(join(tmpdir(), "virtkit-wordle-")), "lonely.system");
    writeFileSync(
      lonely,
      '<system><protection_domain name="vmm"><program_image path="vmm.elf"/></protection_domain></system>',
    );
    const missingModule = virtkit(["run", lonely, "--console", "stdio"], "");
    expect(missingModule.status).toBe(1);
    expect(missingModule.stderr).toMatch(
      /^Error: protection domain 'vmm': program_image 'vmm\.elf' has no TypeScript module/,
    );
  });

  test("in a terminal keys arrive raw, output keeps its line endings, Ctrl-A x quits", async () => {
    try {
      ensureDebianPackages(["bsdutils"]);
    } catch (error) {
      if (process.env.CI) throw error;
      console.warn(`skipping the terminal test: ${String(error)}`);
      return;
    }
    const command = `${process.execPath} ${VIRTKIT} run ${join(WORDLE, "part3.system")}`;
    const child = spawn("script", ["-qfec", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("latin1")));
    const waitFor = async (text: string): Promise<void> => {
      const deadline = Date.now() + 20_000;
      while (!output.includes(text)) {
        if (Date.now() > deadline)
          throw new Error(`terminal never showed ${JSON.stringify(text)}:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await waitFor("Welcome to the Wordle client!");
    for (const key of "hello\r") {
      child.stdin.write(key);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await waitFor(word("hello", "green"));
    child.stdin.write("\x01x");
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(status).toBe(0);
    // The terminal's output processing turns "\n" into "\r\n", as under QEMU.
    expect(output).toContain("SERIAL SERVER: starting\r\n");
    expect(output).toContain("Ctrl-A x quits");
  });
});
