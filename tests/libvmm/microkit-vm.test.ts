// libvmm driving a VM through the real Microkit runtime, kernel model and CPU core.
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  GuestRam,
  Vmm,
  createVmmLog,
  guestInstructionReader,
  microkitFault,
  microkitInterrupts,
  microkitStage1Registers,
  microkitVcpuControl,
} from "../../src/libvmm/index.ts";
import { VcpuObject } from "../../src/kernel/vcpu.ts";
import type { Pd } from "../../src/microkit/index.ts";
import { boot } from "../microkit/harness.ts";
import { binutilsAvailable } from "./binutils.ts";
import { buildGuest } from "./core-harness.ts";

const haveTools = binutilsAvailable();
const haveCore = existsSync(new URL("../../build/cpu.wasm", import.meta.url));

const SYSTEM = `
  <memory_region name="guest_ram" size="0x200000" page_size="0x200000" phys_addr="0x40000000" />
  <protection_domain name="vmm" priority="101">
    <program_image path="vmm.elf" />
    <map mr="guest_ram" vaddr="0x40000000" perms="rw" setvar_vaddr="guest_ram_vaddr" />
    <virtual_machine name="guest" priority="100">
      <vcpu id="0" />
      <map mr="guest_ram" vaddr="0x40000000" perms="rwx" />
    </virtual_machine>
  </protection_domain>`;

describe.runIf(haveTools && haveCore)("libvmm in a VMM PD", () => {
  it("emulates the guest's device accesses and PSCI calls (HVC, then SMC SYSTEM_OFF)", async () => {
    const guest = buildGuest(new URL("./guests/mmio-psci.s", import.meta.url).pathname);
    let vmm: Vmm | undefined;
    const writes: string[] = [];
    const report = (pd: Pd) => {
      const regs = pd.vcpuRegisters(0)!;
      const x = (n: number) => regs.getX(n).toString(16);
      pd.dbgPuts(`vmm: x2=${x(2)} x5=${x(5)} x6=${x(6)} x8=${x(8)} x9=${x(9)} x10=${x(10)} x11=${x(11)}\n`);
    };
    const { console, done } = await boot(SYSTEM, {
      vmm: {
        init(pd) {
          const log = createVmmLog(pd.name, (line) => pd.dbgPuts(`${line}\n`));
          vmm = new Vmm({
            vmName: "guest",
            vcpuCount: 1,
            log,
            control: microkitVcpuControl(pd),
            interrupts: microkitInterrupts(pd),
            gic: { version: 2, distributor: 0x800_0000 },
            onSystemOff: () => report(pd),
          });
          vmm.mmio.register("test device", 0x5000_0000, 0x1000, {
            read: (offset, size) =>
              offset === 32 ? (size === 1 ? 0x80n : 0xff80n) : offset === 40 ? 0x1122n : 0n,
            write: (offset, size, value) => void writes.push(`${offset}/${size}=0x${value.toString(16)}`),
          });
          pd.memory.view(pd.setvars.guest_ram_vaddr!, guest.length).set(guest);
          // x0 = 1 skips the SMC PSCI_VERSION call: stepping over it needs the kernel model to report a
          // trapped SMC with the PC at the SMC, as seL4 does; core-integration.test.ts checks that path.
          vmm.guest.start(0, { pc: 0x4000_0000n, x0: 1n });
        },
        notified(_pd, channel) {
          vmm!.handleNotification(channel);
        },
        fault(pd, child, msginfo) {
          const fault = microkitFault(pd, msginfo);
          return fault ? vmm!.handleFault(child, fault) : false;
        },
      },
    });
    await done;
    expect(writes).toEqual([
      "1/1=0x68",
      "2/2=0x6869",
      "4/4=0x33334444",
      "8/8=0x1111222233334444",
      "16/8=0x0",
    ]);
    expect(console.output).toBe(
      "MON|INFO: Microkit Monitor started!\n" +
        "vmm|INFO: guest: the guest powered off (PSCI SYSTEM_OFF)\n" +
        "vmm: x2=7 x5=ffffffffffffff80 x6=ffffff80 x8=1122 x9=10001 x10=0 x11=0\n",
    );
  });
});

