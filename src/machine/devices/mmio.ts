// Memory-mapped devices as the rest of the machine reaches them: by offset and access size. Board
// devices, passed-through devices and the devices a VMM emulates all have this one shape.

export type AccessSize = 1 | 2 | 4 | 8;

export interface MmioDevice {
  /**
   * Reads `size` bytes at `offset` from the device's base, zero-extended. `cpu` is the (v)CPU
   * making the access: banked registers (the GIC's) answer per CPU, other devices ignore it.
   */
  read(offset: number, size: AccessSize, cpu: number): bigint;
  /** Writes the low `size` bytes of `value` at `offset`. */
  write(offset: number, size: AccessSize, value: bigint, cpu: number): void;
}

/** An interrupt output of a device, wired by the board to the interrupt controller. */
export interface IrqLine {
  set(high: boolean): void;
}

/**
 * A device whose registers are 32 bits wide, like most peripherals: narrower accesses see the low
 * bits of the register at that offset, and a 64-bit access is two 32-bit ones, low word first
 * (as the bus splits it).
 */
export abstract class Registers32 implements MmioDevice {
  protected abstract readRegister(offset: number): number;
  protected abstract writeRegister(offset: number, value: number): void;

  read(offset: number, size: AccessSize): bigint {
    if (size === 8) {
      const low = BigInt(this.readRegister(offset) >>> 0);
      return low | (BigInt(this.readRegister(offset + 4) >>> 0) << 32n);
    }
    return BigInt((this.readRegister(offset) & sizeMask(size)) >>> 0);
  }

  write(offset: number, size: AccessSize, value: bigint): void {
    if (size === 8) {
      this.writeRegister(offset, Number(value & 0xffff_ffffn));
      this.writeRegister(offset + 4, Number((value >> 32n) & 0xffff_ffffn));
      return;
    }
    this.writeRegister(offset, Number(value & BigInt(sizeMask(size))));
  }
}

function sizeMask(size: 1 | 2 | 4): number {
  return size === 4 ? 0xffff_ffff : (1 << (size * 8)) - 1;
}
