import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { disassemble } from "../../src/machine/arch/index.ts";
import { assembleAndDisassemble, binutilsAvailable } from "./binutils.ts";

const haveBinutils = binutilsAvailable();

describe("disassemble (known encodings)", () => {
  it.each([
    ["str w1, [x0, #4]", 0xb9000401, 0n],
    ["ldapr w0, [x1]", 0xb8bfc020, 0n],
    ["ldr x0, [x0]", 0xf9400000, 0n],
    ["ldrb w1, [x1, #3]", 0x39400c21, 0n],
    ["hvc #0x0", 0xd4000002, 0n],
    ["smc #0x0", 0xd4000003, 0n],
    ["wfi", 0xd503207f, 0n],
    ["mrs x0, sctlr_el1", 0xd5381000, 0n],
    ["b 0x40200008", 0x14000002, 0x4020_0000n],
    ["bl 0xffc", 0x97ffffff, 0x1000n],
    ["add x0, x1, #0x10", 0x91004020, 0n],
    ["udf #0", 0x00000000, 0n],
    [".word 0x00010000", 0x00010000, 0n], // reserved
    [".word 0x1e202000", 0x1e202000, 0n], // scalar FP: not covered
  ])("%s", (text, word, pc) => {
    expect(disassemble(word, pc)).toBe(text);
  });
});

describe.runIf(haveBinutils)("disassemble (against GNU objdump)", () => {
  it("prints every form in the fixture exactly as objdump does", () => {
    const source = readFileSync(new URL("./fixtures/a64-forms.s", import.meta.url), "utf8");
    const listing = assembleAndDisassemble(source);
    expect(listing.length).toBeGreaterThan(200);
    const mismatches = listing
      .map((l) => ({ ...l, ours: disassemble(l.word, l.address) }))
      .filter((l) => l.ours !== l.text)
      .map((l) => `${l.word.toString(16).padStart(8, "0")}: objdump '${l.text}', ours '${l.ours}'`);
    expect(mismatches).toEqual([]);
  });

  it("agrees with objdump on random words wherever it decodes one", () => {
    let seed = 0x5eed;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const words: number[] = [];
    while (words.length < 20000) {
      const word = (next() ^ (next() << 16)) >>> 0;
      // The scalar FP / Advanced SIMD data-processing group is out of scope.
      if (((word >>> 25) & 7) !== 7) words.push(word);
    }
    const listing = assembleAndDisassemble(words.map((w) => `.inst 0x${w.toString(16)}\n`).join(""));
    expect(listing).toHaveLength(words.length);
    let decoded = 0;
    const mismatches: string[] = [];
    for (const line of listing) {
      const ours = disassemble(line.word, line.address);
      if (ours.startsWith(".word")) continue;
      decoded++;
      // We name fewer system registers than objdump: our generic S<op0>_… spelling is fine.
      if (/^(mrs|msr) .*\bs\d_\d_c\d+_c\d+_\d/.test(ours) && /^(mrs|msr) /.test(line.text)) continue;
      if (ours !== line.text)
        mismatches.push(`${line.word.toString(16).padStart(8, "0")}: objdump '${line.text}', ours '${ours}'`);
    }
    expect(mismatches).toEqual([]);
    // About a third of random words fall outside SVE/SME/MTE and unallocated space.
    expect(decoded).toBeGreaterThan(words.length / 4);
  });
});
