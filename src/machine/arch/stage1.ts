// The stage-1 table walk of the EL1&0 regime (4 KiB granule), for software that reads guest memory by VA.

/** The registers that control the walk. */
export type Stage1Register = "SCTLR_EL1" | "TCR_EL1" | "TTBR0_EL1" | "TTBR1_EL1";

/** A 64-bit descriptor at an (intermediate) physical address, or undefined when no memory is there. */
export type DescriptorReader = (address: bigint) => bigint | undefined;

const PAGE_SHIFT = 12n;
const BITS_PER_LEVEL = 9n;
/** Output address of a table, block or page descriptor: bits 47:12. */
const OUTPUT_ADDRESS = 0x0000_ffff_ffff_f000n;
/** TTBR BADDR, bits 47:6: a start-level table smaller than a page (fewer VA bits) is only 64-byte aligned. */
const TABLE_BASE = 0x0000_ffff_ffff_ffc0n;
const SCTLR_M = 1n;
const TG0_4K = 0n;
const TG1_4K = 2n;

/**
 * The output address of `va` through the EL1&0 stage-1 tables that `registers` describe, reading
 * descriptors with `read`; undefined when the tables do not map it, or use a granule other than 4 KiB
 * (what Linux on arm64 uses by default). With the MMU off (SCTLR_EL1.M = 0), addresses are physical
 * already. Permissions, the access flag and TBI are not looked at: this answers "where", not "may".
 */
export function translateStage1(
  registers: (name: Stage1Register) => bigint,
  va: bigint,
  read: DescriptorReader,
): bigint | undefined {
  if ((registers("SCTLR_EL1") & SCTLR_M) === 0n) return va;
  const tcr = registers("TCR_EL1");
  const upper = ((va >> 55n) & 1n) === 1n;
  const size = upper ? (tcr >> 16n) & 0x3fn : tcr & 0x3fn; // T1SZ / T0SZ
  const granule = upper ? (tcr >> 30n) & 3n : (tcr >> 14n) & 3n; // TG1 / TG0
  const disabled = upper ? ((tcr >> 23n) & 1n) === 1n : ((tcr >> 7n) & 1n) === 1n; // EPD1 / EPD0
  if (granule !== (upper ? TG1_4K : TG0_4K) || disabled || size < 16n || size > 39n) return undefined;
  const inputBits = 64n - size;
  // Bits above the input range must all be 0 (TTBR0) or all 1 (TTBR1).
  if (va >> inputBits !== (upper ? (1n << size) - 1n : 0n)) return undefined;
  const levels = (inputBits - PAGE_SHIFT + BITS_PER_LEVEL - 1n) / BITS_PER_LEVEL;
  const startLevel = 4n - levels;
  let table = (upper ? registers("TTBR1_EL1") : registers("TTBR0_EL1")) & TABLE_BASE;
  for (let level = startLevel; level <= 3n; level++) {
    const shift = PAGE_SHIFT + BITS_PER_LEVEL * (3n - level);
    // The start level resolves whatever input bits are left: fewer than 9 when TxSZ is not a level's worth.
    const indexBits = level === startLevel ? inputBits - shift : BITS_PER_LEVEL;
    const index = (va >> shift) & ((1n << indexBits) - 1n);
    const descriptor = read(table + index * 8n);
    if (descriptor === undefined || (descriptor & 1n) === 0n) return undefined;
    const isTable = (descriptor & 2n) === 2n;
    if (level === 3n) return isTable ? (descriptor & OUTPUT_ADDRESS) | (va & 0xfffn) : undefined;
    if (!isTable) {
      if (level === 0n) return undefined; // no level-0 blocks with a 4 KiB granule
      const blockMask = (1n << shift) - 1n;
      return (descriptor & OUTPUT_ADDRESS & ~blockMask) | (va & blockMask);
    }
    table = descriptor & OUTPUT_ADDRESS;
  }
  return undefined;
}

/** The stage-1 memory attributes (MAIR_EL1 bytes) a table builder can choose from, by AttrIndx. */
export const Stage1Attributes = {
  /** MAIR_EL1 with Normal write-back memory at index 0 and Device-nGnRnE at index 1. */
  mair: 0x00ffn,
  normal: 0,
  device: 1,
} as const;

/** A table descriptor (levels 0–2) pointing at the next-level table at `table`. */
export function tableDescriptor(table: bigint): bigint {
  return (table & OUTPUT_ADDRESS) | 3n;
}

/**
 * A level-3 page descriptor that EL0 may use (4 KiB granule): AP[1] set, AP[2] unless `write`,
 * UXN unless `execute`, always PXN; inner shareable, access flag set, not global.
 */
export function el0PageDescriptor(
  page: bigint,
  access: { write: boolean; execute: boolean; device: boolean },
): bigint {
  const attrIndex = BigInt(access.device ? Stage1Attributes.device : Stage1Attributes.normal);
  let descriptor = (page & OUTPUT_ADDRESS) | 3n | (attrIndex << 2n) | (1n << 6n) | (3n << 8n) | (1n << 10n);
  descriptor |= 1n << 11n; // nG
  if (!access.write) descriptor |= 1n << 7n; // AP[2]: read-only
  descriptor |= 1n << 53n; // PXN
  if (!access.execute) descriptor |= 1n << 54n; // UXN
  return descriptor;
}
