// A PD's virtual address space: its maps from the system description, reaching physical
// RAM (shared bytes, as every other mapping of the same MR sees them) or a device model.
// An access outside every map, or against a map's permissions, is a VM fault, reported
// with the fault status a real seL4 PD would get.

import type { Map as SdfMap, Perms } from "../sdf/model.ts";
import { FaultError } from "../kernel/index.ts";
import { FaultStatus, abortSyndrome } from "../machine/arch/index.ts";
import type { Board } from "../machine/boards/board.ts";
import type { AccessSize, MmioDevice } from "../machine/devices/mmio.ts";
import { hex } from "../util/hex.ts";

/** One map of a PD, with accessors by offset from its start (checked like any access). */
export class MappedRegion {
  /** The memory region's name. */
  readonly mr: string;
  readonly vaddr: number;
  readonly size: number;
  readonly paddr: number;
  readonly perms: Readonly<Perms>;
  readonly cached: boolean;
  /** Normal memory: the region's bytes in physical RAM. Undefined for device memory. */
  readonly bytes: Uint8Array | undefined;

  constructor(
    map: SdfMap,
    bytes: Uint8Array | undefined,
    private readonly space: PdAddressSpace,
  ) {
    this.mr = map.mr;
    this.vaddr = map.vaddr;
    this.size = map.region.size;
    this.paddr = map.region.paddr;
    this.perms = Object.freeze({ ...map.perms });
    this.cached = map.cached;
    this.bytes = bytes;
  }

  read8(offset: number): number {
    return this.space.read8(this.vaddr + offset);
  }
  read16(offset: number): number {
    return this.space.read16(this.vaddr + offset);
  }
  read32(offset: number): number {
    return this.space.read32(this.vaddr + offset);
  }
  read64(offset: number): bigint {
    return this.space.read64(this.vaddr + offset);
  }
  write8(offset: number, value: number): void {
    this.space.write8(this.vaddr + offset, value);
  }
  write16(offset: number, value: number): void {
    this.space.write16(this.vaddr + offset, value);
  }
  write32(offset: number, value: number): void {
    this.space.write32(this.vaddr + offset, value);
  }
  write64(offset: number, value: bigint): void {
    this.space.write64(this.vaddr + offset, value);
  }
  view(offset: number, length: number): Uint8Array {
    return this.space.view(this.vaddr + offset, length);
  }
}

const SMALL_PAGE = 0x1000;
const LARGE_PAGE = 0x200000;
const TABLE_SPANS = [2 ** 39, 2 ** 30, LARGE_PAGE]; // bytes covered by one level-0/1/2 table entry
const ALIGNMENT_FAULT = 0x21;
/** Where the Microkit tool loads a PD's program image; it occupies translation tables too. */
const PROGRAM_IMAGE_VADDR = 0x200000;

export class PdAddressSpace {
  readonly regions: readonly MappedRegion[];
  private readonly data: DataView;

  constructor(
    private readonly pdName: string,
    maps: readonly SdfMap[],
    private readonly board: Board,
  ) {
    this.data = new DataView(board.memory.memory.buffer);
    this.regions = maps.map((map) => this.mapRegion(map));
  }

  read8(vaddr: number): number {
    return this.access(vaddr, 1, false, undefined) as number;
  }
  read16(vaddr: number): number {
    return this.access(vaddr, 2, false, undefined) as number;
  }
  read32(vaddr: number): number {
    return this.access(vaddr, 4, false, undefined) as number;
  }
  read64(vaddr: number): bigint {
    return this.access(vaddr, 8, false, undefined) as bigint;
  }
  write8(vaddr: number, value: number): void {
    this.access(vaddr, 1, true, value);
  }
  write16(vaddr: number, value: number): void {
    this.access(vaddr, 2, true, value);
  }
  write32(vaddr: number, value: number): void {
    this.access(vaddr, 4, true, value);
  }
  write64(vaddr: number, value: bigint): void {
    this.access(vaddr, 8, true, value);
  }

  /**
   * A live byte view of normal memory at [vaddr, vaddr+length), which must lie inside one
   * readable map. Writes through the view are not checked against the map's permissions.
   */
  view(vaddr: number, length: number): Uint8Array {
    const region = this.regionFor(vaddr, false);
    if (vaddr + length > region.vaddr + region.size) this.fault(region.vaddr + region.size, false, "outside");
    if (!region.bytes) {
      throw new Error(
        `${this.pdName}: memory region '${region.mr}' at ${hex(region.vaddr)} is device memory; use read32/write32 instead of a view`,
      );
    }
    const offset = vaddr - region.vaddr;
    return region.bytes.subarray(offset, offset + length);
  }