const SMP_SYSTEM = `
  <memory_region name="guest_ram" size="0x200000" page_size="0x200000" phys_addr="0x40000000" />
  <memory_region name="gic_vcpu" size="0x1000" phys_addr="0x8040000" />
  <protection_domain name="vmm" priority="101">
    <program_image path="vmm.elf" />
    <map mr="guest_ram" vaddr="0x40000000" perms="rw" setvar_vaddr="guest_ram_vaddr" />
    <virtual_machine name="guest" priority="100">
      <vcpu id="0" />
      <vcpu id="1" />
      <map mr="guest_ram" vaddr="0x40000000" perms="rwx" />
      <map mr="gic_vcpu" vaddr="0x8010000" perms="rw" cached="false" />
    </virtual_machine>
  </protection_domain>`;

describe.runIf(haveTools && haveCore)("libvmm with two vCPUs in a VMM PD", () => {
  it("starts a secondary vCPU with CPU_ON, delivers its SGI, and sees it turn off", async () => {
    const guest = buildGuest(new URL("./guests/smp-sgi.s", import.meta.url).pathname);
    let vmm: Vmm | undefined;
    const { console, done } = await boot(SMP_SYSTEM, {
      vmm: {
        init(pd) {
          vmm = new Vmm({
            vmName: "guest",
            vcpuCount: 2,
            log: createVmmLog(pd.name, (line) => pd.dbgPuts(`${line}\n`)),
            control: microkitVcpuControl(pd),
            interrupts: microkitInterrupts(pd),
            gic: { version: 2, distributor: 0x800_0000 },
            onSystemOff: () => {
              const x = (v: number, n: number) => pd.vcpuRegisters(v)!.getX(n).toString(16);
              pd.dbgPuts(`vmm: vcpu0 x19=${x(0, 19)} x21=${x(0, 21)} x22=${x(0, 22)}\n`);
              pd.dbgPuts(`vmm: vcpu1 x20=${x(1, 20)} x23=${x(1, 23)}\n`);
            },
          });
          pd.memory.view(pd.setvars.guest_ram_vaddr!, guest.length).set(guest);
          vmm.guest.start(0, { pc: 0x4000_0000n, x0: 0n });
        },
        notified(_pd, channel) {
          vmm!.handleNotification(channel);
        },
        fault(pd, child, msginfo) {
          const fault = microkitFault(pd, msginfo);
          return fault ? vmm!.handleFault(child, fault) : false;
        },
      },
    });
    await done;
    expect(console.output).toBe(
      "MON|INFO: Microkit Monitor started!\n" +
        "vmm|INFO: guest: starting vCPU 1 at 0x40000094\n" + // the `secondary` label
        "vmm|INFO: guest: the guest powered off (PSCI SYSTEM_OFF)\n" +
        "vmm: vcpu0 x19=3 x21=0 x22=1\n" +
        "vmm: vcpu1 x20=1234 x23=80000001\n",
    );
  });
});

const VTIMER_SYSTEM = SMP_SYSTEM.replace('      <vcpu id="1" />\n', "");

// The kernel model wakes a vCPU waiting in WFI when its virtual timer fires (VcpuObject.wakeupAt).
const kernelWakesWaitingVcpus = "wakeupAt" in VcpuObject.prototype;

