// Runs a bare-metal guest on the wasm CPU core under libvmm's Vmm, turning the core's exits into the
// faults seL4 would deliver, as the kernel model does — except that a trapped SMC is reported with the
// PC at the SMC itself (ARM ARM: HCR_EL2.TSC traps return to the SMC), which is what seL4 does.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExceptionClass, exceptionClass, stepBackToInstruction } from "../../src/machine/arch/index.ts";
import { createCpuCore, exitSyndrome, type Vcpu } from "../../src/machine/cpu.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";
import type { VcpuFault } from "../../src/libvmm/vmm.ts";
import { Vmm, type VmmOptions } from "../../src/libvmm/vmm.ts";

export const GUEST_RAM_BASE = 0x4000_0000;
const GUEST_RAM_SIZE = 0x100_0000;

/** Assembles and links a guest at the RAM base; returns its raw bytes. */
export function buildGuest(sourcePath: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "virtkit-guest-"));
  execFileSync("aarch64-linux-gnu-as", ["-o", join(dir, "g.o"), sourcePath]);
  execFileSync("aarch64-linux-gnu-ld", ["-Ttext=0x40000000", "-o", join(dir, "g.elf"), join(dir, "g.o")]);
  execFileSync("aarch64-linux-gnu-objcopy", ["-O", "binary", join(dir, "g.elf"), join(dir, "g.bin")]);
  return new Uint8Array(readFileSync(join(dir, "g.bin")));
}

function faultFor(vcpu: Vcpu, exit: ReturnType<Vcpu["run"]>): VcpuFault | "continue" | string {
  switch (exit.kind) {
    case "slice-end":
      return "continue";
    case "stage2-abort":
      return {
        kind: "VMFault",
        ip: vcpu.pc,
        addr: BigInt(exit.ipa),
        prefetch: exceptionClass(exit.esr) === ExceptionClass.INSTRUCTION_ABORT_LOWER,
        fsr: exit.esr,
      };
    case "smc":
      stepBackToInstruction(vcpu, exitSyndrome(exit));
      return { kind: "VCPUFault", hsr: exitSyndrome(exit) };
    case "hvc":
    case "wfi":
    case "wfe":
    case "sysreg":
      return { kind: "VCPUFault", hsr: exitSyndrome(exit) };
    case "vtimer":
      vcpu.vtimerMasked = true;
      return { kind: "VPPIEvent", irq: 27 };
    case "maintenance":
      return { kind: "VGICMaintenance", index: exit.listRegister };
    case "halted":
      return `halted: ${exit.reason}`;
  }
}

export interface CoreVm {
  vmm: Vmm;
  vcpu: Vcpu;
  memory: PhysicalMemory;
  log: string[];
  events: string[];
  /** Runs until the vCPU stops (fault not resumed) or `maxSlices` pass; returns why it stopped. */
  run(maxSlices?: number): string;
  running: boolean;
}

export async function createCoreVm(
  guest: Uint8Array,
  options: Partial<Pick<VmmOptions, "gic">> & { configure?: (vm: CoreVm) => void; x0?: bigint } = {},
): Promise<CoreVm> {
  const memory = new PhysicalMemory({
    ramBase: GUEST_RAM_BASE,
    ramSize: GUEST_RAM_SIZE,
    reservedForCore: 64 * 1024 * 1024,
  });
  const core = await createCpuCore(memory);
  const vcpu = core.createVcpu({ vmid: 0, mpidr: 0n, gicVersion: options.gic?.version ?? 2 });
  vcpu.mapStage2(
    GUEST_RAM_BASE,
    GUEST_RAM_BASE,
    GUEST_RAM_SIZE,
    { read: true, write: true, execute: true },
    false,
  );
  memory.ram.set(guest);
  const log: string[] = [];
  const events: string[] = [];
  const vm: CoreVm = {
    vcpu,
    memory,
    log,
    events,
    running: false,
    vmm: undefined as unknown as Vmm,
    run(maxSlices = 1000) {
      for (let slice = 0; slice < maxSlices; slice++) {
        if (!vm.running) return "stopped";
        const fault = faultFor(vcpu, vcpu.run(10_000));
        if (fault === "continue") continue;
        if (typeof fault === "string") return fault;
        if (!vm.vmm.handleFault(0, fault)) vm.running = false;
      }
      return "still running";
    },
  };
  vm.vmm = new Vmm({
    vmName: "guest",
    vcpuCount: 1,
    log: { info: (m) => log.push(`INFO: ${m}`), error: (m) => log.push(`ERROR: ${m}`) },
    gic: options.gic ?? { version: 2, distributor: 0x800_0000 },
    control: {
      registers: () => vcpu,
      restart: (_v, pc) => {
        vcpu.pc = pc;
        vm.running = true;
        events.push("restart");
      },
      stop: () => {
        vm.running = false;
        events.push("stop");
      },
      writeSystemRegister: (_v, name, value) => vcpu.writeSysreg(name, value),
    },
    interrupts: {
      injectIrq: (_v, intid, priority, group, lr) =>
        vcpu.setListRegister(
          lr,
          (BigInt(group) << 30n) | (1n << 28n) | (BigInt(priority) << 23n) | (1n << 19n) | BigInt(intid),
        ),
      ackVppi: () => {
        vcpu.vtimerMasked = false;
      },
      irqAck: (channel) => events.push(`irqAck ${channel}`),
    },
    // The guest runs with its MMU off, so its PC is a guest-physical address.
    readInstruction: (_v, pc) => {
      if (!memory.isRam(Number(pc), 4)) return undefined;
      const bytes = memory.view(Number(pc), 4);
      return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
    },
    onSystemOff: () => events.push("system off"),
  });
  options.configure?.(vm);
  vm.vmm.guest.start(0, { pc: BigInt(GUEST_RAM_BASE), x0: options.x0 ?? 0n });
  return vm;
}
