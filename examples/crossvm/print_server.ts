// The tutorial's PrintServer component as a Microkit PD: on do_print it prints the string the guest
// left in the dataport, then emits done_printing. Unlike the tutorial's C component it never trusts
// the guest: it reads at most the dataport's size and stops at the first NUL, and a dataport with no
// NUL is reported instead of printed.
import { definePd, type Pd } from "../../src/microkit/index.ts";
import { readDataportString } from "../../src/libvmm/index.ts";

/** print_server's channels (crossvm.system). */
const DO_PRINT = 1;
const DONE_PRINTING = 2;

export default definePd(() => {
  let data: Uint8Array;
  return {
    init(pd: Pd) {
      const map = pd.regions.find((region) => region.mr === "data");
      if (!map) throw new Error(`${pd.name}: the system must map the dataport 'data' into this PD`);
      data = map.view(0, map.size);
    },
    notified(pd: Pd, channel: number) {
      if (channel !== DO_PRINT) return;
      const { text, terminated } = readDataportString(data);
      pd.dbgPuts(
        terminated
          ? `${text}\n`
          : `${pd.name}: the dataport's ${data.length} bytes hold no NUL, so there is no string to print ` +
              `(the guest must end its string within the dataport)\n`,
      );
      pd.notify(DONE_PRINTING);
    },
  };
});
