// The example's cross-VM connections as the VMM declares them to libvmm: the tutorial's
// `dataport Buf(4096) data`, `emits DoPrint do_print` and `consumes DonePrinting done_printing` of
// Init0, with the ids its configuration and cross_vm.c give them, and where crossvm.system puts them.
import type { CrossVmConnections, CrossVmModel } from "../../src/libvmm/index.ts";

/** The VMM's channels (crossvm.system): the UART's IRQ, then one per event. */
export const UART_CHANNEL = 1;
export const DO_PRINT_CHANNEL = 2;
export const DONE_PRINTING_CHANNEL = 3;
/** Where crossvm.system maps the `data` memory region into the VM. */
export const DATAPORT_GPA = 0x5000_0000;
export const DATAPORT_SIZE = 0x1000;

/** Which device model each connection uses in the guest: virtkit's modules or libvmm's UIO devices. */
export interface PrintModels {
  data: CrossVmModel;
  doPrint: CrossVmModel;
  donePrinting: CrossVmModel;
}

/** One model for every connection, or one per connection. */
export function printModels(models: CrossVmModel | PrintModels): PrintModels {
  return typeof models === "string" ? { data: models, doPrint: models, donePrinting: models } : models;
}

export function printConnections(models: CrossVmModel | PrintModels = "module"): CrossVmConnections {
  const { data, doPrint, donePrinting } = printModels(models);
  return {
    eventWindow: 0x5010_0000,
    dataports: [{ id: 1, name: "data", mr: "data", gpa: DATAPORT_GPA, size: DATAPORT_SIZE, model: data }],
    emits: [{ id: 1, name: "do_print", channel: DO_PRINT_CHANNEL, model: doPrint }],
    // INTID 40: an SPI nothing else on the guest's board uses.
    consumes: [
      { id: 1, name: "done_printing", channel: DONE_PRINTING_CHANNEL, spi: 40, model: donePrinting },
    ],
  };
}
