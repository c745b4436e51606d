// The VMM of the cross-VM connector example: libvmm's Linux VMM (examples/lib/linux-vmm.ts) with the
// connections of connections.ts. CrossVm writes the guest's device-tree nodes for them, the image
// builder puts the guest modules, init tools, print_client and crossvm_check into the initramfs,
// and at run time the VMM turns doorbell stores into notifications to print_server and
// print_server's notifications into interrupts for the guest.
import { join } from "node:path";
import { CrossVm, type CrossVmModel } from "../../src/libvmm/index.ts";
import { boardNamed } from "../../src/machine/boards/index.ts";
import { linuxVmm } from "../lib/linux-vmm.ts";
import { UART_CHANNEL, printConnections, type PrintModels } from "./connections.ts";

const PROGRAMS = ["print_client/print_client.c", "crossvm_check/crossvm_check.c"].map((path) =>
  join(import.meta.dirname, "pkgs", path),
);

/** The VMM PD with each connection on virtkit's guest modules or libvmm's UIO devices. */
export function crossVmVmm(models: CrossVmModel | PrintModels) {
  return linuxVmm(() => {
    const crossvm = new CrossVm(printConnections(models));
    const kernelArguments = crossvm.kernelArguments();
    return {
      example: "crossvm",
      uartChannel: UART_CHANNEL,
      powerOffBoard: true,
      bootargs:
        kernelArguments.length === 0
          ? undefined
          : [boardNamed("qemu_virt_aarch64").guest.bootargs, ...kernelArguments].join(" "),
      images: { crossvm: { programs: PROGRAMS }, deviceTreeNodes: crossvm.deviceTreeNodes() },
      setup(pd, vmm) {
        crossvm.attach(vmm, pd, {
          info: () => {},
          error: (message) => pd.dbgPuts(`${pd.name}|ERROR: ${message}\n`),
        });
      },
      notified(pd, channel) {
        if (!crossvm.handleNotification(channel))
          pd.dbgPuts(`${pd.name}|ERROR: a notification on channel ${channel}, which is no connection's\n`);
      },
    };
  });
}

export default crossVmVmm("module");
