import { describe, expect, it } from "vitest";
import { errorOf, parse, pd, system } from "./helpers.ts";

describe("XML well-formedness", () => {
  it("reports a mismatched close tag with its position", () => {
    expect(errorOf('<system>\n  <protection_domain name="a">\n</system>')).toBe(
      "Could not parse 'test.system': unexpected close tag @ test.system:3:9",
    );
  });

  it("reports a truncated file", () => {
    expect(errorOf('<system>\n  <protection_domain name="a">')).toBe(
      "Could not parse 'test.system': unclosed tag: protection_domain @ test.system:2:30",
    );
    expect(errorOf('<system>\n  <memory_region name="a" size="0x10')).toMatch(
      /^Could not parse 'test\.system': .* @ test\.system:2:\d+$/,
    );
  });

  it("reports an empty file", () => {
    expect(errorOf("")).toBe(
      "Could not parse 'test.system': document must contain a root element @ test.system:1:1",
    );
  });

  it("reports binary garbage at the first bad character", () => {
    expect(errorOf("\u0000\u0001\u00ff\u0089PNG")).toBe(
      "Could not parse 'test.system': disallowed character @ test.system:1:1",
    );
    const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)).toString("utf8");
    expect(errorOf(bytes)).toMatch(/^Could not parse 'test\.system': .+ @ test\.system:\d+:\d+$/);
  });

  it("reports duplicate attributes and undefined entities", () => {
    expect(errorOf('<system a="1" a="2"/>')).toBe(
      "Could not parse 'test.system': duplicate attribute: a @ test.system:1:21",
    );
    expect(errorOf("<system>&foo;</system>")).toBe(
      "Could not parse 'test.system': undefined entity @ test.system:1:13",
    );
  });

  it("gives a located error where the Microkit tool panics: no <system> root", () => {
    expect(errorOf('<?xml version="1.0"?>\n<systems/>')).toBe(
      "Error: the root element must be 'system', found 'systems' in 'test.system' @ test.system:2:1",
    );
  });

  it("accepts a byte-order mark, comments and an XML declaration", () => {
    const text = `\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<!-- c -->\n${system("<!-- c -->", pd("a"))}`;
    expect(parse(text).allProtectionDomains.map((p) => p.location)).toEqual([
      { file: "test.system", line: 5, column: 3 },
    ]);
  });

  it("rejects deep nesting with a clear error instead of overflowing the stack", () => {
    const depth = 100_000;
    const text = `<system>${"<protection_domain>".repeat(depth)}${"</protection_domain>".repeat(depth)}</system>`;
    expect(errorOf(text)).toBe(
      "Error: elements are nested more than 100 levels deep; a system description never needs that many @ test.system:1:1890",
    );
  });

  it("handles a large flat file quickly", () => {
    const regions = Array.from({ length: 5000 }, (_, i) => `  <memory_region name="m${i}" size="0x1000"/>`);
    const maps = Array.from(
      { length: 5000 },
      (_, i) => `<map mr="m${i}" vaddr="${0x1000_0000 + i * 0x1000}"/>`,
    );
    const started = performance.now();
    const parsed = parse(system(...regions, pd("a", "", ...maps)));
    expect(parsed.memoryRegions.at(-1)!.paddr).toBe(0x4000_0000 + 4999 * 0x1000);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe("text between elements", () => {
  it("rejects text inside an element at the text's position", () => {
    expect(errorOf(system("  hello", pd("a")))).toBe(
      "Error: unexpected text found in element 'system' @ test.system:2:3",
    );
    expect(
      errorOf(system('  <protection_domain name="a">x<program_image path="a"/></protection_domain>')),
    ).toBe("Error: unexpected text found in element 'protection_domain' @ test.system:2:31");
  });

  it("rejects text after an element", () => {
    expect(errorOf(system(`${pd("a")} trailing`))).toBe(
      "Error: unexpected text found after element 'protection_domain' @ test.system:2:81",
    );
  });
});

describe("numbers", () => {
  const withSize = (size: string) => system(`  <memory_region name="m" size="${size}"/>`, pd("a"));

  it("strips underscores and reads lowercase 0x as hex", () => {
    const parsed = parse(
      system(
        '  <memory_region name="m" size="0x1_000" phys_addr="9_437_184"/>',
        pd("a", "", '<map mr="m" vaddr="0x2_000_000"/>'),
      ),
    );
    expect(parsed.memoryRegions[0]).toMatchObject({ size: 0x1000, physAddr: 9437184 });
  });

  it("rejects junk with Rust's reason and a location", () => {
    expect(errorOf(withSize("0x200_000sd"))).toBe(
      "Error: failed to parse integer '0x200_000sd' on element 'memory_region': invalid digit found in string @ test.system:2:3",
    );
    expect(errorOf(withSize("0X1000"))).toBe(
      "Error: failed to parse integer '0X1000' on element 'memory_region': invalid digit found in string @ test.system:2:3",
    );
    expect(errorOf(withSize("-4096"))).toBe(
      "Error: failed to parse integer '-4096' on element 'memory_region': invalid digit found in string @ test.system:2:3",
    );
    expect(errorOf(withSize("0x"))).toBe(
      "Error: failed to parse integer '0x' on element 'memory_region': cannot parse integer from empty string @ test.system:2:3",
    );
  });

  it("rejects values beyond u64", () => {
    expect(errorOf(withSize("0x1_0000_0000_0000_0000"))).toBe(
      "Error: failed to parse integer '0x1_0000_0000_0000_0000' on element 'memory_region': number too large to fit in target type @ test.system:2:3",
    );
    expect(errorOf(withSize("99999999999999999999999999999999"))).toMatch(
      /number too large to fit in target type @ test\.system:2:3$/,
    );
  });

  it("rejects values beyond 2^53 that u64 would allow", () => {
    expect(errorOf(withSize("0x20_0000_0000_0000"))).toBe(
      "Error: failed to parse integer '0x20_0000_0000_0000' on element 'memory_region': number too large for virtkit, which accepts values up to 0x1fffffffffffff (2^53 - 1) @ test.system:2:3",
    );
    expect(errorOf(system(pd("a", 'budget="0xffffffffffffffff" period="0xffffffffffffffff"')))).toMatch(
      /^Error: failed to parse integer '0xffffffffffffffff' on element 'protection_domain': number too large for virtkit.* @ test\.system:2:3$/,
    );
  });

  it("gives located errors for decimal-only ids where the Microkit tool panics", () => {
    expect(errorOf(system(pd("a", "", '<irq irq="33" id="0x1"/>')))).toBe(
      "Error: failed to parse integer '0x1' on element 'irq': invalid digit found in string (ids are decimal only) @ test.system:2:60",
    );
    expect(errorOf(system(pd("a", "", '<irq irq="0x21" id="1"/>')))).toBe(
      "Error: failed to parse integer '0x21' on element 'irq': invalid digit found in string (ids are decimal only) @ test.system:2:60",
    );
    expect(errorOf(system(pd("a", "", '<irq irq="33" id="one"/>')))).toBe(
      "Error: failed to parse integer 'one' on element 'irq': invalid digit found in string @ test.system:2:60",
    );
  });
});

describe("booleans", () => {
  it.each([
    ["passive", 'passive="yes"', "protection_domain", "2:3"],
    ["fpu", 'fpu="1"', "protection_domain", "2:3"],
    ["smc", 'smc="True"', "protection_domain", "2:3"],
  ])("%s must be exactly true or false", (name, attribute, element, where) => {
    expect(errorOf(system(pd("a", attribute)))).toBe(
      `Error: ${name} must be 'true' or 'false' on element '${element}': test.system:${where}`,
    );
  });

  it("cached must be exactly true or false", () => {
    expect(
      errorOf(
        system(
          '  <memory_region name="m" size="0x1000"/>',
          pd("a", "", '<map mr="m" vaddr="0x1000" cached="no"/>'),
        ),
      ),
    ).toBe("Error: cached must be 'true' or 'false' on element 'map': test.system:3:60");
  });
});

describe("hostile numbers", () => {
  it("refuses a million-digit number quickly", () => {
    const digits = "9".repeat(1_000_000);
    const started = performance.now();
    expect(errorOf(system(pd("a", `priority="${digits}"`)))).toMatch(
      /on element 'protection_domain': number too large to fit in target type @ test\.system:2:3$/,
    );
    expect(errorOf(system(pd("a", "", `<irq irq="33" id="-${digits}"/>`)))).toMatch(
      /on element 'irq': number too small to fit in target type @ test\.system:2:60$/,
    );
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it("accepts leading zeros", () => {
    expect(parse(system(pd("a", `priority="${"0".repeat(40)}7"`))).allProtectionDomains[0]!.priority).toBe(7);
  });
});

describe("line endings", () => {
  it("counts lines and columns the same with CRLF and tabs", () => {
    expect(
      errorOf('<system>\r\n  <protection_domain name="a" priority="300">\r\n</protection_domain></system>'),
    ).toBe("Error: priority must be between 0 and 254 on element 'protection_domain': test.system:2:3");
    expect(errorOf("<system>\r\n\r\n\tx</system>")).toBe(
      "Error: unexpected text found in element 'system' @ test.system:3:2",
    );
  });
});

describe("CDATA", () => {
  it("treats a CDATA section as text", () => {
    expect(errorOf(system("  <![CDATA[x]]>", pd("a")))).toMatch(
      /^Error: unexpected text found in element 'system' @ test\.system:2:\d+$/,
    );
    expect(parse(system("  <![CDATA[  ]]>", pd("a"))).allProtectionDomains).toHaveLength(1);
  });
});
