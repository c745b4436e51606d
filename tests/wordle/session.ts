// Scripted console sessions against the Wordle example, like libvmm's CI harness: type,
// wait for output, inspect the board the client drew last.

import { join } from "node:path";
import {
  bootSystem,
  bootSystemFile,
  type RunningSystem,
  type SystemNetwork,
} from "../../src/microkit/index.ts";
import { createUserNetwork } from "../../src/machine/backends/net/user-network.ts";
import { HarnessConsole } from "../../src/machine/backends/harness-console.ts";
import { parseSystemFile, parseSystemText } from "../../src/sdf/index.ts";
import { parseOptions } from "../sdf/helpers.ts";

export const WORDLE = join(import.meta.dirname, "../../examples/wordle");
export const ESC = "\x1b";
export const GREEN = `${ESC}[32;1;40m`;
export const YELLOW = `${ESC}[39;103m`;
export const RESET = `${ESC}[0m`;
const REDRAW = `${ESC}[5A${ESC}[0J`;
const TEST_RAM = 64 * 1024 * 1024;

export class Session {
  private constructor(
    readonly system: RunningSystem,
    readonly console: HarnessConsole,
    readonly done: Promise<void>,
  ) {}

  static async part3(): Promise<Session> {
    const console = new HarnessConsole();
    const system = await bootSystemFile(join(WORDLE, "part3.system"), { console, ramSize: TEST_RAM });
    return new Session(system, console, system.run());
  }

  /**
   * Part 4 (or a variant of it, as text): a Linux VM fetches `word` from the user-mode network's
   * word server and its VMM hands it to the Wordle server.
   */
  static async part4(word: string, xml?: string): Promise<Session> {
    const console = new HarnessConsole();
    const network: SystemNetwork = { connect: ({ clock, host }) => createUserNetwork({ clock, host, word }) };
    const description = xml
      ? parseSystemText(xml, join(WORDLE, "variant.system"), parseOptions())
      : parseSystemFile(join(WORDLE, "part4.system"), parseOptions());
    const system = await bootSystem(description, { console, network });
    return new Session(system, console, system.run());
  }

  /** Resolves once `text` has appeared on the console. */
  async waitFor(text: string, timeoutMs = 120_000): Promise<void> {
    await this.console.waitFor(text, { timeoutMs });
  }

  /** A variant of the part-3 system, written next to the example so its modules are found. */
  static async fromText(xml: string): Promise<Session> {
    const console = new HarnessConsole();
    const description = parseSystemText(xml, join(WORDLE, "variant.system"), parseOptions());
    const system = await bootSystem(description, { console, ramSize: TEST_RAM });
    return new Session(system, console, system.run());
  }

  /** Types `keys` and waits until the client has redrawn the board once per key. */
  async type(keys: string): Promise<void> {
    for (const key of keys) {
      const frames = this.frames();
      this.console.type(key);
      await waitUntil(() => this.frames() > frames && this.console.output.endsWith("\n"), this.console);
    }
  }

  /** The rows of the board as last drawn (after the last redraw sequence). */
  board(): string[] {
    const output = this.console.output;
    const last = output.lastIndexOf(REDRAW);
    const from = last >= 0 ? last + REDRAW.length : output.indexOf("Welcome to the Wordle client!\n") + 30;
    return output.slice(from).split("\n").slice(0, 5);
  }

  async finish(): Promise<string> {
    this.console.endInput();
    await this.done;
    return this.console.output;
  }

  private frames(): number {
    return this.console.output.split(REDRAW).length - 1;
  }
}

/** A board row as the client draws it: [letter] cells with colours, or [ ] for empty cells. */
export function row(cells: Array<[string, "green" | "yellow" | "grey"] | null>): string {
  return cells
    .map((cell) => {
      if (!cell) return "[ ] ";
      const colour = cell[1] === "green" ? GREEN : cell[1] === "yellow" ? YELLOW : "";
      return `[${colour}${cell[0]}${RESET}] `;
    })
    .join("");
}

export const EMPTY_ROW = "[ ] [ ] [ ] [ ] [ ] ";

/** A row of letters all in one state. */
export const word = (letters: string, state: "green" | "yellow" | "grey"): string =>
  row([...letters].map((l) => [l, state] as [string, typeof state]));

async function waitUntil(check: () => boolean, console: HarnessConsole): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out; output so far:\n${JSON.stringify(console.output)}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
