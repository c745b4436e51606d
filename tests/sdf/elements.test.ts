// Every per-element rule of the Microkit tool, with its message and location.
import { describe, expect, it } from "vitest";
import { errorOf, parse, pd, pdLines, system } from "./helpers.ts";

const mr = (attributes: string) => `  <memory_region ${attributes}/>`;

describe("system", () => {
  it.each([
    [
      "an unknown element",
      system("  <protection_domains/>"),
      "Error: invalid XML element 'protection_domains': test.system:2:3",
    ],
    [
      "a virtual machine outside a PD",
      system('  <virtual_machine name="vm"/>'),
      "Error: virtual machine must be a child of a protection domain: test.system:2:3",
    ],
    [
      "an x86 io_address_space",
      system('  <io_address_space name="d" peripheral_id="0:3.0"/>'),
      "Error: io address space requires seL4 to be built with IOMMU support: test.system:2:3",
    ],
  ])("rejects %s", (_name, text, message) => {
    expect(errorOf(text)).toBe(message);
  });
});

describe("protection_domain", () => {
  it.each([
    [
      "a missing name",
      system('  <protection_domain><program_image path="a"/></protection_domain>'),
      "Error: Missing required attribute 'name' on element 'protection_domain': test.system:2:3",
    ],
    [
      "an unknown attribute",
      system(pd("a", 'foo="1"')),
      "Error: invalid attribute 'foo' on element 'protection_domain': test.system:2:3",
    ],
    [
      "an id on a top-level PD",
      system(pd("a", 'id="1"')),
      "Error: invalid attribute 'id' on element 'protection_domain': test.system:2:3",
    ],
    [
      "priority 255",
      system(pd("a", 'priority="255"')),
      "Error: priority must be between 0 and 254 on element 'protection_domain': test.system:2:3",
    ],
    [
      "budget above period",
      system(pd("a", 'budget="1000" period="100"')),
      "Error: budget (1000) must be less than, or equal to, period (100) on element 'protection_domain': test.system:2:3",
    ],
    [
      "budget above the default period",
      system(pd("a", 'period="999"')),
      "Error: budget (1000) must be less than, or equal to, period (999) on element 'protection_domain': test.system:2:3",
    ],
    [
      "a small stack",
      system(pd("a", 'stack_size="0x800"')),
      "Error: stack size must be between 0x1000 bytes and 0x1000000 bytes on element 'protection_domain': test.system:2:3",
    ],
    [
      "a huge stack",
      system(pd("a", 'stack_size="0x1001000"')),
      "Error: stack size must be between 0x1000 bytes and 0x1000000 bytes on element 'protection_domain': test.system:2:3",
    ],
    [
      "an unaligned stack",
      system(pd("a", 'stack_size="0x1800"')),
      "Error: stack size must be aligned to the smallest page size, 4096 bytes on element 'protection_domain': test.system:2:3",
    ],
    [
      "a cpu beyond the cores",
      system(pd("a", 'cpu="10"')),
      "Error: cpu core must be less than 1, got 10 on element 'protection_domain': test.system:2:3",
    ],
    [
      "a missing program_image",
      system('  <protection_domain name="a"></protection_domain>'),
      "Error: missing 'program_image' element on protection_domain: 'a' @ test.system:2:3",
    ],
    [
      "two program images",
      system(...pdLines('name="a"', '<program_image path="b.elf"/>')),
      "Error: program_image must only be specified once on element 'protection_domain': test.system:2:3",
    ],
    [
      "a program image without path",
      system('  <protection_domain name="a"><program_image/></protection_domain>'),
      "Error: Missing required attribute 'path' on element 'program_image': test.system:2:31",
    ],
    [
      "a program image attribute",
      system('  <protection_domain name="a"><program_image path="a" foo="x"/></protection_domain>'),
      "Error: invalid attribute 'foo' on element 'program_image': test.system:2:31",
    ],
    [
      "an unknown child (without Microkit's Error: prefix)",
      system(...pdLines('name="a"', "<maps/>")),
      "Invalid XML element 'maps': test.system:4:5",
    ],
    [
      "a setvar without symbol",
      system(...pdLines('name="a"', '<setvar region_paddr="m"/>')),
      "Error: Missing required attribute 'symbol' on element 'setvar': test.system:4:5",
    ],
    [
      "a setvar without region_paddr",
      system(...pdLines('name="a"', '<setvar symbol="s"/>')),
      "Error: Missing required attribute 'region_paddr' on element 'setvar': test.system:4:5",
    ],
    [
      "a setvar attribute",
      system(...pdLines('name="a"', '<setvar symbol="s" region_paddr="m" size="1"/>')),
      "Error: invalid attribute 'size' on element 'setvar': test.system:4:5",
    ],
    [
      "two setvars on one symbol",
      system(
        mr('name="m" size="0x1000"'),
        ...pdLines(
          'name="a"',
          '<map mr="m" vaddr="0x1000" setvar_vaddr="test"/>',
          '<setvar symbol="test" region_paddr="m"/>',
        ),
      ),
      "Error: setvar on symbol 'test' already exists on element 'setvar': test.system:6:5",
    ],
    [
      "a child without id",
      system(
        ...pdLines(
          'name="parent"',
          '<protection_domain name="child"><program_image path="c"/></protection_domain>',
        ),
      ),
      "Error: Missing required attribute 'id' on element 'protection_domain': test.system:4:5",
    ],
    [
      "a child id above 61",
      system(
        ...pdLines(
          'name="parent"',
          '<protection_domain name="child" id="62"><program_image path="c"/></protection_domain>',
        ),
      ),
      "Error: id must be < 62 on element 'protection_domain': test.system:4:5",
    ],
    [
      "duplicate child ids",
      system(
        ...pdLines(
          'name="parent"',
          '<protection_domain name="c1" id="0"><program_image path="c"/></protection_domain>',
          '<protection_domain name="c2" id="0"><program_image path="c"/></protection_domain>',
        ),
      ),
      "Error: duplicate id: 0 in protection domain: 'parent' @ test.system:5:5",
    ],
    [
      "a child id equal to a vCPU id",
      system(
        ...pdLines(
          'name="parent"',
          '<protection_domain name="c1" id="0"><program_image path="c"/></protection_domain>',
          '<virtual_machine name="vm"><vcpu id="0"/></virtual_machine>',
        ),
      ),
      "Error: duplicate id: 0 clashes with virtual machine vcpu id in protection domain: 'parent' @ test.system:4:5",
    ],
    [
      "two virtual machines",
      system(
        ...pdLines(
          'name="a"',
          '<virtual_machine name="v1"><vcpu id="0"/></virtual_machine>',
          '<virtual_machine name="v2"><vcpu id="1"/></virtual_machine>',
        ),
      ),
      "Error: virtual_machine must only be specified once on element 'protection_domain': test.system:2:3",
    ],
    [
      "an x86 ioport",
      system(...pdLines('name="a"', '<ioport id="0" addr="0x3f8" size="8"/>')),
      "Error: I/O Ports are only available on x86 on element 'protection_domain': test.system:2:3",
    ],
    [
      "two cspaces",
      system(...pdLines('name="a"', "<cspace/>", "<cspace/>")),
      "Error: cspace must only be specified once on element 'protection_domain': test.system:2:3",
    ],
  ])("rejects %s", (_name, text, message) => {
    expect(errorOf(text)).toBe(message);
  });

  it("fills in Microkit's defaults", () => {
    const [a] = parse(system(pd("a"))).allProtectionDomains;
    expect(a).toMatchObject({
      priority: 0,
      budget: 1000,
      period: 1000,
      passive: false,
      stackSize: 0x2000,
      cpu: 0,
      smc: false,
      fpu: true,
      programImage: { path: "a.elf" },
    });
  });

  it("takes cpu numbers below --cores", () => {
    expect(parse(system(pd("a", 'cpu="1"')), { cores: 2 }).allProtectionDomains[0]!.cpu).toBe(1);
    expect(errorOf(system(pd("a", 'cpu="2"')), { cores: 2 })).toBe(
      "Error: cpu core must be less than 2, got 2 on element 'protection_domain': test.system:2:3",
    );
  });
});

