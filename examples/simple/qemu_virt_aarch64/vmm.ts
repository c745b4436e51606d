// libvmm's `simple` example as a TypeScript VMM PD: one Linux guest with 256 MiB of RAM, the PL011
// passed through (its IRQ 33 arrives on channel 1 and is injected into the guest), the GICv2
// distributor emulated, PSCI over SMC. The kernel, initramfs and device tree come from the image cache
// (src/guest), built on first use, or from the files `virtkit run --kernel/--initrd/--dtb` names.
import { readFileSync } from "node:fs";
import { definePd } from "../../../src/microkit/index.ts";
import { microkitFault, startMicrokitLinuxVm, type Vmm } from "../../../src/libvmm/index.ts";
import { ensureGuestImages } from "../../../src/guest/images.ts";
import { streamProgress } from "../../../src/guest/progress.ts";
import { startTrace, traceInterval } from "./trace.ts";

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
  let vmm: Vmm;
  return {
    init(pd) {
      vmm = startMicrokitLinuxVm(pd, {
        vmName: "linux",
        layout: images.layout,
        gic: { version: 2, distributor: board.guest.gic.distributor.base },
        images: {
          kernel: readFileSync(images.kernel),
          dtb: readFileSync(images.dtb),
          initrd: images.initrd === undefined ? undefined : readFileSync(images.initrd),
          kernelSource: images.kernel,
        },
        passthroughIrqs: [{ intid: board.guest.uart.irq, channel: UART_CHANNEL }],
        // The guest was the whole system: power the board off too, which ends `virtkit run`.
        onSystemOff: () => void pd.armSmcCall([PSCI_SYSTEM_OFF]),
      });
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
