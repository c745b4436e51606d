// GICv3 redistributors, one 128 KiB pair of frames per vCPU (RD_base, then SGI_base at +64 KiB),
// laid out contiguously so that the frame's index is its vCPU (MaaXBoard: 0x38880000). They hold
// the SGIs and PPIs of their vCPU, whichever vCPU accesses them.
import type { AccessSize, MmioDevice } from "../../machine/devices/mmio.ts";
import { checkAccess } from "./access-rules.ts";
import { GICV3_ID_REGISTERS } from "./gicv3-distributor.ts";
import { checkBankAccess, findBank, readBank, writeBank } from "./register-banks.ts";
import { PRIVATE_IRQ_COUNT, type Vgic } from "./vgic.ts";

export const GICV3_REDISTRIBUTOR_STRIDE = 0x2_0000;
const SGI_BASE = 0x1_0000;

const CTLR = 0x0;
const IIDR = 0x4;
const TYPER = 0x8;
const TYPER_HIGH = 0xc;
const WAKER = 0x14;
const ID_REGISTERS_START = 0xffd0;

const TYPER_LAST = 1 << 4;
const WAKER_PROCESSOR_SLEEP = 1 << 1;
const WAKER_CHILDREN_ASLEEP = 1 << 2;
const IIDR_VALUE = 0x0300_043b;

export function redistributorRegionSize(vcpuCount: number): number {
  return vcpuCount * GICV3_REDISTRIBUTOR_STRIDE;
}

export class Gicv3Redistributors implements MmioDevice {
  /** GICR_WAKER.ProcessorSleep per vCPU: a redistributor starts asleep until its CPU wakes it. */
  private readonly asleep: boolean[];

  constructor(private readonly vgic: Vgic) {
    if (vgic.version !== 3) throw new Error("Gicv3Redistributors needs a vGIC created with version 3");
    this.asleep = new Array<boolean>(vgic.vcpuCount).fill(true);
  }

  read(offset: number, size: AccessSize, _vcpuId: number): bigint {
    const frame = Math.floor(offset / GICV3_REDISTRIBUTOR_STRIDE);
    const within = offset % GICV3_REDISTRIBUTOR_STRIDE;
    if (within >= SGI_BASE) return this.readSgiFrame(frame, within - SGI_BASE, size);
    if (within === TYPER || within === TYPER_HIGH) {
      checkAccess("GICR", "GICR_TYPER", within, size, false, [8, 4]);
      const typer = this.typer(frame);
      return size === 8 ? typer : (typer >> BigInt(8 * (within - TYPER))) & 0xffff_ffffn;
    }
    switch (within & ~3) {
      case CTLR:
        checkAccess("GICR", "GICR_CTLR", within, size, false, [4]);
        return 0n; // no LPIs
      case IIDR:
        checkAccess("GICR", "GICR_IIDR", within, size, false, [4]);
        return BigInt(IIDR_VALUE);
      case WAKER:
        checkAccess("GICR", "GICR_WAKER", within, size, false, [4]);
        return this.asleep[frame] ? BigInt(WAKER_PROCESSOR_SLEEP | WAKER_CHILDREN_ASLEEP) : 0n;
    }
    if (within >= ID_REGISTERS_START) {
      checkAccess("GICR", "an ID register", within, size, false, [4]);
      return BigInt(GICV3_ID_REGISTERS.get(within) ?? 0);
    }
    return 0n;
  }

  write(offset: number, size: AccessSize, value: bigint, _vcpuId: number): void {
    const frame = Math.floor(offset / GICV3_REDISTRIBUTOR_STRIDE);
    const within = offset % GICV3_REDISTRIBUTOR_STRIDE;
    if (within >= SGI_BASE) return this.writeSgiFrame(frame, within - SGI_BASE, size, value);
    if (within === TYPER || within === TYPER_HIGH) {
      checkAccess("GICR", "GICR_TYPER", within, size, true, [8, 4]);
      return;
    }
    switch (within & ~3) {
      case CTLR:
      case IIDR:
        checkAccess("GICR", within === CTLR ? "GICR_CTLR" : "GICR_IIDR", within, size, true, [4]);
        return;
      case WAKER:
        checkAccess("GICR", "GICR_WAKER", within, size, true, [4]);
        this.asleep[frame] = (Number(value) & WAKER_PROCESSOR_SLEEP) !== 0;
        return;
    }
    if (within >= ID_REGISTERS_START) checkAccess("GICR", "an ID register", within, size, true, [4]);
  }

  /** Affinity (Aff0 = vCPU) in bits 63:32, Processor_Number in 23:8, Last on the final frame. */
  private typer(frame: number): bigint {
    const last = frame === this.vgic.vcpuCount - 1 ? TYPER_LAST : 0;
    return (BigInt(frame) << 32n) | BigInt((frame << 8) | last);
  }

  private readSgiFrame(vcpuId: number, offset: number, size: AccessSize): bigint {
    const bank = findBank(offset);
    if (!bank) return 0n; // reserved, IGRPMODR0 and NSACR (DS = 1): RAZ/WI
    checkBankAccess("GICR", bank, offset, size, false);
    return readBank(this.vgic, vcpuId, bank, size, (intid) => isPrivate(bank.bank, intid));
  }

  private writeSgiFrame(vcpuId: number, offset: number, size: AccessSize, value: bigint): void {
    const bank = findBank(offset);
    if (!bank) return;
    checkBankAccess("GICR", bank, offset, size, true);
    writeBank(this.vgic, vcpuId, bank, size, value, (intid) => isPrivate(bank.bank, intid));
  }
}

function isPrivate(bank: string, intid: number): boolean {
  return intid < PRIVATE_IRQ_COUNT && bank !== "ITARGETSR";
}