describe("map", () => {
  const withMap = (map: string, region = 'name="m" size="0x1000"') =>
    system(mr(region), ...pdLines('name="a"', map));

  it.each([
    [
      "a missing mr",
      '<map vaddr="0x1000"/>',
      "Error: Missing required attribute 'mr' on element 'map': test.system:5:5",
    ],
    [
      "a missing vaddr",
      '<map mr="m"/>',
      "Error: Missing required attribute 'vaddr' on element 'map': test.system:5:5",
    ],
    [
      "unknown perms",
      '<map mr="m" vaddr="0x1000" perms="rwz"/>',
      "Error: perms must only be a combination of 'r', 'w', and 'x' on element 'map': test.system:5:5",
    ],
    [
      "write-only perms",
      '<map mr="m" vaddr="0x1000" perms="w"/>',
      "Error: perms must not be 'w', write-only mappings are not allowed on element 'map': test.system:5:5",
    ],
    [
      "an unknown attribute",
      '<map mr="m" vaddr="0x1000" size="1"/>',
      "Error: invalid attribute 'size' on element 'map': test.system:5:5",
    ],
    [
      "a vaddr in the stack area",
      '<map mr="m" vaddr="0x1000000000000000"/>',
      "Error: vaddr (0x1000000000000000) must be less than 0xffffffc000 on element 'map': test.system:5:5",
    ],
    [
      "an unknown region",
      '<map mr="foos" vaddr="0x1000"/>',
      "Error: invalid memory region name 'foos' on 'map' @ test.system:5:5",
    ],
    [
      "an unaligned vaddr",
      '<map mr="m" vaddr="0x1001"/>',
      "Error: invalid vaddr alignment on 'map' @ test.system:5:5",
    ],
  ])("rejects %s", (_name, map, message) => {
    expect(errorOf(withMap(map))).toBe(message);
  });

  it("puts the limit below a bigger stack", () => {
    const text = system(
      mr('name="m" size="0x1000"'),
      ...pdLines('name="a" stack_size="0x10000"', '<map mr="m" vaddr="0xffffff0000"/>'),
    );
    expect(errorOf(text)).toBe(
      "Error: vaddr (0xffffff0000) must be less than 0xfffffee000 on element 'map': test.system:5:5",
    );
  });

  it("rejects a map whose end runs into the stack", () => {
    expect(errorOf(withMap('<map mr="m" vaddr="0xe000000000"/>', 'name="m" size="0x2000000000000"'))).toBe(
      "Error: map for 'm' has virtual address range [0xe000000000..0x200e000000000) which exceeds valid address space [0x0..0xffffffc000) @ test.system:5:5",
    );
  });

  it("rejects overlapping maps, also of different page sizes", () => {
    const text = system(
      mr('name="mr1" size="0x1000"'),
      mr('name="mr2" size="0x1000"'),
      ...pdLines('name="hello"', '<map mr="mr1" vaddr="0x1000000"/>', '<map mr="mr2" vaddr="0x1000000"/>'),
    );
    expect(errorOf(text)).toBe(
      "Error: map for 'mr2' has virtual address range [0x1000000..0x1001000) which overlaps with map for 'mr1' [0x1000000..0x1001000) in protection domain 'hello' @ test.system:7:5",
    );
    const mixed = system(
      mr('name="large_region" size="0x200000" page_size="0x200000"'),
      mr('name="small_region" size="0x1000"'),
      ...pdLines(
        'name="test"',
        '<map mr="large_region" vaddr="0x200000"/>',
        '<map mr="small_region" vaddr="0x201000"/>',
      ),
    );
    expect(errorOf(mixed)).toBe(
      "Error: map for 'small_region' has virtual address range [0x201000..0x202000) which overlaps with map for 'large_region' [0x200000..0x400000) in protection domain 'test' @ test.system:7:5",
    );
  });

  it("accepts every permission combination except write-only, and no permissions", () => {
    for (const perms of ["", "r", "x", "rw", "rx", "wx", "rwx", "wr"]) {
      const parsed = parse(withMap(`<map mr="m" vaddr="0x1000" perms="${perms}"/>`));
      expect(parsed.allProtectionDomains[0]!.maps[0]!.perms).toEqual({
        read: perms.includes("r"),
        write: perms.includes("w"),
        execute: perms.includes("x"),
      });
    }
  });

  it("defaults to rw and cached", () => {
    const map = parse(withMap('<map mr="m" vaddr="0x1000"/>')).allProtectionDomains[0]!.maps[0]!;
    expect(map).toMatchObject({ perms: { read: true, write: true, execute: false }, cached: true });
  });
});

