// The tutorial's Wordle, parts 1-3, with every PD in C (examples/c-wordle, built with make and the
// SDK into one image per part): each part's console session is the TypeScript PDs' session of the
// same system (examples/wordle's modules) for the same keys, byte for byte.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ElfProgram, bootSystemFile, unpackSystemImage } from "../../src/microkit/index.ts";
import { HarnessConsole } from "../../src/machine/backends/harness-console.ts";
import { EMPTY_ROW, WORDLE, row, word } from "../wordle/session.ts";
import { MONITOR_STARTED, sdkPath, toolchainProblem } from "./harness.ts";

const problem = toolchainProblem();
const ROOT = resolve(import.meta.dirname, "../..");
const EXAMPLE = join(ROOT, "examples/c-wordle");
const REDRAW = "\x1b[5A\x1b[0J";

interface Session {
  output: string;
  /** Each PD's name and whether it ran as an ELF file. */
  elf: Map<string, boolean>;
}

/**
 * Boots `systemFile`, types all of `keys` at once and ends the input, then runs until nothing more can
 * happen. The UART takes one typed character per millisecond of machine time, long enough for either
 * client to redraw the board before the next one lands in the serial server's one-character buffer.
 */
async function play(systemFile: string, keys: string, searchPaths: string[] = []): Promise<Session> {
  const console = new HarnessConsole();
  const system = await bootSystemFile(systemFile, { console, searchPaths, ramSize: 64 * 1024 * 1024 });
  const done = system.run();
  console.type(keys);
  console.endInput();
  await done;
  const elf = new Map([...system.pds].map(([name, pd]) => [name, pd.program instanceof ElfProgram]));
  return { output: console.output, elf };
}

/** The rows of the board as the client drew it last. */
function lastBoard(output: string): string[] {
  return output
    .slice(output.lastIndexOf(REDRAW) + REDRAW.length)
    .split("\n")
    .slice(0, 5);
}

