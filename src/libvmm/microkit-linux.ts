// A Linux guest for a Microkit VMM PD in one call, as libvmm's example VMMs set one up: guest RAM from
// the VMM's own mapping, the Vmm with its libmicrokit adapters, passed-through interrupts, the
// images loaded and vCPU 0 started. The VMM's entry points then hand notifications and faults on.
import type { AddressRange } from "../machine/boards/board.ts";
import type { Pd } from "../microkit/index.ts";
import { GuestRam } from "./guest-ram.ts";
import { BootLayoutError, checkGuestRamSize } from "./boot-checks.ts";
import { KernelImageError, loadArm64Image } from "./image-header.ts";
import { chosenInitrdStart, describeBoot, type LinuxBoot, type LinuxImages } from "./linux.ts";
import { createVmmLog, type VmmLog } from "./log.ts";
import { hex } from "../util/hex.ts";
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
  const mapped = pd.memory.regions.find((r) => ramVaddr >= r.vaddr && ramVaddr < r.vaddr + r.size);
  if (!mapped) {
    throw new Error(`${pd.name}: ${setvar} (${hex(ramVaddr)}) is not inside any memory region the VMM maps`);
  }
  const reachable = mapped.vaddr + mapped.size - ramVaddr;
  try {
    checkGuestRamSize(
      { region: mapped.mr, gpa: range.base, size: reachable },
      imagePlacement(options.images, range.base, dtbAddress),
    );
  } catch (error) {
    throw reported(log, options.vmName, error);
  }
  const ram = new GuestRam([
    { gpa: range.base, bytes: pd.memory.view(ramVaddr, Math.min(range.size, reachable)) },
  ]);
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
  let boot: LinuxBoot;
  try {
    boot = vmm.bootLinux(options.images, dtbAddress);
  } catch (error) {
    throw reported(log, options.vmName, error);
  }
  log.info(`${options.vmName}: ${describeBoot(boot)}`);
  return vmm;
}

/** Where the images will go: the kernel at RAM base + text_offset, the initrd where the DTB's /chosen says. */
function imagePlacement(images: LinuxImages, ramBase: number, dtbAddress: number) {
  const kernel = loadArm64Image(images.kernel, images.kernelSource ?? "guest kernel");
  const initrdAddress = images.initrd ? chosenInitrdStart(images.dtb) : undefined;
  return {
    kernel: { address: ramBase + kernel.header.textOffset, header: kernel.header },
    dtb: { address: dtbAddress, bytes: images.dtb },
    initrd:
      images.initrd && initrdAddress !== undefined
        ? { address: initrdAddress, size: images.initrd.length }
        : undefined,
  };
}

/** A layout or image error, every line of it logged as the VMM's error, before the PD faults on it. */
function reported(log: VmmLog, vmName: string, error: unknown): unknown {
  if (error instanceof BootLayoutError) {
    log.error(`${vmName}: the guest cannot boot:`);
    for (const problem of error.problems) log.error(`  ${problem}`);
  } else if (error instanceof KernelImageError) {
    log.error(`${vmName}: ${error.message}`);
  }
  return error;
}