describe("irq", () => {
  const withIrq = (...irqs: string[]) => system(...pdLines('name="a"', ...irqs));

  it.each([
    [
      "a missing irq",
      '<irq id="1"/>',
      "Error: Missing required attribute 'irq' on element 'irq': test.system:4:5",
    ],
    [
      "a missing id",
      '<irq irq="33"/>',
      "Error: Missing required attribute 'id' on element 'irq': test.system:4:5",
    ],
    ["an id above 61", '<irq irq="33" id="62"/>', "Error: id must be < 62 on element 'irq': test.system:4:5"],
    ["a negative id", '<irq irq="33" id="-1"/>', "Error: id must be >= 0 on element 'irq': test.system:4:5"],
    [
      "an unknown trigger",
      '<irq irq="33" id="1" trigger="rising"/>',
      "Error: trigger must be either 'level' or 'edge' on element 'irq': test.system:4:5",
    ],
    [
      "an x86 I/O APIC irq",
      '<irq pin="1" id="1" vector="1"/>',
      "Error: x86 I/O APIC IRQ isn't supported on ARM and RISC-V on element 'irq': test.system:4:5",
    ],
    [
      "an x86 MSI",
      '<irq pcidev="0:1.0" id="1" handle="0" vector="1"/>',
      "Error: x86 MSI IRQ isn't supported on ARM and RISC-V on element 'irq': test.system:4:5",
    ],
    [
      "an unknown attribute",
      '<irq irq="33" id="1" polarity="low"/>',
      "Error: invalid attribute 'polarity' on element 'irq': test.system:4:5",
    ],
    [
      "a negative irq",
      '<irq irq="-1" id="1"/>',
      "Error: irq must be an interrupt number between 0 and 1019 on element 'irq': test.system:4:5",
    ],
    [
      "an irq beyond the GIC",
      '<irq irq="1020" id="1"/>',
      "Error: irq must be an interrupt number between 0 and 1019 on element 'irq': test.system:4:5",
    ],
  ])("rejects %s", (_name, irq, message) => {
    expect(errorOf(withIrq(irq))).toBe(message);
  });

  it("defaults to level-triggered", () => {
    const [irq] = parse(withIrq('<irq irq="33" id="1"/>')).allProtectionDomains[0]!.irqs;
    expect(irq).toMatchObject({ irq: 33, id: 1, trigger: "level" });
  });
});

