// The machine's RAM is one WebAssembly.Memory shared by the CPU core (wasm) and the
// TypeScript layers, so an MR mapped into a PD and into a VM is the same bytes.
// The first `ramOffset` bytes of linear memory belong to the CPU core's own state
// (TLBs, register files); physical RAM follows.

const WASM_PAGE = 0x10000;

export interface PhysicalMemoryOptions {
  /** Physical address of the first RAM byte (0x40000000 on QEMU virt). */
  ramBase: number;
  /** RAM size in bytes, a multiple of 64 KiB. */
  ramSize: number;
  /** Bytes reserved at the start of linear memory for the CPU core. */
  reservedForCore?: number;
}

export class PhysicalMemory {
  readonly memory: WebAssembly.Memory;
  readonly ramBase: number;
  readonly ramSize: number;
  readonly ramOffset: number;
  /** Byte view of all of RAM: index 0 is physical address ramBase. */
  readonly ram: Uint8Array;

  constructor(options: PhysicalMemoryOptions) {
    const reserved = options.reservedForCore ?? 64 * 1024 * 1024;
    if (options.ramSize % WASM_PAGE !== 0 || reserved % WASM_PAGE !== 0) {
      throw new Error("RAM size and reserved size must be multiples of 64 KiB");
    }
    const pages = (reserved + options.ramSize) / WASM_PAGE;
    if (pages > 65536)
      throw new Error(`RAM of ${options.ramSize} bytes does not fit in 4 GiB of wasm memory`);
    // Fixed size: growing would detach every typed-array view handed out.
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.ramBase = options.ramBase;
    this.ramSize = options.ramSize;
    this.ramOffset = reserved;
    this.ram = new Uint8Array(this.memory.buffer, reserved, options.ramSize);
  }

  /** True when [paddr, paddr+size) lies inside RAM. */
  isRam(paddr: number, size = 1): boolean {
    return paddr >= this.ramBase && paddr + size <= this.ramBase + this.ramSize;
  }

  /** A view onto physical RAM, without copying. */
  view(paddr: number, size: number): Uint8Array {
    if (!this.isRam(paddr, size)) {
      throw new RangeError(
        `physical range [0x${paddr.toString(16)}..0x${(paddr + size).toString(16)}) is not RAM`,
      );
    }
    return new Uint8Array(this.memory.buffer, this.ramOffset + (paddr - this.ramBase), size);
  }
}
