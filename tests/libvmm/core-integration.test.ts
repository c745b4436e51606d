import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { binutilsAvailable } from "./binutils.ts";
import { buildGuest, createCoreVm, type CoreVm } from "./core-harness.ts";

const haveTools = binutilsAvailable();
const haveCore = existsSync(new URL("../../build/cpu.wasm", import.meta.url));
if (process.env.CI && !haveCore)
  throw new Error("build/cpu.wasm is missing: run `npm run build` before the tests");

describe.runIf(haveTools && haveCore)("libvmm on the CPU core", () => {
  it("emulates device accesses of every size and answers PSCI over HVC and SMC", async () => {
    const writes: string[] = [];
    const vm: CoreVm = await createCoreVm(
      buildGuest(new URL("./guests/mmio-psci.s", import.meta.url).pathname),
      {
        configure: (v) =>
          v.vmm.mmio.register("test device", 0x5000_0000, 0x1000, {
            read: (offset, size) => {
              if (offset === 32) return size === 1 ? 0x80n : 0xff80n;
              return offset === 40 ? 0x1122_3344_5566_7788n : 0n;
            },
            write: (offset, size, value) => void writes.push(`${offset}/${size}=0x${value.toString(16)}`),
          }),
      },
    );
    expect(vm.run()).toBe("stopped");
    expect(vm.log).toEqual(["INFO: guest: the guest powered off (PSCI SYSTEM_OFF)"]);
    expect(vm.events).toEqual(["restart", "stop", "system off"]);
    expect(writes).toEqual([
      "1/1=0x68",
      "2/2=0x6869",
      "4/4=0x33334444",
      "8/8=0x1111222233334444",
      "16/8=0x0",
    ]);
    const { vcpu } = vm;
    expect(vcpu.getX(2)).toBe(0x7n); // GICD_TYPER: 256 lines, one CPU
    expect(vcpu.getX(5)).toBe(0xffff_ffff_ffff_ff80n);
    expect(vcpu.getX(6)).toBe(0xffff_ff80n);
    expect(vcpu.getX(7)).toBe(0x80n);
    expect(vcpu.getX(8)).toBe(0x1122_3344_5566_7788n);
    expect(vcpu.getX(9)).toBe(0x1_0001n);
    expect(vcpu.getX(10)).toBe(0x1_0001n);
    expect(vcpu.getX(11)).toBe(0x11n);
    expect(vm.vmm.vgic.control).toBe(1);
  });
});

describe.runIf(haveTools && haveCore)("libvmm interrupts on the CPU core", () => {
  it("sleeps the vCPU in WFI, injects a passthrough IRQ, and acks it on the guest's EOI", async () => {
    const vm = await createCoreVm(buildGuest(new URL("./guests/wfi-irq.s", import.meta.url).pathname), {
      configure: (v) => {
        v.vcpu.gicvBase = 0x801_0000;
        v.vmm.registerPassthroughIrq(0, 40, 1);
      },
    });
    expect(vm.run()).toBe("stopped");
    expect(vm.events).toEqual(["restart", "irqAck 1"]); // enabling the IRQ acked it once
    expect(vm.vcpu.getX(19)).toBe(0n);
    expect(vm.vmm.handleNotification(1)).toBe(true);
    expect(vm.run()).toBe("stopped");
    expect(vm.vcpu.getX(19)).toBe(40n);
    expect(vm.events).toEqual(["restart", "irqAck 1", "restart", "irqAck 1", "stop", "system off"]);
    expect(vm.log).toEqual(["INFO: guest: the guest powered off (PSCI SYSTEM_OFF)"]);
  });
});

describe.runIf(haveTools && haveCore)("libvmm fault reports on the CPU core", () => {
  const guest = () => buildGuest(new URL("./guests/bad-access.s", import.meta.url).pathname);

  it("reports a store to an unmapped device and leaves the vCPU stopped", async () => {
    const vm = await createCoreVm(guest());
    expect(vm.run()).toBe("stopped");
    const report = vm.log.join("\n").split("\n");
    expect(report.slice(0, 3)).toEqual([
      "ERROR: guest: unexpected memory fault on vCPU 0",
      "  address: 0x9000000 (guest-physical), write of 4 bytes (word) from w2 = 0x41",
      "  pc: 0x40000014  str w2, [x1]",
    ]);
    // ISV, SAS = word, SRT = 2, WnR; the translation level is the core's stage-2 table walk.
    expect(report[3]).toMatch(
      /^ {2}syndrome: ESR_EL2 0x9382004[4-7] \(EC 0x24\), translation fault, level [0-3]$/,
    );
    expect(vm.vcpu.pc).toBe(0x4000_0014n);
  });

  it("explains a pair load from an emulated device, which has no syndrome to emulate", async () => {
    const vm = await createCoreVm(guest(), { x0: 1n });
    expect(vm.run()).toBe("stopped");
    const report = vm.log.join("\n").split("\n");
    expect(report[1]).toBe(
      "  address: 0x8000000 (guest-physical), read of unknown size (the syndrome does not say)",
    );
    expect(report[2]).toBe("  pc: 0x40000020  ldp x2, x3, [x1]");
    expect(report[4]).toContain(
      "cause: 'ldp x2, x3, [x1]' does not describe its access in the syndrome (ISV = 0",
    );
  });

  it("reports a jump to an address with no memory", async () => {
    const vm = await createCoreVm(guest(), { x0: 2n });
    expect(vm.run()).toBe("stopped");
    const report = vm.log.join("\n").split("\n");
    expect(report.slice(0, 3)).toEqual([
      "ERROR: guest: unexpected instruction fetch fault on vCPU 0",
      "  address: 0x60000000 (guest-physical): the guest jumped to an address with no memory behind it",
      "  pc: 0x60000000  (instruction not readable)",
    ]);
  });
});

describe.runIf(haveTools && haveCore)("libvmm's GICv3 on the CPU core", () => {
  it("raises an SGI from a trapped ICC_SGI1R_EL1 write and delivers it through the ICC registers", async () => {
    const vm = await createCoreVm(buildGuest(new URL("./guests/gicv3-sgi.s", import.meta.url).pathname), {
      gic: { version: 3, distributor: 0x3880_0000, redistributors: 0x3888_0000 },
    });
    expect(vm.run()).toBe("stopped");
    expect(vm.log).toEqual(["INFO: guest: the guest powered off (PSCI SYSTEM_OFF)"]);
    expect(vm.vcpu.getX(19)).toBe(5n);
  });
});