describe("virtual_machine", () => {
  const withVm = (...vm: string[]) => system(...pdLines('name="vmm" priority="2"', ...vm));

  it.each([
    [
      "a VM without vCPUs",
      ['<virtual_machine name="guest"/>'],
      "Error: missing 'vcpu' element on virtual_machine: 'guest' @ test.system:4:5",
    ],
    [
      "a VM without name",
      ['<virtual_machine><vcpu id="0"/></virtual_machine>'],
      "Error: Missing required attribute 'name' on element 'virtual_machine': test.system:4:5",
    ],
    [
      "a vCPU without id",
      ['<virtual_machine name="guest">', "  <vcpu/>", "</virtual_machine>"],
      "Error: Missing required attribute 'id' on element 'vcpu': test.system:5:7",
    ],
    [
      "a vCPU id above 61",
      ['<virtual_machine name="guest">', '  <vcpu id="62"/>', "</virtual_machine>"],
      "Error: id must be < 62 on element 'vcpu': test.system:5:7",
    ],
    [
      "a hex vCPU id",
      ['<virtual_machine name="guest">', '  <vcpu id="0x0"/>', "</virtual_machine>"],
      "Error: failed to parse integer '0x0' on element 'vcpu': invalid digit found in string (ids are decimal only) @ test.system:5:7",
    ],
    [
      "duplicate vCPU ids",
      ['<virtual_machine name="guest">', '  <vcpu id="1"/>', '  <vcpu id="1"/>', "</virtual_machine>"],
      "Error: duplicate vcpu id 1 in virtual machine 'guest' @ test.system:6:7",
    ],
    [
      "a vCPU on a missing core",
      ['<virtual_machine name="guest">', '  <vcpu id="0" cpu="1"/>', "</virtual_machine>"],
      "Error: cpu core must be less than 1, got 1 on element 'vcpu': test.system:5:7",
    ],
    [
      "a vCPU attribute",
      ['<virtual_machine name="guest">', '  <vcpu id="0" name="x"/>', "</virtual_machine>"],
      "Error: invalid attribute 'name' on element 'vcpu': test.system:5:7",
    ],
    [
      "an unknown child",
      ['<virtual_machine name="guest">', '  <vcpu id="0"/>', '  <irq irq="1" id="1"/>', "</virtual_machine>"],
      "Error: invalid XML element 'irq': test.system:6:7",
    ],
    [
      "a VM priority above 254 (unchecked by the Microkit tool)",
      ['<virtual_machine name="guest" priority="300"><vcpu id="0"/></virtual_machine>'],
      "Error: priority must be between 0 and 254 on element 'virtual_machine': test.system:4:5",
    ],
    [
      "a VM budget above its period",
      ['<virtual_machine name="guest" budget="20" period="10"><vcpu id="0"/></virtual_machine>'],
      "Error: budget (20) must be less than, or equal to, period (10) on element 'virtual_machine': test.system:4:5",
    ],
    [
      "setvars on VM maps",
      [
        '<virtual_machine name="guest"><vcpu id="0"/><map mr="m" vaddr="0" setvar_vaddr="x"/></virtual_machine>',
      ],
      "Error: invalid attribute 'setvar_vaddr' on element 'map': test.system:4:49",
    ],
    [
      "a VM map beyond the 40-bit space",
      ['<virtual_machine name="guest"><vcpu id="0"/><map mr="m" vaddr="0x10000000000"/></virtual_machine>'],
      "Error: vaddr (0x10000000000) must be less than 0x10000000000 on element 'map': test.system:4:49",
    ],
  ])("rejects %s", (_name, vm, message) => {
    expect(errorOf(withVm(...vm))).toBe(message);
  });

  it("explains the old id attribute the tutorial text still shows", () => {
    let hint: string | undefined;
    try {
      parse(withVm('<virtual_machine name="linux" id="0" priority="1"><vcpu id="0"/></virtual_machine>'));
    } catch (err) {
      expect((err as Error).message).toBe(
        "Error: invalid attribute 'id' on element 'virtual_machine': test.system:4:5",
      );
      hint = (err as { hint?: string }).hint;
    }
    expect(hint).toContain('<vcpu id="0"/>');
  });

  it("rejects VM maps that overlap in guest physical space", () => {
    const text = system(
      mr('name="mr1" size="0x1000"'),
      mr('name="mr2" size="0x1000"'),
      ...pdLines(
        'name="vmm"',
        '<virtual_machine name="guest"><vcpu id="0"/><map mr="mr1" vaddr="0x1000000"/><map mr="mr2" vaddr="0x1000000"/></virtual_machine>',
      ),
    );
    expect(errorOf(text)).toBe(
      "Error: map for 'mr2' has virtual address range [0x1000000..0x1001000) which overlaps with map for 'mr1' [0x1000000..0x1001000) in virtual machine 'guest' @ test.system:6:82",
    );
  });

  it("rejects a VM map of an unknown region", () => {
    const text = system(
      ...pdLines(
        'name="vmm"',
        '<virtual_machine name="guest"><vcpu id="0"/><map mr="mr1" vaddr="0x1000000"/></virtual_machine>',
      ),
    );
    expect(errorOf(text)).toBe("Error: invalid memory region name 'mr1' on 'map' @ test.system:4:49");
  });

  it("runs vCPUs on the VMM's core unless told otherwise, with Microkit's defaults", () => {
    const text = system(
      ...pdLines(
        'name="vmm" cpu="1"',
        '<virtual_machine name="guest"><vcpu id="0"/><vcpu id="1" cpu="0"/></virtual_machine>',
      ),
    );
    const vm = parse(text, { cores: 2 }).allProtectionDomains[0]!.virtualMachine!;
    expect(vm).toMatchObject({ name: "guest", priority: 0, budget: 1000, period: 1000 });
    expect(vm.vcpus.map(({ id, cpu }) => ({ id, cpu }))).toEqual([
      { id: 0, cpu: 1 },
      { id: 1, cpu: 0 },
    ]);
  });
});

