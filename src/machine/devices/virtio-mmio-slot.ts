// An empty virtio-mmio transport slot, as QEMU's virt machine leaves the 32 slots that
// have no device behind them: the magic value and version read back, device ID 0 tells
// the driver there is nothing to probe.

import { Registers32 } from "./mmio.ts";

const MAGIC = 0x74726976; // "virt"
const VERSION = 2;
const VENDOR_QEMU = 0x554d4551; // "QEMU"

export class EmptyVirtioMmioSlot extends Registers32 {
  readonly name: string;

  constructor(readonly slot: number) {
    super();
    this.name = `virtio-mmio slot ${slot}`;
  }

  protected readRegister(offset: number): number {
    switch (offset) {
      case 0x000:
        return MAGIC;
      case 0x004:
        return VERSION;
      case 0x00c:
        return VENDOR_QEMU;
      default:
        return 0;
    }
  }

  protected writeRegister(): void {}
}
