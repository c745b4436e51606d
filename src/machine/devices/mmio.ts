// Memory-mapped devices as the rest of the machine reaches them: by offset and size.

export type AccessSize = 1 | 2 | 4 | 8;

export interface MmioDevice {
  readonly name: string;
  /** Reads `size` bytes at `offset` from the device's base. */
  read(offset: number, size: AccessSize): number;
  write(offset: number, size: AccessSize, value: number): void;
}

/** An interrupt output of a device, wired by the board to the interrupt controller. */
export interface IrqLine {
  set(high: boolean): void;
}
