// libvmm's `simple` example on the ODROID-C4: one Linux guest with UART_AO passed through (its edge
// IRQ 225 arrives on channel 1 and is injected), the GIC-400's distributor emulated, PSCI over SMC.
import { linuxVmm } from "../../lib/linux-vmm.ts";

export default linuxVmm(() => ({ uartChannel: 1, powerOffBoard: true }));