describe("memory_region", () => {
  const withRegion = (attributes: string) => system(mr(attributes), pd("a"));

  it.each([
    [
      "a missing name",
      'size="0x1000"',
      "Error: Missing required attribute 'name' on element 'memory_region': test.system:2:3",
    ],
    [
      "an unknown attribute",
      'name="m" size="0x1000" page_count="1"',
      "Error: invalid attribute 'page_count' on element 'memory_region': test.system:2:3",
    ],
    [
      "an unsupported page size",
      'name="m" size="0x200001" page_size="0x200001"',
      "Error: page size 0x200001 not supported on element 'memory_region': test.system:2:3",
    ],
    [
      "a size that is not a multiple of the page size",
      'name="m" size="0x1001"',
      "Error: size is not a multiple of the page size on element 'memory_region': test.system:2:3",
    ],
    [
      "a size that is not a multiple of a large page",
      'name="m" size="0x1000" page_size="0x200000"',
      "Error: size is not a multiple of the page size on element 'memory_region': test.system:2:3",
    ],
    [
      "a phys_addr not aligned to the page size",
      'name="m" size="0x200000" page_size="0x200000" phys_addr="0x1000"',
      "Error: phys_addr is not aligned to the page size on element 'memory_region': test.system:2:3",
    ],
    [
      "a missing size",
      'name="m"',
      "Error: size must be specified if memory region is not prefilled on element 'memory_region': test.system:2:3",
    ],
    [
      "an empty region",
      'name="m" size="0"',
      "Error: size must be greater than 0 on element 'memory_region': test.system:2:3",
    ],
    [
      "a missing prefill file",
      'name="m" size="0x1000" prefill_path="abcxyz.bin"',
      "Error: unable to find prefill file: 'abcxyz.bin' on element 'memory_region': test.system:2:3",
    ],
    [
      "an unknown prefill_bootinfo",
      'name="m" prefill_bootinfo="x86_invalid_bootinfo"',
      "Error: BootInfoMap type: 'x86_invalid_bootinfo' is not supported on element 'memory_region': test.system:2:3",
    ],
  ])("rejects %s", (_name, attributes, message) => {
    expect(errorOf(withRegion(attributes))).toBe(message);
  });

  it("sizes a prefill_bootinfo region to one page", () => {
    const text = system(mr('name="m" prefill_bootinfo="fdt"'), pd("a", "", '<map mr="m" vaddr="0x1000"/>'));
    expect(parse(text).memoryRegions[0]).toMatchObject({ size: 0x1000, prefillBootinfo: "fdt" });
  });
});

