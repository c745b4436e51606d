// The tutorial's Wordle part 4 with every PD in C: examples/c-wordle's `make part4` builds the C VMM
// (embedding the guest that `virtkit images path --example wordle --nic` gives) into build/part4.img
// from examples/wordle's part4.system. `virtkit run build/part4.img --word crane` plays tests/wordle's
// scripted part-4 session, and its console shows the game byte for byte as `npm start -- --word crane`
// (the TypeScript PDs) does; only the two libvmms' own log lines differ.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { WORDLE, word } from "../wordle/session.ts";
import { WAIT_MS } from "../system/linux-session.ts";
import { sdkPath, toolchainProblem } from "./harness.ts";

const problem = toolchainProblem();
const ROOT = resolve(import.meta.dirname, "../..");
const VIRTKIT = join(ROOT, "bin/virtkit.mjs");
const EXAMPLE = join(ROOT, "examples/c-wordle");
const REDRAW = "\x1b[5A\x1b[0J";
const WORD_SENT = "VMM: the guest sent a word; handing it to the Wordle server (press Enter to redraw)\n";
/** A libvmm's log line: the C and the TypeScript libvmm word theirs differently. */
const VMM_LOG = /^vmm\|(INFO|ERROR): .*\n/gm;

/** `virtkit run SYSTEM --word crane`: waits for the word to reach the Wordle server, redraws, guesses "crane". */
async function play(system: string): Promise<string> {
  const child = spawn(process.execPath, [VIRTKIT, "run", system, "--word", "crane", "--console", "stdio"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  let errors = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("latin1")));
  child.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString("latin1")));
  const waitFor = async (text: string, from = 0): Promise<number> => {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const at = output.indexOf(text, from);
      if (at >= 0) return at + text.length;
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(
          `${system}: the console never showed ${JSON.stringify(text)}; it shows:\n${output}${errors}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    const sent = await waitFor(WORD_SENT);
    // Enter on an empty row redraws the board; then the guess, which comes back all green.
    child.stdin.write("\r");
    await waitFor(REDRAW, sent);
    child.stdin.write("crane\r");
    const end = await waitFor(word("crane", "green"), sent);
    expect(errors).toBe("");
    return output.slice(0, end);
  } finally {
    child.kill();
  }
}

describe.skipIf(problem !== undefined)("the tutorial's Wordle part 4 with every PD in C", () => {
  let build: string;

  beforeAll(() => {
    build = mkdtempSync(join(tmpdir(), "virtkit-c-wordle4-"));
    // The first build of the guest's images (kernel, Wordle initramfs) takes minutes; then it is cached.
    execFileSync(
      "make",
      [
        ...["-s", "-C", EXAMPLE, "part4", `MICROKIT_SDK=${sdkPath()}`, `BUILD_DIR=${build}`],
        `VIRTKIT=${process.execPath} ${VIRTKIT}`,
      ],
      { stdio: "pipe" },
    );
  }, 600_000);

  afterAll(() => rmSync(build, { recursive: true, force: true }));

  test("virtkit run build/part4.img --word crane plays as npm start -- --word crane does", async () => {
    const [c, typeScript] = await Promise.all([
      play(join(build, "part4.img")),
      play(join(WORDLE, "part4.system")),
    ]);
    for (const line of [
      "udhcpc: lease of 10.0.2.15 obtained from 10.0.2.2",
      "Linux user-space: Send request to trustworthy.systems/projects/microkit/tutorial/word",
      "Linux user-space: Received word",
      "Linux user-space: Transfer word to virtual-machine monitor",
      WORD_SENT,
    ])
      expect(c).toContain(line);
    // The C VMM's libvmm logs where it copied the images and where the guest starts.
    expect(c).toContain("vmm|INFO: starting guest at 0x40000000, DTB at 0x4f000000");
    expect(c.match(VMM_LOG)?.some((l) => l.startsWith("vmm|ERROR"))).toBe(false);
    expect(c.replace(VMM_LOG, "")).toBe(typeScript.replace(VMM_LOG, ""));
  }, 90_000);
});
