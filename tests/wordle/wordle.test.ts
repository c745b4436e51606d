import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { EMPTY_ROW, Session, WORDLE, row, word } from "./session.ts";

const START = [
  "MON|INFO: Microkit Monitor started!",
  "WORDLE SERVER: starting",
  "SERIAL SERVER: starting",
  "CLIENT: starting",
  "Welcome to the Wordle client!",
  ...Array<string>(5).fill(EMPTY_ROW),
  "",
].join("\n");

describe("Wordle part 3", () => {
  test("starts with the tutorial's lines and an empty board", async () => {
    const session = await Session.part3();
    await session.console.waitFor("Welcome to the Wordle client!");
    expect(await session.finish()).toBe(START);
  });

  test("letters fill the row, backspace deletes, every key redraws the board in place", async () => {
    const session = await Session.part3();
    await session.type("hex");
    expect(session.board()[0]).toBe(word("hex", "grey") + "[ ] [ ] ");
    await session.type("\x7f");
    expect(session.board()[0]).toBe(word("he", "grey") + "[ ] [ ] [ ] ");
    await session.type("\x08"); // ^H from some terminals is a backspace too
    await session.type("1 Hl");
    expect(session.board()[0]).toBe(row([["h", "grey"], ["H", "grey"], ["l", "grey"], null, null]));
    const output = await session.finish();
    expect(output.startsWith(START)).toBe(true);
    // Each redraw moves up over the five rows and clears below: 9 keys, 9 frames.
    expect(output.split("\x1b[5A\x1b[0J")).toHaveLength(10);
  });

  test("a submitted guess comes back coloured from the Wordle server", async () => {
    const session = await Session.part3();
    await session.type("hlelo\r");
    expect(session.board()).toEqual([
      row([
        ["h", "green"],
        ["l", "yellow"],
        ["e", "yellow"],
        ["l", "green"],
        ["o", "green"],
      ]),
      EMPTY_ROW,
      EMPTY_ROW,
      EMPTY_ROW,
      EMPTY_ROW,
    ]);
    await session.type("lolly\n"); // a pipe's newline submits like Enter
    // Both of hello's l's are matched in place, so the first l of lolly is absent.
    expect(session.board()[1]).toBe(
      row([
        ["l", "grey"],
        ["o", "yellow"],
        ["l", "green"],
        ["l", "green"],
        ["y", "grey"],
      ]),
    );
    await session.finish();
  });

  test("Enter with fewer than five letters does nothing; the right word wins", async () => {
    const session = await Session.part3();
    await session.type("hel\r");
    expect(session.board()[1]).toBe(EMPTY_ROW);
    await session.type("lo\r");
    expect(session.board()[0]).toBe(word("hello", "green"));
    await session.finish();
  });

  test("five guesses fill the board; later keys change nothing", async () => {
    const session = await Session.part3();
    for (const guess of ["world", "crane", "sloth", "pious", "mummy"]) await session.type(`${guess}\r`);
    const full = session.board();
    expect(full[4]).toBe(
      row([
        ["m", "grey"],
        ["u", "grey"],
        ["m", "grey"],
        ["m", "grey"],
        ["y", "grey"],
      ]),
    );
    expect(full[0]).toBe(
      row([
        ["w", "grey"],
        ["o", "yellow"],
        ["r", "grey"],
        ["l", "green"],
        ["d", "grey"],
      ]),
    );
    await session.type("hello\r");
    expect(session.board()).toEqual(full);
    await session.finish();
  });
});

const PART3 = readFileSync(join(WORDLE, "part3.system"), "utf8");

describe("Wordle parts 1 and 2", () => {
  test("part 1: the serial server alone echoes what is typed, Enter as a new line", async () => {
    const part1 = PART3.replace(
      /<protection_domain name="(wordle_server|client)"[\s\S]*?<\/protection_domain>/g,
      "",
    )
      .replace(/<channel>[\s\S]*?<\/channel>/g, "")
      .replace(/<map mr="(serial_to_client|client_to_serial)"[^>]*\/>/g, "")
      .replace(/<memory_region name="(serial_to_client|client_to_serial)"[^>]*\/>/g, "");
    const session = await Session.fromText(part1);
    await session.console.waitFor("SERIAL SERVER: starting\n");
    session.console.type("hi\r");
    await session.console.waitFor("hi\r\n");
    expect(await session.finish()).toBe(
      "MON|INFO: Microkit Monitor started!\nSERIAL SERVER: starting\nhi\r\n",
    );
  });

  test("part 1 without the UART mapped: the serial server faults at the monitor, fsr 0x92000046", async () => {
    const unmapped = PART3.replace(/<map mr="uart"[^>]*\/>/, "");
    const session = await Session.fromText(unmapped);
    const output = await session.finish();
    expect(output).toContain(
      [
        "MON|ERROR: faulting PD: serial_server",
        "MON|ERROR: VMFault: ip=0x0000000000000000  fault_addr=0x0000000000000038  fsr=0x0000000092000046  (data fault)",
        "MON|ERROR:    ec: 0x00000024  Data Abort from a lower Exception level   il: 1   iss: 0x00000046",
        "MON|ERROR:    dfsc = translation fault, level 2 (0x00000006) -- write not read",
        "MON|ERROR:    at serial_server.ts:",
      ].join("\n"),
    );
    // The other PDs run on: the client still prints its start line through the debug console.
    expect(output).toContain("CLIENT: starting\n");
  });

  test("part 2: without the Wordle server guesses are drawn but not checked", async () => {
    const part2 = PART3.replace(
      /<protection_domain name="wordle_server"[\s\S]*?<\/protection_domain>/,
      "",
    ).replace(/<channel>\s*<end pd="client" id="2"[\s\S]*?<\/channel>/, "");
    const session = await Session.fromText(part2);
    await session.type("hello");
    expect(session.board()[0]).toBe(word("hello", "grey"));
    await session.type("\r");
    expect(session.board()[0]).toBe(word("hello", "grey"));
    await session.type("w");
    expect(session.board()[1]).toBe(word("w", "grey") + "[ ] [ ] [ ] [ ] ");
    expect(await session.finish()).not.toContain("WORDLE SERVER");
  });
});
