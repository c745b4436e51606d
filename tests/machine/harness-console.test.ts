// The scripted console's waits: a match split across writes, only after `from`, strings and patterns.
import { describe, expect, it } from "vitest";
import { HarnessConsole } from "../../src/machine/backends/harness-console.ts";

const bytes = (text: string) => Buffer.from(text, "latin1");

describe("HarnessConsole.waitFor", () => {
  it("finds a string written one byte at a time, and resolves with the whole output", async () => {
    const console = new HarnessConsole();
    const waiting = console.waitFor("login: ");
    for (const ch of "Welcome\r\nbuildroot login: ") console.write(bytes(ch));
    await expect(waiting).resolves.toBe("Welcome\r\nbuildroot login: ");
  });

  it("finds a match that starts in output written before the wait began", async () => {
    const console = new HarnessConsole();
    console.write(bytes("abc lo"));
    const waiting = console.waitFor("login");
    console.write(bytes("gin"));
    await expect(waiting).resolves.toBe("abc login");
  });

  it("only finds matches that start at or after `from`", async () => {
    const console = new HarnessConsole();
    console.write(bytes("# # "));
    let resolved = false;
    const prompt = console.waitFor("# ", { from: 3 }).then((out) => ((resolved = true), out));
    const straddling = console.waitFor("# x", { from: 3, timeoutMs: 200 });
    console.write(bytes("x"));
    await new Promise((r) => setTimeout(r, 10));
    expect(resolved).toBe(false);
    await expect(straddling).rejects.toThrow("console never showed # x");
    console.write(bytes("ok\n# "));
    await expect(prompt).resolves.toBe("# # xok\n# ");
  });

  it("waits for a pattern", async () => {
    const console = new HarnessConsole();
    const waiting = console.waitFor(/lease of [0-9.]+ obtained/);
    console.write(bytes("udhcpc: lease of 10.0.2."));
    console.write(bytes("15 obtained from 10.0.2.2\n"));
    await expect(waiting).resolves.toContain("10.0.2.15 obtained");
  });
});
