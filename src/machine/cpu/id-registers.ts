// Identification registers: an ARMv8.0-A core like a Cortex-A53 r0p4, with
// AArch64 only at EL0/EL1, FP and Advanced SIMD, no EL2/EL3 visible to the
// guest, no PMU, CRC32 (mandatory on the A53) but no crypto, no LSE, no pointer
// authentication, no SVE, no MTE, 4 KiB granule only, 40-bit physical and 16-bit ASIDs.
import {
  K_MIDR_EL1,
  K_REVIDR_EL1,
  K_ID_AA64PFR0_EL1,
  K_ID_AA64DFR0_EL1,
  K_ID_AA64ISAR0_EL1,
  K_ID_AA64MMFR0_EL1,
  K_CTR_EL0,
  K_CLIDR_EL1,
  K_AIDR_EL1,
} from "./sysreg-keys";

export const MIDR_CORTEX_A53_R0P4: u64 = 0x410f_d034;
/** CTR_EL0: 64-byte I and D lines, VIPT instruction cache, 64-byte ERG/CWG. */
export const CTR_VALUE: u64 = 0x8444_8004;
/** CTR_EL0.DminLine: log2 of the words in the smallest data cache line. */
const DMIN_LINE: u32 = <u32>((CTR_VALUE >> 16) & 15);
export const D_CACHE_LINE_BYTES: u32 = 4 << DMIN_LINE;
/** DCZID_EL0.BS: DC ZVA zeroes 2^4 words = 64 bytes. */
export const DCZID_BLOCK_LOG2_WORDS: u64 = 4;
export const DC_ZVA_BYTES: u32 = 64;

/**
 * Value of an ID-space register (op0 = 3, op1 = 0, CRn = 0, or one of the cache
 * ID registers). Unallocated ID-space encodings read as zero, as the
 * architecture requires for the reserved ID space.
 */
export function idRegister(key: u32, gicV3: bool): u64 {
  switch (key) {
    case K_MIDR_EL1:
      return MIDR_CORTEX_A53_R0P4;
    case K_REVIDR_EL1:
      return 0;
    case K_ID_AA64PFR0_EL1:
      // EL0 and EL1 AArch64 only; FP and AdvSIMD implemented (fields 0); GIC system registers with GICv3.
      return 0x11 | (gicV3 ? (<u64>1) << 24 : 0);
    case K_ID_AA64DFR0_EL1:
      // Debug v8, two breakpoints and two watchpoints, no PMU.
      return 0x0010_1006;
    case K_ID_AA64ISAR0_EL1:
      // CRC32 (bits 19:16) = 1; AES, SHA1, SHA2, atomics and RDM absent (0).
      return 0x0001_0000;
    case K_ID_AA64MMFR0_EL1:
      // PARange 40 bits, 16-bit ASIDs, 4 KiB granule only (16 KiB and 64 KiB not supported).
      return 0x0f00_0022;
    case K_CTR_EL0:
      return CTR_VALUE;
    case K_CLIDR_EL1:
      return 0x0a20_0023;
    case K_AIDR_EL1:
      return 0;
    default:
      return 0;
  }
}

/** CCSIDR_EL1 for the cache CSSELR_EL1 selects: 32 KiB L1 D/I, 512 KiB L2, 64-byte lines. */
export function cacheSizeId(csselr: u64): u64 {
  if (csselr == 0) return 0x700f_e01a;
  if (csselr == 1) return 0x201f_e00a;
  if (csselr == 2) return 0x707f_e07a;
  return 0;
}

/** True for encodings in the ID space op0 = 3, op1 = 0, CRn = 0, CRm = 0..7. */
export function isIdSpace(key: u32): bool {
  return (key & 0xff80) == 0xc000;
}
