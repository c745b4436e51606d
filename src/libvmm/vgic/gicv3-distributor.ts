// The GICv3 distributor (Arm IHI 0069) with affinity routing always on (ARE = 1) and a single security
// state (DS = 1), as a non-secure guest sees it under a hypervisor: SGIs and PPIs live in the
// redistributors, so their distributor fields are RAZ/WI, and SPIs are routed by GICD_IROUTER.
import type { AccessSize, MmioDevice } from "../../machine/devices/mmio.ts";
import { checkAccess } from "./access-rules.ts";
import { checkBankAccess, findBank, readBank, writeBank } from "./register-banks.ts";
import { PRIVATE_IRQ_COUNT, type Vgic } from "./vgic.ts";

/** MaaXBoard: 0x38800000, 64 KiB. */
export const GICV3_DISTRIBUTOR_SIZE = 0x1_0000;

const CTLR = 0x0;
const TYPER = 0x4;
const IIDR = 0x8;
const IROUTER = 0x6000;
const IROUTER_FIRST = IROUTER + 8 * PRIVATE_IRQ_COUNT;
const IROUTER_END = 0x7fe0;
const ID_REGISTERS_START = 0xffd0;

const CTLR_ARE = 1 << 4;
const CTLR_DS = 1 << 6;
/** INTIDs need 10 bits (IDbits = 9). */
const TYPER_ID_BITS = 9 << 19;
const IIDR_VALUE = 0x0300_043b;

/** GIC-600-style peripheral and component IDs; PIDR2 0x3b says architecture version 3. */
export const GICV3_ID_REGISTERS: ReadonlyMap<number, number> = new Map([
  [0xffd0, 0x44],
  [0xffe0, 0x92],
  [0xffe4, 0xb4],
  [0xffe8, 0x3b],
  [0xfff0, 0x0d],
  [0xfff4, 0xf0],
  [0xfff8, 0x05],
  [0xfffc, 0xb1],
]);

export class Gicv3Distributor implements MmioDevice {
  constructor(private readonly vgic: Vgic) {
    if (vgic.version !== 3) throw new Error("Gicv3Distributor needs a vGIC created with version 3");
  }

  read(offset: number, size: AccessSize, vcpuId: number): bigint {
    const bank = findBank(offset);
    if (bank) {
      checkBankAccess("GICD", bank, offset, size, false);
      return readBank(this.vgic, vcpuId, bank, size, (intid) => this.routedHere(bank.bank, intid));
    }
    if (offset >= IROUTER && offset < IROUTER_END) {
      const intid = this.checkRouter(offset, size, false);
      const route =
        intid >= PRIVATE_IRQ_COUNT && this.vgic.isImplemented(intid) ? this.vgic.route(intid) : 0n;
      return size === 8 ? route : (route >> BigInt(8 * (offset % 8))) & 0xffff_ffffn;
    }
    // A register is matched by the word that contains the offset, so misaligned accesses are reported.
    switch (offset & ~3) {
      case CTLR:
        checkAccess("GICD", "GICD_CTLR", offset, size, false, [4]);
        return BigInt(this.vgic.control | CTLR_ARE | CTLR_DS);
      case TYPER:
        checkAccess("GICD", "GICD_TYPER", offset, size, false, [4]);
        return BigInt((this.vgic.lines / 32 - 1) | ((this.vgic.vcpuCount - 1) << 5) | TYPER_ID_BITS);
      case IIDR:
        checkAccess("GICD", "GICD_IIDR", offset, size, false, [4]);
        return BigInt(IIDR_VALUE);
    }
    if (offset >= ID_REGISTERS_START) {
      checkAccess("GICD", "an ID register", offset, size, false, [4]);
      return BigInt(GICV3_ID_REGISTERS.get(offset) ?? 0);
    }
    return 0n; // reserved, or RAZ/WI with ARE = 1 and DS = 1 (IGRPMODR, NSACR, SGIR, C/SPENDSGIR)
  }

  write(offset: number, size: AccessSize, value: bigint, vcpuId: number): void {
    const bank = findBank(offset);
    if (bank) {
      checkBankAccess("GICD", bank, offset, size, true);
      writeBank(this.vgic, vcpuId, bank, size, value, (intid) => this.routedHere(bank.bank, intid));
      return;
    }
    if (offset >= IROUTER && offset < IROUTER_END) {
      const intid = this.checkRouter(offset, size, true);
      if (intid < PRIVATE_IRQ_COUNT || !this.vgic.isImplemented(intid)) return;
      const old = this.vgic.route(intid);
      const route =
        size === 8
          ? value
          : offset % 8 === 0
            ? (old & ~0xffff_ffffn) | value
            : (old & 0xffff_ffffn) | (value << 32n);
      this.vgic.setRoute(intid, route);
      return;
    }
    switch (offset & ~3) {
      case CTLR:
        checkAccess("GICD", "GICD_CTLR", offset, size, true, [4]);
        this.vgic.setControl(Number(value & 3n));
        return;
      case TYPER:
      case IIDR:
        checkAccess("GICD", offset === TYPER ? "GICD_TYPER" : "GICD_IIDR", offset, size, true, [4]);
        return;
    }
    if (offset >= ID_REGISTERS_START) checkAccess("GICD", "an ID register", offset, size, true, [4]);
  }

  /** With affinity routing, the distributor holds only SPIs, and ITARGETSR is unused. */
  private routedHere(bank: string, intid: number): boolean {
    return intid >= PRIVATE_IRQ_COUNT && bank !== "ITARGETSR";
  }

  private checkRouter(offset: number, size: AccessSize, write: boolean): number {
    const intid = Math.floor((offset - IROUTER) / 8);
    checkAccess("GICD", `GICD_IROUTER${intid}`, offset, size, write, [8, 4]);
    return offset < IROUTER_FIRST ? 0 : intid;
  }
}
