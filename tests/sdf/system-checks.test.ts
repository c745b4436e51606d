// The checks made once the whole file is parsed, in the Microkit tool's order.
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { errorOf, parse, pd, pdLines, system } from "./helpers.ts";

const mr = (attributes: string) => `  <memory_region ${attributes}/>`;

describe("protection domains of the whole system", () => {
  it("needs at least one", () => {
    expect(errorOf(system('  <memory_region name="m" size="0x1000"/>'))).toBe(
      "Error: at least one protection domain must be defined @ test.system:1:1",
    );
  });

  it("allows 63 and rejects 64, counting children", () => {
    const children = Array.from(
      { length: 62 },
      (_, i) => `<protection_domain name="c${i}" id="${i}"><program_image path="c"/></protection_domain>`,
    );
    expect(parse(system(...pdLines('name="parent"', ...children))).allProtectionDomains).toHaveLength(63);
    expect(errorOf(system(...pdLines('name="parent"', ...children), pd("extra")))).toBe(
      "Error: too many protection domains (64) defined. Maximum is 63. @ test.system:67:3",
    );
  });

  it("rejects duplicate names at the second one", () => {
    expect(errorOf(system(pd("test"), pd("other"), pd("test")))).toBe(
      "Error: duplicate protection domain name 'test'. @ test.system:4:3",
    );
  });

  it("reserves the name monitor", () => {
    expect(errorOf(system(pd("a"), pd("monitor")))).toBe(
      "Error: the PD name 'monitor' is reserved for the Microkit Monitor. @ test.system:3:3",
    );
  });
});

describe("names", () => {
  it("rejects duplicate memory region names", () => {
    expect(errorOf(system(mr('name="test" size="0x1000"'), mr('name="test" size="0x1000"'), pd("a")))).toBe(
      "Error: duplicate memory region name 'test'. @ test.system:3:3",
    );
  });

  it("rejects duplicate virtual machine names", () => {
    const vm = '<virtual_machine name="guest"><vcpu id="0"/></virtual_machine>';
    expect(errorOf(system(...pdLines('name="a"', vm), ...pdLines('name="b"', vm)))).toBe(
      "Error: duplicate virtual machine name 'guest'. @ test.system:8:5",
    );
  });
});

describe("interrupts and channel ids", () => {
  it("delivers an IRQ number to one PD only", () => {
    expect(
      errorOf(
        system(
          ...pdLines('name="test1"', '<irq irq="112" id="1"/>'),
          ...pdLines('name="test2"', '<irq irq="112" id="2"/>'),
        ),
      ),
    ).toBe("Error: duplicate irq: 112 in protection domain: 'test2' @ test.system:8:5");
  });

  it("shares one id space between a PD's irqs and channels", () => {
    expect(
      errorOf(system(...pdLines('name="test1"', '<irq irq="112" id="3"/>', '<irq irq="113" id="3"/>'))),
    ).toBe("Error: duplicate channel id: 3 in protection domain: 'test1' @ test.system:5:5");
    const channelAfterIrq = system(
      ...pdLines('name="test1"', '<irq irq="112" id="5"/>'),
      pd("test2"),
      '  <channel><end pd="test1" id="5"/><end pd="test2" id="5"/></channel>',
    );
    expect(errorOf(channelAfterIrq)).toBe(
      "Error: duplicate channel id: 5 in protection domain: 'test1' @ test.system:7:12",
    );
    const twoChannels = system(
      pd("test1"),
      pd("test2"),
      '  <channel><end pd="test1" id="1"/><end pd="test2" id="5"/></channel>',
      '  <channel><end pd="test1" id="2"/><end pd="test2" id="5"/></channel>',
    );
    expect(errorOf(twoChannels)).toBe(
      "Error: duplicate channel id: 5 in protection domain: 'test2' @ test.system:5:36",
    );
  });
});

