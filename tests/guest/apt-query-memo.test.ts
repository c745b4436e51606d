import { mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { memoisedAptQuery } from "../../src/guest/debian/apt-query-memo.ts";

describe("memoised apt-cache queries", () => {
  const setup = () => {
    const dir = mkdtempSync(join(tmpdir(), "virtkit-apt-memo-"));
    const lists = join(dir, "lists");
    writeFileSync(lists, "");
    utimesSync(lists, new Date(1_000_000), new Date(1_000_000));
    let asked = 0;
    const ask = (answer: string | undefined) => () => {
      asked++;
      return answer;
    };
    return { dir, lists, asks: () => asked, ask };
  };

  it("answers a repeated query from the cache without asking apt-cache again", () => {
    const { dir, lists, asks, ask } = setup();
    expect(memoisedAptQuery(dir, ["policy", "busybox-static:arm64"], ask("Candidate: 1.0"), [lists])).toBe(
      "Candidate: 1.0",
    );
    expect(memoisedAptQuery(dir, ["policy", "busybox-static:arm64"], ask("other"), [lists])).toBe(
      "Candidate: 1.0",
    );
    expect(asks()).toBe(1);
  });

  it("asks again once apt's package lists have changed since the answer", () => {
    const { dir, lists, asks, ask } = setup();
    memoisedAptQuery(dir, ["policy", "p"], ask("Candidate: 1.0"), [lists]);
    const later = new Date(Date.now() + 60_000);
    utimesSync(lists, later, later);
    expect(memoisedAptQuery(dir, ["policy", "p"], ask("Candidate: 2.0"), [lists])).toBe("Candidate: 2.0");
    expect(asks()).toBe(2);
  });

  it("does not remember a failed query", () => {
    const { dir, lists, asks, ask } = setup();
    expect(memoisedAptQuery(dir, ["policy", "q"], ask(undefined), [lists])).toBeUndefined();
    expect(memoisedAptQuery(dir, ["policy", "q"], ask("Candidate: 3"), [lists])).toBe("Candidate: 3");
    expect(asks()).toBe(2);
  });
});
