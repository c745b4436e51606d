// The tutorial's Wordle (part 3) with its Wordle server in C (examples/c-wordle, built with the SDK)
// beside examples/wordle's TypeScript client and serial server: every guess is coloured exactly as
// with the TypeScript server.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { ElfProgram, bootSystemFile } from "../../src/microkit/index.ts";
import { HarnessConsole } from "../../src/machine/backends/harness-console.ts";
import { WORDLE, row } from "../wordle/session.ts";
import { sdkPath, toolchainProblem } from "./harness.ts";

const problem = toolchainProblem();
const REDRAW = "\x1b[5A\x1b[0J";
const GUESSES = ["hlelo", "olleh", "lemon", "hello"];

/**
 * Plays `GUESSES` on part 3, one key at a time (the PL011's FIFO is small); returns the console and
 * whether the Wordle server ran as an ELF.
 */
async function play(searchPaths: string[]): Promise<{ output: string; elf: boolean }> {
  const console = new HarnessConsole();
  const system = await bootSystemFile(join(WORDLE, "part3.system"), {
    console,
    searchPaths,
    ramSize: 64 * 1024 * 1024,
  });
  const done = system.run();
  await console.waitFor("Welcome to the Wordle client!");
  const frames = (): number => console.output.split(REDRAW).length;
  for (const key of GUESSES.map((guess) => `${guess}\r`).join("")) {
    const before = frames();
    console.type(key);
    const deadline = Date.now() + 30_000;
    while (!(frames() > before && console.output.endsWith("\n"))) {
      if (Date.now() > deadline) throw new Error(`no redraw after '${key}':\n${console.output}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  console.endInput();
  await done;
  const isElf = (pd: string): boolean => system.pds.get(pd)!.program instanceof ElfProgram;
  expect(isElf("client") || isElf("serial_server")).toBe(false);
  return { output: console.output, elf: isElf("wordle_server") };
}

describe.skipIf(problem !== undefined)("Wordle part 3 with the Wordle server in C", () => {
  let build: string;

  beforeAll(() => {
    build = mkdtempSync(join(tmpdir(), "virtkit-c-wordle-"));
    const example = resolve(import.meta.dirname, "../../examples/c-wordle");
    // Only the server: the client and serial server stay examples/wordle's TypeScript modules.
    execFileSync(
      "make",
      [
        "-s",
        "-C",
        example,
        `MICROKIT_SDK=${sdkPath()}`,
        `BUILD_DIR=${build}`,
        join(build, "wordle_server.elf"),
      ],
      { stdio: "pipe" },
    );
  }, 120_000);

  test("the C server colours each guess as the TypeScript server does", async () => {
    const { output: withC, elf } = await play([build]);
    expect(elf).toBe(true);
    expect(withC).toContain("WORDLE SERVER: starting\n");
    const board = withC
      .slice(withC.lastIndexOf(REDRAW) + REDRAW.length)
      .split("\n")
      .slice(0, 4);
    expect(board[0]).toBe(
      row([
        ["h", "green"],
        ["l", "yellow"],
        ["e", "yellow"],
        ["l", "green"],
        ["o", "green"],
      ]),
    );
    expect(board[1]).toBe(
      row([
        ["o", "yellow"],
        ["l", "yellow"],
        ["l", "green"],
        ["e", "yellow"],
        ["h", "yellow"],
      ]),
    );
    expect(board[3]).toBe(
      row([
        ["h", "green"],
        ["e", "green"],
        ["l", "green"],
        ["l", "green"],
        ["o", "green"],
      ]),
    );
    const withTypeScript = await play([]);
    expect(withTypeScript.elf).toBe(false);
    expect(withC).toBe(withTypeScript.output);
  });
});
