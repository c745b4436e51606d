import { describe, expect, it } from "vitest";
import { parseSystemFile } from "../../src/sdf/index.ts";
import { parseOptions } from "./helpers.ts";

describe("examples", () => {
  it("Wordle part 4: four PDs, a Linux VM and the tutorial's channels", () => {
    const wordle = parseSystemFile("examples/wordle/part4.system", parseOptions());
    expect(wordle.warnings).toEqual([]);
    const byName = Object.fromEntries(wordle.allProtectionDomains.map((pd) => [pd.name, pd]));
    expect(Object.keys(byName)).toEqual(["wordle_server", "serial_server", "client", "vmm"]);
    expect(byName.serial_server).toMatchObject({ priority: 254, irqMask: 1n << 1n, notifyMask: 1n << 2n });
    expect(byName.serial_server!.maps[0]).toMatchObject({ mr: "uart", vaddr: 0x2000000, cached: false });
    expect(byName.client).toMatchObject({
      priority: 253,
      ppMask: 1n << 2n,
      notifyMask: (1n << 1n) | (1n << 2n),
    });
    expect(byName.wordle_server).toMatchObject({
      priority: 254,
      hasEndpoint: true,
      notifyMask: (1n << 1n) | (1n << 2n),
    });
    expect(byName.vmm).toMatchObject({
      priority: 101,
      ppMask: 1n << 1n,
      irqMask: 1n << 2n,
      hasEndpoint: true,
    });
    expect(byName.vmm!.irqs[0]).toMatchObject({ irq: 79, id: 2, trigger: "edge" });
    const linux = byName.vmm!.virtualMachine!;
    expect(linux).toMatchObject({ name: "linux", priority: 100 });
    expect(linux.vcpus.map((vcpu) => vcpu.id)).toEqual([0]);
    expect(linux.maps.map((map) => [map.mr, map.vaddr, map.region.paddr])).toEqual([
      ["guest_ram", 0x40000000, 0x40000000],
      ["ethernet", 0xa003000, 0xa003000],
      ["uart", 0x9000000, 0x9000000],
      ["gic_vcpu", 0x8010000, 0x8040000],
    ]);
    const guestRam = wordle.memoryRegions.find((mr) => mr.name === "guest_ram")!;
    expect(guestRam).toMatchObject({ size: 0x10000000, pageSize: 0x200000 });
    // The shared serial pages are placed in RAM after the fixed guest RAM.
    expect(wordle.memoryRegions.filter((mr) => mr.physAddr === undefined).map((mr) => mr.paddr)).toEqual([
      0x50000000, 0x50001000,
    ]);
  });

  it("libvmm simple: one VMM, one guest, UART passed through", () => {
    const simple = parseSystemFile("examples/simple/qemu_virt_aarch64/simple.system", parseOptions());
    expect(simple.warnings).toEqual([]);
    const [vmm] = simple.allProtectionDomains;
    expect(vmm).toMatchObject({ name: "VMM", priority: 254, irqMask: 1n << 1n, hasEndpoint: true });
    expect(vmm!.setvars).toMatchObject([{ symbol: "guest_ram_vaddr", kind: "vaddr", value: 0x40000000 }]);
    const guestRam = simple.memoryRegions.find((mr) => mr.name === "guest_ram")!;
    // No phys_addr and everything 2 MiB aligned: promoted to 2 MiB pages, placed at the bottom of RAM.
    expect(guestRam).toMatchObject({ size: 0x10000000, pageSize: 0x200000, paddr: 0x40000000 });
    expect(vmm!.virtualMachine!.maps.map((map) => [map.mr, map.vaddr])).toEqual([
      ["guest_ram", 0x40000000],
      ["serial", 0x9000000],
      ["gic_vcpu", 0x8010000],
    ]);
  });
});