  private mapRegion(map: SdfMap): MappedRegion {
    const { paddr, size } = map.region;
    const memory = this.board.memory;
    return new MappedRegion(map, memory.isRam(paddr, size) ? memory.view(paddr, size) : undefined, this);
  }

  private access(
    vaddr: number,
    size: AccessSize,
    write: boolean,
    value: number | bigint | undefined,
  ): number | bigint {
    const region = this.regionFor(vaddr, write);
    if (vaddr + size > region.vaddr + region.size) this.fault(region.vaddr + region.size, write, "outside");
    const offset = vaddr - region.vaddr;
    if (region.bytes) {
      const at = region.bytes.byteOffset + offset;
      return write ? this.storeRam(at, size, value!) : this.loadRam(at, size);
    }
    // Device memory faults on unaligned accesses, as the architecture requires.
    if (vaddr % size !== 0) this.fault(vaddr, write, "alignment");
    const paddr = region.paddr + offset;
    const window = this.board.deviceAt(paddr);
    // No model behind this device address: reads as zero, writes are ignored.
    if (!window) return size === 8 ? 0n : 0;
    return deviceAccess(window.device, paddr - window.base, size, write, value);
  }

  private loadRam(at: number, size: AccessSize): number | bigint {
    switch (size) {
      case 1:
        return this.data.getUint8(at);
      case 2:
        return this.data.getUint16(at, true);
      case 4:
        return this.data.getUint32(at, true);
      case 8:
        return this.data.getBigUint64(at, true);
    }
  }

  private storeRam(at: number, size: AccessSize, value: number | bigint): number {
    switch (size) {
      case 1:
        this.data.setUint8(at, Number(value) & 0xff);
        break;
      case 2:
        this.data.setUint16(at, Number(value) & 0xffff, true);
        break;
      case 4:
        this.data.setUint32(at, Number(value) >>> 0, true);
        break;
      case 8:
        this.data.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true);
        break;
    }
    return 0;
  }

  private regionFor(vaddr: number, write: boolean): MappedRegion {
    if (!Number.isSafeInteger(vaddr) || vaddr < 0) {
      throw new TypeError(`${this.pdName}: ${String(vaddr)} is not a virtual address`);
    }
    const region = this.regions.find((r) => vaddr >= r.vaddr && vaddr < r.vaddr + r.size);
    if (!region) this.fault(vaddr, write, "unmapped");
    if (write ? !region.perms.write : !region.perms.read) this.fault(vaddr, write, "permission", region);
    return region;
  }

  private fault(
    vaddr: number,
    write: boolean,
    why: "unmapped" | "outside" | "permission" | "alignment",
    region?: MappedRegion,
  ): never {
    const status =
      why === "alignment"
        ? ALIGNMENT_FAULT
        : why === "permission"
          ? FaultStatus.permission(
              region && region.size % LARGE_PAGE === 0 && region.vaddr % LARGE_PAGE === 0 ? 2 : 3,
            )
          : FaultStatus.translation(this.missingTableLevel(vaddr));
    const fsr = abortSyndrome({ write, prefetch: false, status });
    const access = write ? "write to" : "read from";
    const reason =
      why === "permission"
        ? `its map of '${region!.mr}' is not ${write ? "writable" : "readable"}`
        : why === "alignment"
          ? "device memory needs naturally aligned accesses"
          : "no memory region is mapped there";
    throw new FaultError(
      { kind: "VMFault", ip: 0n, addr: BigInt(vaddr), prefetch: false, fsr },
      `${this.pdName}: ${access} ${hex(vaddr)}: ${reason}`,
    );
  }

  /** The translation level whose descriptor is missing for `vaddr`, as seL4's page tables would be. */
  private missingTableLevel(vaddr: number): number {
    const spans = [
      ...this.regions.map((r) => ({ start: r.vaddr, end: r.vaddr + r.size })),
      { start: PROGRAM_IMAGE_VADDR, end: PROGRAM_IMAGE_VADDR + SMALL_PAGE },
    ];
    let level = 1;
    for (let l = 1; l < TABLE_SPANS.length; l++) {
      const span = TABLE_SPANS[l]!;
      const base = vaddr - (vaddr % span);
      if (spans.some((s) => s.start < base + span && s.end > base)) level = l + 1;
    }
    return level;
  }
}

/** A PD's access to device memory: the PD is not a vCPU, so banked registers see CPU 0's bank. */
function deviceAccess(
  device: MmioDevice,
  at: number,
  size: AccessSize,
  write: boolean,
  value: number | bigint | undefined,
): number | bigint {
  if (write) {
    device.write(at, size, BigInt.asUintN(size * 8, BigInt(value!)), 0);
    return 0;
  }
  const result = device.read(at, size, 0);
  return size === 8 ? result : Number(result);
}
