// What later layers read from the model: resolved maps, channel ends and masks, endpoints,
// setvar values, page sizes and physical placement.
import { describe, expect, it } from "vitest";
import { parse, pd, pdLines, system } from "./helpers.ts";

const mr = (attributes: string) => `  <memory_region ${attributes}/>`;

describe("channel ends and libmicrokit's masks", () => {
  const text = system(
    ...pdLines(
      'name="client" priority="1"',
      '<irq irq="40" id="7"/>',
      '<irq irq="41" id="9" trigger="edge" setvar_id="irq_ch"/>',
    ),
    pd("server", 'priority="5" passive="true"'),
    '  <channel><end pd="client" id="3" pp="true" setvar_id="server_ch"/><end pd="server" id="0" notify="false"/></channel>',
    '  <channel><end pd="client" id="4" notify="false"/><end pd="server" id="1"/></channel>',
  );
  const [client, server] = parse(text).allProtectionDomains;

  it("gives each PD its ends, sorted by id, with the peer's id", () => {
    expect(client!.channels).toEqual([
      { id: 3, peer: "server", peerId: 0, pp: true, notify: true, setvarId: "server_ch" },
      { id: 4, peer: "server", peerId: 1, pp: false, notify: false },
    ]);
    expect(server!.channels).toEqual([
      { id: 0, peer: "client", peerId: 3, pp: false, notify: false },
      { id: 1, peer: "client", peerId: 4, pp: false, notify: true },
    ]);
  });

  it("computes microkit_irqs, microkit_notifications and microkit_pps", () => {
    expect(client).toMatchObject({
      irqMask: (1n << 7n) | (1n << 9n),
      notifyMask: 1n << 3n,
      ppMask: 1n << 3n,
    });
    expect(server).toMatchObject({ irqMask: 0n, notifyMask: 1n << 1n, ppMask: 0n });
  });

  it("gives an endpoint to PPC targets only (here)", () => {
    expect(client!.hasEndpoint).toBe(false);
    expect(server!.hasEndpoint).toBe(true);
    expect(server!.passive).toBe(true);
  });

  it("resolves id setvars from irqs and channel ends", () => {
    expect(client!.setvars.map(({ symbol, kind, value }) => ({ symbol, kind, value }))).toEqual([
      { symbol: "irq_ch", kind: "id", value: 9 },
      { symbol: "server_ch", kind: "id", value: 3 },
    ]);
  });

  it("keeps channel ids at the top of the range", () => {
    const high = parse(
      system(pd("a"), pd("b"), '  <channel><end pd="a" id="61"/><end pd="b" id="0"/></channel>'),
    );
    expect(high.allProtectionDomains[0]!.notifyMask).toBe(1n << 61n);
  });
});

describe("child PDs and virtual machines", () => {
  const text = system(
    ...pdLines(
      'name="parent" priority="10"',
      '<protection_domain name="child" id="1" setvar_id="child_id" priority="5"><program_image path="c.elf"/></protection_domain>',
      '<virtual_machine name="guest" priority="3"><vcpu id="0" setvar_id="vcpu0"/></virtual_machine>',
    ),
  );
  const parsed = parse(text);

  it("nests children and lists every PD parents first", () => {
    expect(parsed.protectionDomains.map((p) => p.name)).toEqual(["parent"]);
    expect(parsed.allProtectionDomains.map((p) => [p.name, p.parent, p.id])).toEqual([
      ["parent", undefined, undefined],
      ["child", "parent", 1],
    ]);
    expect(parsed.protectionDomains[0]!.children[0]!.name).toBe("child");
  });

  it("gives parents and VMMs an endpoint for fault delivery", () => {
    expect(parsed.allProtectionDomains.map((p) => p.hasEndpoint)).toEqual([true, false]);
  });

  it("lists virtual machines with their VMM and patches child and vCPU ids", () => {
    expect(parsed.virtualMachines.map(({ vm, vmm }) => [vm.name, vmm, vm.priority])).toEqual([
      ["guest", "parent", 3],
    ]);
    const setvars = parsed.allProtectionDomains[0]!.setvars.map(({ symbol, value }) => [symbol, value]);
    expect(setvars).toEqual([
      ["child_id", 1],
      ["vcpu0", 0],
    ]);
  });
});

