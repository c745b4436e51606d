// The network example's VMM: the simple example's Linux guest with the board's NIC passed through
// (INTID 79 on channel 2), on the user-mode network `virtkit run --net user` provides.
import { linuxVmm } from "../../lib/linux-vmm.ts";

export default linuxVmm(() => ({ uartChannel: 1, nicChannel: 2, powerOffBoard: true }));
