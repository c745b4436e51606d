// The VMM PD the Linux examples share: it builds (or picks) the guest's images for the board it runs
// on, boots one Linux guest with libvmm, passes the board's UART and NIC interrupts through on the
// channels the example's system gives them, and hands every fault and notification to libvmm. Each
// example's vmm.ts is this with its own options (and, for Wordle part 4, its own fault handling).
import { readFileSync } from "node:fs";
import { definePd, type Pd, type MessageInfo } from "../../src/microkit/index.ts";
import {
  SPI_BASE,
  microkitFault,
  startMicrokitLinuxVm,
  type GicPlacement,
  type VirtioMmioPlacement,
  type Vmm,
} from "../../src/libvmm/index.ts";
import { ensureGuestImages, type GuestImageOptions } from "../../src/guest/images.ts";
import { streamProgress } from "../../src/guest/progress.ts";
import { virtioMmioSlot, type GuestLayoutFacts } from "../../src/machine/boards/board.ts";
import { startTrace, traceInterval } from "./trace.ts";

const BOOT_VCPU = 0;
const PSCI_SYSTEM_OFF = 0x8400_0008;

export interface LinuxVmmOptions {
  /** Adds examples/<example>/overlay/ to the guest's initramfs. */
  example?: string;
  /** The VMM's channel for the board UART's interrupt (passed through), if the guest has the UART. */
  uartChannel?: number;
  /** The VMM's channel for the board NIC's interrupt: the guest gets the NIC in its device tree. */
  nicChannel?: number;
  /** false: the guest's device tree has no node for the board's UART (its console is hvc0). */
  uart?: boolean;
  /** virtio-mmio devices the VMM emulates (placed in `setup`): device-tree nodes, level-triggered. */
  emulatedVirtio?: readonly VirtioMmioPlacement[];
  /** The guest's kernel command line unless the user gives --append (default: the board's). */
  bootargs?: string;
  /** The guest powering off powers the board off, which ends `virtkit run` (needs smc="true"). */
  powerOffBoard?: boolean;
  /** Runs once the guest is booting: register emulated devices here. */
  setup?(pd: Pd, vmm: Vmm): void;
  /** Runs after libvmm handled a vCPU fault; its result (resume the vCPU or not) is the reply. */
  afterFault?(pd: Pd, vcpu: number, resumed: boolean): boolean;
  /** Notifications libvmm does not handle (channels that are not passed-through interrupts). */
  notified?(pd: Pd, channel: number): void;
  /** More for the guest's images: cross-VM connectors' guest files, device-tree nodes the VMM adds. */
  images?: Pick<GuestImageOptions, "crossvm" | "deviceTreeNodes">;
}

/** Where the VMM emulates the guest's GIC: the board's distributor (and, on GICv3, redistributors). */
function gicPlacement(gic: GuestLayoutFacts["gic"]): GicPlacement {
  return gic.version === 2
    ? { version: 2, distributor: gic.distributor.base }
    : { version: 3, distributor: gic.distributor.base, redistributors: gic.redistributor.base };
}

/** `options` is called once per VMM instance, so state its hooks keep is per boot. */
export function linuxVmm(makeOptions: () => LinuxVmmOptions) {
  const trace = traceInterval();
  // An async factory: the system starts once the images exist (the first build takes minutes).
  return definePd(async ({ board, guestBoot }) => {
    const options = makeOptions();
    const slots = board.virtioMmio;
    if (options.nicChannel !== undefined && !slots) {
      throw new Error(`this example needs a board with a virtio-mmio NIC; ${board.name} has none`);
    }
    const nic = options.nicChannel !== undefined && slots ? virtioMmioSlot(slots, slots.nicSlot) : undefined;
    const images = await ensureGuestImages({
      board,
      example: options.example,
      kernel: guestBoot.kernel,
      initrd: guestBoot.initrd,
      dtb: guestBoot.dtb,
      bootargs: guestBoot.append ?? options.bootargs,
      uart: options.uart,
      virtio: [
        ...(nic ? [nic] : []),
        ...(options.emulatedVirtio ?? []).map((p) => ({ base: p.base, irq: SPI_BASE + p.spi, level: true })),
      ],
      ...options.images,
      onProgress: streamProgress(process.stderr),
    });
    const passthroughIrqs = [
      ...(options.uartChannel === undefined
        ? []
        : [{ intid: board.guest.uart.irq, channel: options.uartChannel }]),
      ...(nic && options.nicChannel !== undefined ? [{ intid: nic.irq, channel: options.nicChannel }] : []),
    ];
    let vmm: Vmm;
    return {
      init(pd: Pd) {
        vmm = startMicrokitLinuxVm(pd, {
          vmName: "linux",
          layout: images.layout,
          gic: gicPlacement(board.guest.gic),
          images: {
            kernel: readFileSync(images.kernel),
            dtb: readFileSync(images.dtb),
            initrd: images.initrd === undefined ? undefined : readFileSync(images.initrd),
            kernelSource: images.kernel,
          },
          passthroughIrqs,
          onSystemOff: options.powerOffBoard ? () => void pd.armSmcCall([PSCI_SYSTEM_OFF]) : undefined,
        });
        options.setup?.(pd, vmm);
        if (trace !== undefined) startTrace(pd, vmm.vgic, BOOT_VCPU, trace);
      },
      notified(pd: Pd, channel: number) {
        if (!vmm.handleNotification(channel)) options.notified?.(pd, channel);
      },
      fault(pd: Pd, child: number, msginfo: MessageInfo) {
        const fault = microkitFault(pd, msginfo);
        const resumed = fault !== undefined && vmm.handleFault(child, fault);
        return options.afterFault ? options.afterFault(pd, child, resumed) : resumed;
      },
    };
  });
}