describe.runIf(haveTools && haveCore && kernelWakesWaitingVcpus)("libvmm's virtual timer in a VMM PD", () => {
  it("injects PPI 27 on the VPPI event and acks it on the guest's EOI", async () => {
    const guest = buildGuest(new URL("./guests/vtimer.s", import.meta.url).pathname);
    let vmm: Vmm | undefined;
    const faults: string[] = [];
    const { console, done } = await boot(VTIMER_SYSTEM, {
      vmm: {
        init(pd) {
          vmm = new Vmm({
            vmName: "guest",
            vcpuCount: 1,
            log: createVmmLog(pd.name, (line) => pd.dbgPuts(`${line}\n`)),
            control: microkitVcpuControl(pd),
            interrupts: microkitInterrupts(pd),
            gic: { version: 2, distributor: 0x800_0000 },
            onSystemOff: () => pd.dbgPuts(`vmm: x19=${pd.vcpuRegisters(0)!.getX(19)}\n`),
          });
          pd.memory.view(pd.setvars.guest_ram_vaddr!, guest.length).set(guest);
          vmm.guest.start(0, { pc: 0x4000_0000n, x0: 0n });
        },
        notified(_pd, channel) {
          vmm!.handleNotification(channel);
        },
        fault(pd, child, msginfo) {
          const fault = microkitFault(pd, msginfo)!;
          if (fault.kind !== "VMFault")
            faults.push(fault.kind === "VCPUFault" ? `VCPUFault EC ${fault.hsr >>> 26}` : fault.kind);
          return vmm!.handleFault(child, fault);
        },
      },
    });
    await done;
    expect(console.output).toBe(
      "MON|INFO: Microkit Monitor started!\n" +
        "vmm|INFO: guest: the guest powered off (PSCI SYSTEM_OFF)\n" +
        "vmm: x19=27\n",
    );
    // WFI (EC 1) returns at once while the timer is armed; then the VPPI flow and SYSTEM_OFF over HVC (EC 22).
    expect(faults.filter((f) => f !== "VCPUFault EC 1")).toEqual([
      "VPPIEvent",
      "VGICMaintenance",
      "VCPUFault EC 22",
    ]);
    expect(faults.filter((f) => f === "VCPUFault EC 1").length).toBeGreaterThan(0);
  });
});

describe.runIf(haveTools && haveCore)("libvmm's fault report in a VMM PD", () => {
  it("reports a store to an unmapped device with the instruction read from guest memory", async () => {
    const guest = buildGuest(new URL("./guests/bad-access.s", import.meta.url).pathname);
    let vmm: Vmm | undefined;
    const { console, done } = await boot(SYSTEM, {
      vmm: {
        init(pd) {
          const ram = new GuestRam([
            { gpa: 0x4000_0000, bytes: pd.memory.view(pd.setvars.guest_ram_vaddr!, 0x20_0000) },
          ]);
          vmm = new Vmm({
            vmName: "guest",
            vcpuCount: 1,
            log: createVmmLog(pd.name, (line) => pd.dbgPuts(`${line}\n`)),
            control: microkitVcpuControl(pd),
            interrupts: microkitInterrupts(pd),
            gic: { version: 2, distributor: 0x800_0000 },
            ram,
            readInstruction: guestInstructionReader(ram, microkitStage1Registers(pd)),
          });
          ram.write(0x4000_0000, guest);
          vmm.guest.start(0, { pc: 0x4000_0000n, x0: 0n });
        },
        notified() {},
        fault(pd, child, msginfo) {
          return vmm!.handleFault(child, microkitFault(pd, msginfo)!);
        },
      },
    });
    await done;
    const lines = console.output.split("\n");
    expect(lines.slice(1, 4)).toEqual([
      "vmm|ERROR: guest: unexpected memory fault on vCPU 0",
      "vmm|ERROR:   address: 0x9000000 (guest-physical), write of 4 bytes (word) from w2 = 0x41",
      "vmm|ERROR:   pc: 0x40000014  str w2, [x1]",
    ]);
    expect(lines).toContain(
      "vmm|ERROR:   vCPU 0 of 'guest' is stopped; the rest of the system keeps running",
    );
  });
});