describe("channel", () => {
  const twoPds = [pd("a", 'priority="1"'), pd("b", 'priority="2"')];
  const withChannel = (...channel: string[]) =>
    system(...twoPds, "  <channel>", ...channel.map((line) => `    ${line}`), "  </channel>");

  it.each([
    [
      "an end without id",
      ['<end pd="a"/>', '<end pd="b" id="1"/>'],
      "Error: Missing required attribute 'id' on element 'end': test.system:5:5",
    ],
    [
      "an end without pd",
      ['<end id="1"/>', '<end pd="b" id="1"/>'],
      "Error: Missing required attribute 'pd' on element 'end': test.system:5:5",
    ],
    [
      "an id above 61",
      ['<end pd="a" id="62"/>', '<end pd="b" id="1"/>'],
      "Error: id must be < 62 on element 'end': test.system:5:5",
    ],
    [
      "a negative id",
      ['<end pd="a" id="-1"/>', '<end pd="b" id="1"/>'],
      "Error: id must be >= 0 on element 'end': test.system:5:5",
    ],
    [
      "a hex id",
      ['<end pd="a" id="0x1"/>', '<end pd="b" id="1"/>'],
      "Error: failed to parse integer '0x1' on element 'end': invalid digit found in string (ids are decimal only) @ test.system:5:5",
    ],
    [
      "an unknown PD",
      ['<end pd="a" id="1"/>', '<end pd="invalidpd" id="1"/>'],
      "Error: invalid PD name 'invalidpd' on element 'end': test.system:6:5",
    ],
    [
      "an unknown element",
      ['<end pd="a" id="1"/>', '<ending pd="b" id="1"/>'],
      "Error: invalid XML element 'ending': test.system:6:5",
    ],
    [
      "one end",
      ['<end pd="a" id="1"/>'],
      "Error: exactly two end elements must be specified on element 'channel': test.system:4:3",
    ],
    [
      "three ends",
      ['<end pd="a" id="1"/>', '<end pd="b" id="1"/>', '<end pd="b" id="2"/>'],
      "Error: exactly two end elements must be specified on element 'channel': test.system:4:3",
    ],
    [
      "a bad pp",
      ['<end pd="a" id="1" pp="yes"/>', '<end pd="b" id="1"/>'],
      "Error: pp must be 'true' or 'false' on element 'end': test.system:5:5",
    ],
    [
      "a bad notify",
      ['<end pd="a" id="1" notify="no"/>', '<end pd="b" id="1"/>'],
      "Error: notify must be 'true' or 'false' on element 'end': test.system:5:5",
    ],
    [
      "an end attribute",
      ['<end pd="a" id="1" badge="1"/>', '<end pd="b" id="1"/>'],
      "Error: invalid attribute 'badge' on element 'end': test.system:5:5",
    ],
    [
      "pp on both ends",
      ['<end pd="a" id="1" pp="true"/>', '<end pd="b" id="1" pp="true"/>'],
      "Error: cannot ppc bidirectionally on element 'channel': test.system:4:3",
    ],
  ])("rejects %s", (_name, channel, message) => {
    expect(errorOf(withChannel(...channel))).toBe(message);
  });

  it("rejects channel attributes", () => {
    expect(
      errorOf(system(...twoPds, '  <channel foo="bar"><end pd="a" id="1"/><end pd="b" id="1"/></channel>')),
    ).toBe("Error: invalid attribute 'foo' on element 'channel': test.system:4:3");
  });
});