describe("protected procedure calls", () => {
  const channel = (a: string, b: string) =>
    `  <channel><end pd="test1" id="1"${a}/><end pd="test2" id="1"${b}/></channel>`;

  it("must go to a strictly higher priority", () => {
    expect(
      errorOf(system(pd("test1", 'priority="2"'), pd("test2", 'priority="1"'), channel(' pp="true"', ""))),
    ).toBe(
      "Error: PPCs must be to protection domains of strictly higher priorities; channel with PPC exists from pd test1 (priority: 2) to pd test2 (priority: 1) @ test.system:4:12",
    );
    expect(
      errorOf(system(pd("test1", 'priority="5"'), pd("test2", 'priority="5"'), channel("", ' pp="true"'))),
    ).toBe(
      "Error: PPCs must be to protection domains of strictly higher priorities; channel with PPC exists from pd test2 (priority: 5) to pd test1 (priority: 5) @ test.system:4:36",
    );
  });

  it("accepts a call upwards, also to a child PD", () => {
    expect(
      parse(system(pd("test1", 'priority="1"'), pd("test2", 'priority="2"'), channel(' pp="true"', "")))
        .channels,
    ).toHaveLength(1);
    const withChild = system(
      ...pdLines(
        'name="test1" priority="1"',
        '<protection_domain name="test2" id="0" priority="9"><program_image path="c"/></protection_domain>',
      ),
      channel(' pp="true"', ""),
    );
    expect(parse(withChild).allProtectionDomains[1]!.hasEndpoint).toBe(true);
  });
});

describe("physical memory", () => {
  it("rejects regions whose phys_addr ranges overlap, naming the earlier one", () => {
    const text = system(
      mr('name="mr1" size="0x2000" phys_addr="0x9000000"'),
      mr('name="mr2" size="0x1000" phys_addr="0x9001000"'),
      pd("a", "", '<map mr="mr1" vaddr="0x1000000"/><map mr="mr2" vaddr="0x2000000"/>'),
    );
    expect(errorOf(text)).toBe(
      "Error: memory region 'mr2' physical address range [0x9001000..0x9002000) overlaps with another memory region 'mr1' [0x9000000..0x9002000) @ test.system:3:3",
    );
  });

  it("says so when placed regions do not fit in RAM", () => {
    const text = system(mr('name="big" size="0x80001000"'), pd("a", "", '<map mr="big" vaddr="0x0"/>'));
    expect(errorOf(text)).toBe(
      "Error: memory region 'big' (size 0x80001000) does not fit in the free RAM of qemu_virt_aarch64 [0x40000000..0xc0000000) @ test.system:2:3",
    );
  });
});

describe("setvars naming regions", () => {
  it("rejects setvar_prefill_size on a region without prefill_path", () => {
    const text = system(
      mr('name="m" size="0x1000"'),
      pd("a", "", '<map mr="m" vaddr="0x1000" setvar_prefill_size="len"/>'),
    );
    expect(errorOf(text)).toBe(
      "Error: 'setvar_prefill_size' used for MR without a `prefill_path` @ 'm' test.system:2:3",
    );
  });

  it("gives a located error for region_paddr naming no region (the Microkit tool panics)", () => {
    expect(errorOf(system(...pdLines('name="a"', '<setvar symbol="p" region_paddr="nope"/>')))).toBe(
      "Error: invalid memory region name 'nope' on 'setvar' @ test.system:4:5",
    );
  });
});

describe("prefill files", () => {
  const folder = mkdtempSync(join(tmpdir(), "virtkit-prefill-"));
  mkdirSync(join(folder, "extra"));
  writeFileSync(join(folder, "small.bin"), Buffer.alloc(5000, 1));
  writeFileSync(join(folder, "empty.bin"), "");
  writeFileSync(join(folder, "extra", "other.bin"), Buffer.alloc(10, 2));
  const file = join(folder, "p.system");
  const withPrefill = (attributes: string) =>
    system(
      mr(`name="m" ${attributes}`),
      pd("a", "", '<map mr="m" vaddr="0x1000000" setvar_prefill_size="len" setvar_size="size"/>'),
    );

  it("finds the file next to the .system file and rounds the size up to a page", () => {
    const parsed = parse(withPrefill('prefill_path="small.bin"'), {}, file);
    expect(parsed.memoryRegions[0]).toMatchObject({
      size: 0x2000,
      prefillSize: 5000,
      prefillResolved: join(folder, "small.bin"),
    });
    expect(parsed.allProtectionDomains[0]!.setvars.map(({ symbol, value }) => [symbol, value])).toEqual([
      ["size", 0x2000],
      ["len", 5000],
    ]);
  });

  it("searches --search-path folders after the .system file's folder", () => {
    expect(errorOf(withPrefill('prefill_path="other.bin"'), {}, file)).toBe(
      `Error: unable to find prefill file: 'other.bin' on element 'memory_region': ${file}:2:3`,
    );
    const parsed = parse(
      withPrefill('prefill_path="other.bin"'),
      { searchPaths: [join(folder, "extra")] },
      file,
    );
    expect(parsed.memoryRegions[0]!.prefillResolved).toBe(join(folder, "extra", "other.bin"));
  });

  it("rejects empty files, oversized files and folders", () => {
    expect(errorOf(withPrefill('prefill_path="empty.bin"'), {}, file)).toBe(
      `Error: prefill file 'empty.bin' is empty on element 'memory_region': ${file}:2:3`,
    );
    expect(errorOf(withPrefill('prefill_path="small.bin" size="0x1000"'), {}, file)).toBe(
      `Error: size of prefill file exceeds memory region size: 1388 > 1000 on element 'memory_region': ${file}:2:3`,
    );
    expect(errorOf(withPrefill('prefill_path="extra"'), {}, file)).toBe(
      `Error: failed to read file 'extra' at prefill_path on element 'memory_region': ${file}:2:3`,
    );
    expect(errorOf(withPrefill('prefill_path="small.bin" prefill_bootinfo="fdt"'), {}, file)).toBe(
      `Error: prefill_path and prefill_bootinfo cannot be both specified on element 'memory_region': ${file}:2:3`,
    );
  });
});

