// libvmm's `simple` example as a TypeScript VMM PD: one Linux guest with 256 MiB of RAM, the PL011
// passed through (its IRQ 33 arrives on channel 1 and is injected into the guest), the GICv2
// distributor emulated, PSCI over SMC. The kernel, initramfs and device tree come from the image cache
// (src/guest), built on first use, or from the files `virtkit run --kernel/--initrd/--dtb` names.
import { readFileSync } from "node:fs";
import { VcpuReg, definePd } from "../../../src/microkit/index.ts";
import {
  GuestRam,
  Vmm,
  createVmmLog,
  describeBoot,
  deviceTreeRegions,
  microkitFault,
  microkitInterrupts,
  microkitVcpuControl,
} from "../../../src/libvmm/index.ts";
import { ensureGuestImages } from "../../../src/guest/images.ts";
import { streamProgress } from "../../../src/guest/progress.ts";
import { startTrace, traceInterval } from "./trace.ts";
import { readGuestInstruction } from "./guest-instruction.ts";

const UART_IRQ = 33;
const UART_CHANNEL = 1;
const BOOT_VCPU = 0;
const PSCI_SYSTEM_OFF = 0x8400_0008;

const trace = traceInterval();

// An async factory: the system starts once the images exist (the first build takes minutes).
export default definePd(async ({ board, guestBoot }) => {
  const images = await ensureGuestImages({
    board,
    kernel: guestBoot.kernel,
    initrd: guestBoot.initrd,
    dtb: guestBoot.dtb,
    bootargs: guestBoot.append,
    onProgress: streamProgress(process.stderr),
  });
  const { layout } = images;
  let vmm: Vmm;
  return {
    init(pd) {
      const log = createVmmLog(pd.name, (line) => pd.dbgPuts(`${line}\n`));
      const ramVaddr = pd.setvars.guest_ram_vaddr;
      if (ramVaddr === undefined)
        throw new Error('simple.system must map guest_ram into the VMM with setvar_vaddr="guest_ram_vaddr"');
      const ram = new GuestRam([{ gpa: layout.ram.base, bytes: pd.memory.view(ramVaddr, layout.ram.size) }]);
      vmm = new Vmm({
        vmName: "linux",
        vcpuCount: 1,
        log,
        control: microkitVcpuControl(pd),
        interrupts: microkitInterrupts(pd),
        gic: { version: 2, distributor: board.guest.gic.distributor.base },
        ram,
        readInstruction: (vcpuId, pc) =>
          readGuestInstruction(
            ram,
            {
              sctlr: pd.vcpuArmReadReg(vcpuId, VcpuReg.SCTLR),
              tcr: pd.vcpuArmReadReg(vcpuId, VcpuReg.TCR),
              ttbr0: pd.vcpuArmReadReg(vcpuId, VcpuReg.TTBR0),
              ttbr1: pd.vcpuArmReadReg(vcpuId, VcpuReg.TTBR1),
            },
            pc,
          ),
        // The guest was the whole system: power the board off too, which ends `virtkit run`.
        onSystemOff: () => void pd.armSmcCall([PSCI_SYSTEM_OFF]),
      });
      vmm.registerPassthroughIrq(BOOT_VCPU, UART_IRQ, UART_CHANNEL);
      const linux = {
        kernel: readFileSync(images.kernel),
        dtb: readFileSync(images.dtb),
        initrd: images.initrd === undefined ? undefined : readFileSync(images.initrd),
      };
      vmm.deviceTree = deviceTreeRegions(linux.dtb);
      log.info(`linux: ${describeBoot(vmm.bootLinux(linux, layout.dtbAddress))}`);
      if (trace !== undefined) startTrace(pd, vmm.vgic, BOOT_VCPU, trace);
    },
    notified(_pd, channel) {
      vmm.handleNotification(channel);
    },
    fault(pd, child, msginfo) {
      const fault = microkitFault(pd, msginfo);
      return fault !== undefined && vmm.handleFault(child, fault);
    },
  };
});
