// libvmm's `simple` example as a TypeScript VMM PD: one Linux guest with 256 MiB of RAM, the PL011
// passed through (its IRQ 33 arrives on channel 1 and is injected into the guest), the GICv2
// distributor emulated, PSCI over SMC. The kernel, initramfs and device tree come from the image cache
// (src/guest), built on first use, or from the files `virtkit run --kernel/--initrd/--dtb` names.
import { linuxVmm } from "../../lib/linux-vmm.ts";

export default linuxVmm(() => ({ uartChannel: 1, powerOffBoard: true }));
