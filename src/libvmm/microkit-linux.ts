// A Linux guest for a Microkit VMM PD in one call, as libvmm's example VMMs set one up: guest RAM from
// the VMM's own mapping, the Vmm with its libmicrokit adapters, passed-through interrupts, the
// images loaded and vCPU 0 started. The VMM's entry points then hand notifications and faults on.
import type { AddressRange } from "../machine/boards/board.ts";
import type { Pd } from "../microkit/index.ts";
import { GuestRam } from "./guest-ram.ts";
import { describeBoot, type LinuxImages } from "./linux.ts";
import { createVmmLog } from "./log.ts";
import { microkitInterrupts, microkitStage1Registers, microkitVcpuControl } from "./microkit.ts";
import { deviceTreeRegions } from "./fault/device-tree-regions.ts";
import { guestInstructionReader } from "./stage1.ts";
import { Vmm, type GicPlacement } from "./vmm.ts";

export interface MicrokitLinuxVm {
  vmName: string;
  /** The guest's RAM and where its DTB goes (a board's guest layout). */
  layout: { ram: AddressRange; dtbAddress: number };
  /** The setvar through which the system maps the guest's RAM into the VMM (default guest_ram_vaddr). */
  ramSetvar?: string;
  gic: GicPlacement;
  images: LinuxImages;
  /** Device interrupts passed through to vCPU 0: each arrives on the VMM's channel and is injected. */
  passthroughIrqs?: readonly { intid: number; channel: number }[];
  /** PSCI SYSTEM_OFF from the guest. */
  onSystemOff?(): void;
}

/** Creates the VMM for one single-vCPU Linux guest and boots it; logs the boot layout. */
export function startMicrokitLinuxVm(pd: Pd, options: MicrokitLinuxVm): Vmm {
  const log = createVmmLog(pd.name, (line) => pd.dbgPuts(`${line}\n`));
  const setvar = options.ramSetvar ?? "guest_ram_vaddr";
  const ramVaddr = pd.setvars[setvar];
  if (ramVaddr === undefined) {
    throw new Error(
      `${pd.name}: the system must map the guest's RAM into the VMM with setvar_vaddr="${setvar}"`,
    );
  }
  const { ram: range, dtbAddress } = options.layout;
  const ram = new GuestRam([{ gpa: range.base, bytes: pd.memory.view(ramVaddr, range.size) }]);
  const vmm = new Vmm({
    vmName: options.vmName,
    vcpuCount: 1,
    log,
    control: microkitVcpuControl(pd),
    interrupts: microkitInterrupts(pd),
    gic: options.gic,
    ram,
    readInstruction: guestInstructionReader(ram, microkitStage1Registers(pd)),
    onSystemOff: options.onSystemOff,
  });
  for (const { intid, channel } of options.passthroughIrqs ?? [])
    vmm.registerPassthroughIrq(0, intid, channel);
  vmm.deviceTree = deviceTreeRegions(options.images.dtb);
  log.info(`${options.vmName}: ${describeBoot(vmm.bootLinux(options.images, dtbAddress))}`);
  return vmm;
}
