// libvmm's `simple` example on the MaaXBoard (seed 004): one Linux guest with UART1 passed through (its
// IRQ 58 arrives on channel 1 and is injected), the GICv3 distributor and redistributor emulated, PSCI
// over SMC, and the SiP call the i.MX8M SoC driver makes at boot answered as the seed's workaround
// does. Without that handler the VMM reports the call as the seed shows and the guest stops in the
// driver's probe: `maaxboardVmm({ sipHandler: false })`, which tests/boards/simple-boards.test.ts runs.
import { linuxVmm } from "../../lib/linux-vmm.ts";

/** IMX_SIP_GET_SOC_INFO: the firmware's answer is the SoC revision in its low byte. */
export const IMX_SIP_GET_SOC_INFO = 0xc200_0006;
/**
 * Revision B1, 2.1 (bits 7:4 major, 3:0 minor), what the board's TF-A reports. The seed's handler meant
 * this value; it computed (0x02 << 4) & (0x01 << 0), which is 0, and Linux then reads the B1 fuse word.
 */
export const SOC_REVISION_B1 = 0x21;

export interface MaaxboardVmmOptions {
  /** Answer IMX_SIP_GET_SOC_INFO (default true). */
  sipHandler?: boolean;
}

export function maaxboardVmm(options: MaaxboardVmmOptions = {}) {
  return linuxVmm(() => ({
    uartChannel: 1,
    powerOffBoard: true,
    setup(_pd, vmm) {
      if (options.sipHandler === false) return;
      vmm.smccc.registerSipHandler(({ functionId, regs }) => {
        if (functionId.raw !== IMX_SIP_GET_SOC_INFO) return false; // NOT_SUPPORTED
        regs.setX(0, BigInt(SOC_REVISION_B1));
        return true;
      });
    },
  }));
}

export default maaxboardVmm();