describe.skipIf(problem !== undefined)("the tutorial's Wordle with every PD in C", () => {
  let build: string;
  /** Folders this file made, removed at the end. */
  const made: string[] = [];
  const temporary = (prefix: string): string => {
    made.push(mkdtempSync(join(tmpdir(), prefix)));
    return made.at(-1)!;
  };
  /** Part n's image, unpacked as `virtkit run build/partN.img` unpacks it. */
  const image = (part: number): string => {
    const systemFile = unpackSystemImage(join(build, `part${part}.img`)).systemFile;
    made.push(dirname(systemFile));
    return systemFile;
  };

  beforeAll(() => {
    build = temporary("virtkit-c-wordle-");
    execFileSync("make", ["-s", "-C", EXAMPLE, `MICROKIT_SDK=${sdkPath()}`, `BUILD_DIR=${build}`], {
      stdio: "pipe",
    });
  }, 120_000);

  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });

  test("part 1: the C serial server echoes what is typed, as the TypeScript one does", async () => {
    // tests/wordle's keys, then a backspace (DEL) and a ^H, which the serial server turns into DEL.
    const keys = "hi\rab\x7f\x08c\n";
    const c = await play(image(1), keys);
    expect(c.elf).toEqual(new Map([["serial_server", true]]));
    expect(c.output).toBe(`${MONITOR_STARTED}SERIAL SERVER: starting\nhi\r\nab\x7f\x7fc\r\n`);
    const typeScript = await play(join(EXAMPLE, "part1.system"), keys, [WORDLE]);
    expect(typeScript.elf).toEqual(new Map([["serial_server", false]]));
    expect(c.output).toBe(typeScript.output);
  });

  test("part 1 without the UART mapped: the C serial server's first register write faults as the tutorial shows", async () => {
    const unmapped = readFileSync(join(EXAMPLE, "part1.system"), "utf8").replace(
      /<map mr="uart"[^>]*\/>/,
      "",
    );
    expect(unmapped).not.toContain('<map mr="uart"');
    // Beside the C build for the C run, alone (with examples/wordle searched) for the TypeScript one.
    writeFileSync(join(build, "unmapped.system"), unmapped);
    const typeScriptDir = temporary("virtkit-c-wordle-ts-");
    writeFileSync(join(typeScriptDir, "unmapped.system"), unmapped);
    const c = await play(join(build, "unmapped.system"), "hi\r");
    const typeScript = await play(join(typeScriptDir, "unmapped.system"), "hi\r", [WORDLE]);
    // The fault is the same but for the PC: a TypeScript PD has none.
    const fault = (output: string): string[] =>
      output
        .split("\n")
        .filter((line) => line.startsWith("MON|ERROR:"))
        .slice(1, 5)
        .map((line) => line.replace(/ip=0x[0-9a-f]+/, "ip=…"));
    expect(fault(c.output)).toEqual([
      "MON|ERROR: faulting PD: serial_server",
      "MON|ERROR: VMFault: ip=…  fault_addr=0x0000000000000038  fsr=0x0000000092000046  (data fault)",
      "MON|ERROR:    ec: 0x00000024  Data Abort from a lower Exception level   il: 1   iss: 0x00000046",
      "MON|ERROR:    dfsc = translation fault, level 2 (0x00000006) -- write not read",
    ]);
    expect(fault(typeScript.output)).toEqual(fault(c.output));
    // The C PD's fault names the function and line that wrote UARTIMSC.
    expect(c.output).toMatch(/MON\|ERROR: {4}at init\+0x[0-9a-f]+, serial_server\.c:\d+ \(0x[0-9a-f]+: str /);
    expect(c.output).not.toContain("SERIAL SERVER: starting");
  });

  test("part 2: the C client draws the board through the C serial server, unchecked, as the TypeScript PDs do", async () => {
    // tests/wordle's part-2 keys, then Enter on a short row, a ^H and a second guess.
    const keys = "hello\rwx\r\x08orld\r";
    const c = await play(image(2), keys);
    expect(c.elf).toEqual(
      new Map([
        ["serial_server", true],
        ["client", true],
      ]),
    );
    expect(c.output.startsWith(`${MONITOR_STARTED}SERIAL SERVER: starting\nCLIENT: starting\n`)).toBe(true);
    expect(c.output).not.toContain("WORDLE SERVER");
    // One redraw per key.
    expect(c.output.split(REDRAW)).toHaveLength(keys.length + 1);
    expect(lastBoard(c.output)).toEqual([
      word("hello", "grey"),
      word("world", "grey"),
      EMPTY_ROW,
      EMPTY_ROW,
      EMPTY_ROW,
    ]);
    const typeScript = await play(join(EXAMPLE, "part2.system"), keys, [WORDLE]);
    expect([...typeScript.elf.values()]).toEqual([false, false]);
    expect(c.output).toBe(typeScript.output);
  });

  // tests/wordle's part-3 sessions one after the other: letters and backspaces, a short row, the right
  // word, repeated letters, a full board and keys after it.
  const PART3_KEYS = "hex\x7f\x081 Hl\x7f\x7f\x7fhel\rlo\rhlelo\rlolly\nworld\rcrane\rhello\r";

  test("part 3: the game in C plays as examples/wordle/part3.system does", async () => {
    const c = await play(image(3), PART3_KEYS);
    expect([...c.elf.values()]).toEqual([true, true, true]);
    expect(
      c.output.startsWith(
        [
          "MON|INFO: Microkit Monitor started!",
          "WORDLE SERVER: starting",
          "SERIAL SERVER: starting",
          "CLIENT: starting",
          "Welcome to the Wordle client!",
          ...Array<string>(5).fill(EMPTY_ROW),
          "",
        ].join("\n"),
      ),
    ).toBe(true);
    expect(c.output.split(REDRAW)).toHaveLength(PART3_KEYS.length + 1);
    expect(lastBoard(c.output)).toEqual([
      word("hello", "green"),
      row([
        ["h", "green"],
        ["l", "yellow"],
        ["e", "yellow"],
        ["l", "green"],
        ["o", "green"],
      ]),
      // Both of hello's l's are matched in place, so lolly's first l is absent.
      row([
        ["l", "grey"],
        ["o", "yellow"],
        ["l", "green"],
        ["l", "green"],
        ["y", "grey"],
      ]),
      row([
        ["w", "grey"],
        ["o", "yellow"],
        ["r", "grey"],
        ["l", "green"],
        ["d", "grey"],
      ]),
      row([
        ["c", "grey"],
        ["r", "grey"],
        ["a", "grey"],
        ["n", "grey"],
        ["e", "yellow"],
      ]),
    ]);
    const typeScript = await play(join(WORDLE, "part3.system"), PART3_KEYS);
    expect([...typeScript.elf.values()]).toEqual([false, false, false]);
    expect(c.output).toBe(typeScript.output);
  });

  test("virtkit run build/part3.img from a pipe prints what the TypeScript part 3 prints", async () => {
    const run = spawnSync(
      process.execPath,
      [join(ROOT, "bin/virtkit.mjs"), "run", join(build, "part3.img"), "--console", "stdio"],
      { input: PART3_KEYS, encoding: "latin1", timeout: 60_000 },
    );
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toBe((await play(join(WORDLE, "part3.system"), PART3_KEYS)).output);
  });
});
