// The i.MX8MQ on-chip OTP controller (OCOTP) as Linux's i.MX8M SoC driver reads it: the fuse shadow
// words for the silicon revision and the SoC's unique ID. Read-only here: programming fuses (the
// controller's write sequence) is not modelled, and writes are ignored.

import { Registers32 } from "./mmio.ts";

export const ImxOcotpReg = {
  /** Reads 0xff0055aa on B1 silicon (Linux's IMX8MQ_SW_INFO_B1). */
  SW_INFO_B1: 0x40,
  UID_LOW: 0x410,
  UID_HIGH: 0x420,
} as const;

export const IMX8MQ_B1_MAGIC = 0xff00_55aa;

export interface ImxOcotpOptions {
  /** The unique ID fused into the SoC (64 bits). */
  uniqueId: bigint;
  /** B1 silicon (revision 2.1) carries the magic word; older revisions read 0 there. */
  revisionB1: boolean;
}

export class ImxOcotp extends Registers32 {
  readonly name = "imx-ocotp";

  constructor(private readonly options: ImxOcotpOptions) {
    super();
  }

  protected readRegister(offset: number): number {
    switch (offset) {
      case ImxOcotpReg.SW_INFO_B1:
        return this.options.revisionB1 ? IMX8MQ_B1_MAGIC : 0;
      case ImxOcotpReg.UID_LOW:
        return Number(this.options.uniqueId & 0xffff_ffffn);
      case ImxOcotpReg.UID_HIGH:
        return Number((this.options.uniqueId >> 32n) & 0xffff_ffffn);
      default:
        return 0;
    }
  }

  protected writeRegister(): void {}
}