describe("warnings", () => {
  it("warns about unused memory regions, with their location", () => {
    const parsed = parse(system(mr('name="lonely" size="0x1000"'), pd("a")));
    expect(parsed.warnings).toEqual(["WARNING: unused memory region 'lonely' @ test.system:2:3"]);
  });
});

describe("domains", () => {
  const schedule = '<domain_schedule><schedule_entry domain="d1" duration="1000 us"/></domain_schedule>';
  const withDomains = (domains: string[], ...pds: string[]) =>
    system("  <domains>", ...domains.map((line) => `    ${line}`), "  </domains>", ...pds);

  it("assigns PDs to declared domains", () => {
    const parsed = parse(
      withDomains(['<domain name="d0" id="3"/>', '<domain name="d1"/>', schedule], pd("a", 'domain="d1"')),
    );
    expect(parsed.allProtectionDomains[0]!.domain).toBe("d1");
    expect(parsed.domainSchedule!.domains.map(({ name, id }) => [name, id])).toEqual([
      ["d0", 3],
      ["d1", 0],
    ]);
    expect(parsed.domainSchedule!.entries[0]).toMatchObject({ domain: "d1", duration: 1000, unit: "us" });
  });

  it.each([
    [
      "a multicore build",
      ['<domain name="d1"/>', schedule],
      [pd("a", 'domain="d1"')],
      { cores: 2 },
      "Error: The domain scheduler is not supported in multicore builds of seL4 @ test.system:2:3",
    ],
    [
      "an unknown child",
      ['<domain name="d1"/>', "<dom/>"],
      [],
      {},
      "Error: invalid XML element as child of <domains> 'dom': test.system:4:5",
    ],
    [
      "a missing schedule",
      ['<domain name="d1"/>'],
      [],
      {},
      "Error: The <domain_schedule> element must appear once on element 'domains': test.system:2:3",
    ],
    [
      "two schedules",
      ['<domain name="d1"/>', schedule, schedule],
      [],
      {},
      "Error: The <domain_schedule> element can only appear once on element 'domain_schedule': test.system:5:5",
    ],
    [
      "a repeated name",
      ['<domain name="d1" id="1"/>', '<domain name="d1"/>', schedule],
      [],
      {},
      "Error: Each <domain>'s name element must be unique found existing domain 'd1' with id '1' on element 'domain': test.system:4:5",
    ],
    [
      "a repeated id",
      ['<domain name="d1" id="1"/>', '<domain name="d2" id="1"/>', schedule],
      [],
      {},
      "Error: Each <domain>'s id element must be unique found existing domain 'd1' with id '1' on element 'domain': test.system:4:5",
    ],
    [
      "an id beyond KernelNumDomains",
      ['<domain name="d1" id="16"/>', schedule],
      [],
      {},
      "Error: domain id 16 should be less than the configured KernelNumDomains value of 16 on element 'domain': test.system:3:5",
    ],
    [
      "a PD without domain",
      ['<domain name="d1"/>', schedule],
      [pd("a")],
      {},
      "Error: Missing required attribute 'domain' on element 'protection_domain': test.system:6:3",
    ],
    [
      "a PD in an undeclared domain",
      ['<domain name="d1"/>', schedule],
      [pd("a", 'domain="d2"')],
      {},
      "Error: domain 'd2' not declared in <domains>: on element 'protection_domain': test.system:6:3",
    ],
    [
      "an entry for an unknown domain",
      [
        '<domain name="d1"/>',
        '<domain_schedule><schedule_entry domain="x" duration="1 us"/></domain_schedule>',
      ],
      [],
      {},
      "Error: domain 'x' does not exist, on element 'schedule_entry': test.system:4:22",
    ],
    [
      "a duration without unit",
      [
        '<domain name="d1"/>',
        '<domain_schedule><schedule_entry domain="d1" duration="1000"/></domain_schedule>',
      ],
      [],
      {},
      "Error: The duration '1000' must contain a value and a unit, e.g. '1000 us' on element 'schedule_entry': test.system:4:22",
    ],
    [
      "a zero duration",
      [
        '<domain name="d1"/>',
        '<domain_schedule><schedule_entry domain="d1" duration="0 ticks"/></domain_schedule>',
      ],
      [],
      {},
      "Error: The duration '0 ticks' must be non-zero on element 'schedule_entry': test.system:4:22",
    ],
    [
      "an unknown unit",
      [
        '<domain name="d1"/>',
        '<domain_schedule><schedule_entry domain="d1" duration="1000 kilometres"/></domain_schedule>',
      ],
      [],
      {},
      "Error: The duration '1000 kilometres' must be in either 'ticks' or 'us' on element 'schedule_entry': test.system:4:22",
    ],
    [
      "a start index past the end",
      [
        '<domain name="d1"/>',
        '<domain_schedule start_index="1"><schedule_entry domain="d1" duration="1 us"/></domain_schedule>',
      ],
      [],
      {},
      "Error: schedule_start_index '1' is greater than the length of the schedule '1' on element 'domain_schedule': test.system:4:5",
    ],
    [
      "a junk start index",
      [
        '<domain name="d1"/>',
        '<domain_schedule start_index="zzzz"><schedule_entry domain="d1" duration="1 us"/></domain_schedule>',
      ],
      [],
      {},
      "Error: failed to parse integer 'zzzz' on element 'domain_schedule': invalid digit found in string @ test.system:4:5",
    ],
    [
      "an index shift past the kernel's table",
      [
        '<domain name="d1"/>',
        '<domain_schedule index_shift="99"><schedule_entry domain="d1" duration="1 us"/></domain_schedule>',
      ],
      [],
      {},
      "Error: schedule_index_shift '99' on top of the schedule length '1' would exceed than the configured KernelNumDomainSchedules 100 on element 'domain_schedule': test.system:4:5",
    ],
    [
      "an unknown schedule child",
      ['<domain name="d1"/>', "<domain_schedule><entry/></domain_schedule>"],
      [],
      {},
      "Error: invalid XML element as child of <domain_schedule> 'entry': test.system:4:22",
    ],
  ])("rejects %s", (_name, domains, pds, options, message) => {
    expect(errorOf(withDomains(domains, ...pds), options)).toBe(message);
  });

  it("rejects more than 16 domains without ids", () => {
    const domains = Array.from({ length: 17 }, (_, i) => `<domain name="d${i}"/>`);
    expect(
      errorOf(
        withDomains([
          ...domains,
          '<domain_schedule><schedule_entry domain="d0" duration="1 us"/></domain_schedule>',
        ]),
      ),
    ).toBe("Error: Number of domains exceeds 16 on element 'domains': test.system:2:3");
  });

  it("rejects a domain on a PD when there are no domains", () => {
    expect(errorOf(system(pd("a", 'domain="domain_1"')))).toBe(
      "Error: Specifying a domain 'domain_1' without declaring a domain schedule is not allowed: on element 'protection_domain': test.system:2:3",
    );
  });

  it("rejects a second <domains>", () => {
    expect(
      errorOf(withDomains(['<domain name="d1"/>', schedule]).replace("</system>", "  <domains/>\n</system>")),
    ).toBe("Error: domains must only be specified once on element 'domains': test.system:6:3");
  });
});
