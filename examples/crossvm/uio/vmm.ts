// The cross-VM connector example with every connection on libvmm's UIO model instead of virtkit's
// guest modules: generic-uio nodes that uio_pdrv_genirq binds, the same guest library and tools.
import { crossVmVmm } from "../vmm.ts";

export default crossVmVmm("uio");