describe("cspace", () => {
  const withCspace = (...entries: string[]) =>
    system(
      pd("pd_a"),
      ...pdLines('name="pd_b"', "<cspace>", ...entries.map((entry) => `  ${entry}`), "</cspace>"),
    );

  it.each([
    [
      "slot 0",
      '<cap_sc pd="pd_a" slot="0"/>',
      "Error: The destination slot 0 has been reserved for Microkit CNode on element 'cap_sc': test.system:6:7",
    ],
    [
      "slot 128",
      '<cap_tcb pd="pd_a" slot="128"/>',
      "Error: There are only 128 destination cspace slots available. on element 'cap_tcb': test.system:6:7",
    ],
    [
      "an unknown cap type",
      '<cap_gerbils pd="pd_a" slot="1"/>',
      "Cap type: 'gerbils' is not supported at 'test.system:6:7'",
    ],
    [
      "an unknown element",
      '<frame pd="pd_a" slot="1"/>',
      "Element 'frame' is not supported in a <cspace> element at 'test.system:6:7'",
    ],
    [
      "an unknown PD",
      '<cap_vspace pd="invalid" slot="1"/>',
      "Error: unknown PD name 'invalid': test.system:6:7",
    ],
    [
      "a missing slot",
      '<cap_vspace pd="pd_a"/>',
      "Error: Missing required attribute 'slot' on element 'cap_vspace': test.system:6:7",
    ],
    [
      "two caps in one slot",
      '<cap_vspace pd="pd_a" slot="3"/><cap_vspace pd="pd_a" slot="3"/>',
      "Error: overlapping user caps in slot 3 of protection domain 'pd_b': type VSpace from 'pd_a' at 'test.system:6:7', type VSpace from 'pd_a' at 'test.system:6:39'",
    ],
  ])("rejects %s", (_name, entry, message) => {
    expect(errorOf(withCspace(entry))).toBe(message);
  });

  it("records capability maps", () => {
    const pdB = parse(withCspace('<cap_tcb pd="pd_a" slot="1"/>', '<cap_sc pd="pd_a" slot="2"/>'))
      .allProtectionDomains[1]!;
    expect(pdB.capMaps.map(({ type, pd, slot }) => ({ type, pd, slot }))).toEqual([
      { type: "tcb", pd: "pd_a", slot: 1 },
      { type: "sc", pd: "pd_a", slot: 2 },
    ]);
  });
});
