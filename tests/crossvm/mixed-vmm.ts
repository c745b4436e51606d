// The crossvm example's VMM with the models mixed per connection: the dataport on virtkit's module
// (normal memory, so the seed's strncpy works), both events on libvmm's UIO devices.
import { crossVmVmm } from "../../examples/crossvm/vmm.ts";

export default crossVmVmm({ data: "module", doPrint: "uio", donePrinting: "uio" });
