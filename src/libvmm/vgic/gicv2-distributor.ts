// The GICv2 distributor (ARM IHI 0048B, section 4.3) as a guest sees it: every register a driver may
// touch, with reserved offsets reading as zero and ignoring writes, and accesses the architecture does
// not allow reported as faults of that VM.
import type { AccessSize, MmioDevice } from "../../machine/devices/mmio.ts";
import { checkAccess } from "./access-rules.ts";
import { checkBankAccess, findBank, readBank, writeBank, type BankAccess } from "./register-banks.ts";
import { SGI_COUNT, type Vgic } from "./vgic.ts";

/** The distributor occupies one 4 KiB page (QEMU virt: 0x08000000). */
export const GICV2_DISTRIBUTOR_SIZE = 0x1000;

export const CTLR = 0x000;
export const TYPER = 0x004;
const IIDR = 0x008;
export const SGIR = 0xf00;
const CPENDSGIR = 0xf10;
const SPENDSGIR = 0xf20;
const SGI_REGISTERS_END = 0xf30;

/** Implementer ARM (0x43b), as GIC-400. */
const IIDR_VALUE = 0x0200_043b;

/** Peripheral and component ID registers of a GIC-400: PIDR2 0x2b says architecture version 2. */
const ID_REGISTERS: ReadonlyMap<number, number> = new Map([
  [0xfd0, 0x04],
  [0xfe0, 0x90],
  [0xfe4, 0xb4],
  [0xfe8, 0x2b],
  [0xff0, 0x0d],
  [0xff4, 0xf0],
  [0xff8, 0x05],
  [0xffc, 0xb1],
]);

export const SGIR_FILTER_LIST = 0;
export const SGIR_FILTER_OTHERS = 1;
export const SGIR_FILTER_SELF = 2;

export class Gicv2Distributor implements MmioDevice {
  constructor(private readonly vgic: Vgic) {
    if (vgic.version !== 2) throw new Error("Gicv2Distributor needs a vGIC created with version 2");
  }

  read(offset: number, size: AccessSize, vcpuId: number): bigint {
    const bank = findBank(offset);
    if (bank) {
      checkBankAccess("GICD", bank, offset, size, false);
      return readBank(this.vgic, vcpuId, bank, size, () => this.visible(bank));
    }
    if (offset >= CPENDSGIR && offset < SGI_REGISTERS_END) {
      checkSgiRegisterAccess(offset, size, false);
      return this.readSgiPending(vcpuId, offset, size);
    }
    // A register is matched by the word that contains the offset, so misaligned accesses are reported.
    switch (offset & ~3) {
      case CTLR:
        checkWordAccess("GICD_CTLR", offset, size, false);
        return BigInt(this.vgic.control);
      case TYPER:
        checkWordAccess("GICD_TYPER", offset, size, false);
        return BigInt((this.vgic.lines / 32 - 1) | ((this.vgic.vcpuCount - 1) << 5));
      case IIDR:
        checkWordAccess("GICD_IIDR", offset, size, false);
        return BigInt(IIDR_VALUE);
      case SGIR:
        checkWordAccess("GICD_SGIR", offset, size, false);
        return 0n; // write-only
    }
    const id = ID_REGISTERS.get(offset);
    if (offset >= 0xfd0) {
      checkWordAccess("an ID register", offset, size, false);
      return BigInt(id ?? 0);
    }
    return 0n; // reserved: RAZ
  }

  write(offset: number, size: AccessSize, value: bigint, vcpuId: number): void {
    const bank = findBank(offset);
    if (bank) {
      checkBankAccess("GICD", bank, offset, size, true);
      writeBank(this.vgic, vcpuId, bank, size, value, (intid) => this.writable(bank, intid));
      return;
    }
    if (offset >= CPENDSGIR && offset < SGI_REGISTERS_END) {
      checkSgiRegisterAccess(offset, size, true);
      this.writeSgiPending(vcpuId, offset, size, value);
      return;
    }
    switch (offset & ~3) {
      case CTLR:
        checkWordAccess("GICD_CTLR", offset, size, true);
        this.vgic.setControl(Number(value & 3n));
        return;
      case TYPER:
      case IIDR:
        checkWordAccess(offset === TYPER ? "GICD_TYPER" : "GICD_IIDR", offset, size, true);
        return; // read-only
      case SGIR:
        checkWordAccess("GICD_SGIR", offset, size, true);
        this.writeSgir(vcpuId, Number(value & 0xffff_ffffn));
        return;
    }
    if (offset >= 0xfd0) checkWordAccess("an ID register", offset, size, true);
    // Reserved offsets and read-only ID registers ignore writes.
  }

  /** INTIDs whose fields read back: everything implemented, except ITARGETSR on a uniprocessor (RAZ/WI). */
  private visible(bank: BankAccess): boolean {
    return !(bank.bank === "ITARGETSR" && this.vgic.vcpuCount === 1);
  }

  private writable(bank: BankAccess, intid: number): boolean {
    switch (bank.bank) {
      case "ISPENDR":
      case "ICPENDR":
        return intid >= SGI_COUNT; // SGI pending state belongs to CPENDSGIR/SPENDSGIR
      case "ITARGETSR":
        return intid >= 32 && this.vgic.vcpuCount > 1;
      default:
        return true;
    }
  }

  private writeSgir(sender: number, value: number): void {
    const filter = (value >>> 24) & 3;
    const intid = value & 0xf;
    const all = Array.from({ length: this.vgic.vcpuCount }, (_, v) => v);
    let targets: number[];
    if (filter === SGIR_FILTER_LIST) {
      const list = (value >>> 16) & 0xff;
      targets = all.filter((v) => (list >> v) & 1);
    } else if (filter === SGIR_FILTER_OTHERS) {
      targets = all.filter((v) => v !== sender);
    } else if (filter === SGIR_FILTER_SELF) {
      targets = [sender];
    } else {
      return; // filter 3 is reserved: no SGI
    }
    this.vgic.sendSgi(sender, intid, targets);
  }

  /** CPENDSGIR/SPENDSGIR: one byte per SGI holding its source-CPU bits (both read the same state). */
  private readSgiPending(vcpuId: number, offset: number, size: AccessSize): bigint {
    const first = (offset - CPENDSGIR) % 0x10;
    let value = 0;
    for (let i = 0; i < size; i++) value |= this.vgic.pendingSources(vcpuId, first + i) << (8 * i);
    return BigInt(value >>> 0);
  }

  private writeSgiPending(vcpuId: number, offset: number, size: AccessSize, value: bigint): void {
    const set = offset >= SPENDSGIR;
    const first = offset - (set ? SPENDSGIR : CPENDSGIR);
    for (let i = 0; i < size; i++) {
      const sources = Number((value >> BigInt(8 * i)) & 0xffn);
      if (sources) this.vgic.setPending(vcpuId, first + i, set, sources);
    }
  }
}

function checkWordAccess(register: string, offset: number, size: AccessSize, write: boolean): void {
  checkAccess("GICD", register, offset, size, write, [4]);
}

function checkSgiRegisterAccess(offset: number, size: AccessSize, write: boolean): void {
  const name =
    offset >= SPENDSGIR
      ? `GICD_SPENDSGIR${(offset - SPENDSGIR) >> 2}`
      : `GICD_CPENDSGIR${(offset - CPENDSGIR) >> 2}`;
  checkAccess("GICD", name, offset, size, write, [4, 1]);
}