describe("page sizes", () => {
  it("promotes to 2 MiB pages when size, phys_addr and every vaddr allow it", () => {
    const parsed = parse(
      system(
        mr('name="big" size="0x400000" phys_addr="0x40200000"'),
        mr('name="unaligned" size="0x400000"'),
        mr('name="explicit" size="0x400000" page_size="0x1000"'),
        mr('name="odd" size="0x201000"'),
        pd(
          "a",
          "",
          '<map mr="big" vaddr="0x200000"/>',
          '<map mr="unaligned" vaddr="0x1001000"/>',
          '<map mr="explicit" vaddr="0x2000000"/>',
          '<map mr="odd" vaddr="0x4000000"/>',
        ),
      ),
    );
    expect(parsed.memoryRegions.map((m) => [m.name, m.pageSize])).toEqual([
      ["big", 0x200000],
      ["unaligned", 0x1000],
      ["explicit", 0x1000],
      ["odd", 0x1000],
    ]);
  });

  it("resolves each map to its region", () => {
    const parsed = parse(
      system(mr('name="m" size="0x1000"'), pd("a", "", '<map mr="m" vaddr="0x1000" setvar_size="m_size"/>')),
    );
    const map = parsed.allProtectionDomains[0]!.maps[0]!;
    expect(map.region).toBe(parsed.memoryRegions[0]);
    expect(parsed.allProtectionDomains[0]!.setvars[0]).toMatchObject({
      symbol: "m_size",
      kind: "size",
      mr: "m",
      value: 0x1000,
    });
  });
});

describe("physical placement", () => {
  it("places regions without phys_addr in RAM, lowest first, aligned, around fixed regions", () => {
    const parsed = parse(
      system(
        mr('name="small" size="0x1000"'),
        mr('name="fixed" size="0x200000" phys_addr="0x40200000"'),
        mr('name="large" size="0x200000" page_size="0x200000"'),
        mr('name="fill" size="0x1ff000"'),
        mr('name="device" size="0x1000" phys_addr="0x9000000"'),
        mr('name="after" size="0x2000"'),
        pd(
          "a",
          "",
          '<map mr="small" vaddr="0x1000"/><map mr="fixed" vaddr="0x1000000"/><map mr="large" vaddr="0x2000000"/>',
          '<map mr="fill" vaddr="0x4000000"/><map mr="device" vaddr="0x8000000"/><map mr="after" vaddr="0x9000000"/>',
        ),
      ),
    );
    expect(Object.fromEntries(parsed.memoryRegions.map((m) => [m.name, m.paddr]))).toEqual({
      small: 0x4000_0000,
      fixed: 0x4020_0000,
      large: 0x4040_0000,
      fill: 0x4000_1000,
      device: 0x0900_0000,
      after: 0x4060_0000,
    });
    expect(parsed.memoryRegions.find((m) => m.name === "small")!.physAddr).toBeUndefined();
  });

  it("gives region_paddr setvars the placed address", () => {
    const parsed = parse(
      system(
        mr('name="buffer" size="0x1000"'),
        ...pdLines(
          'name="driver"',
          '<map mr="buffer" vaddr="0x1000"/>',
          '<setvar symbol="buffer_paddr" region_paddr="buffer"/>',
        ),
      ),
    );
    expect(parsed.allProtectionDomains[0]!.setvars[0]).toMatchObject({
      symbol: "buffer_paddr",
      kind: "paddr",
      regionPaddr: "buffer",
      value: 0x4000_0000,
    });
  });
});
