// Fixed addresses of the core's state inside linear memory [0, ramOffset).
// AssemblyScript's own static data sits below STATE_BASE; everything the core
// keeps per vCPU or per VM lives at these constant offsets so loads and stores
// fold the address into the instruction's immediate.

/** The running vCPU's register block (general registers, banked SPs, system registers). */
export const STATE_BASE: usize = 0x10_0000;
export const STATE_SIZE: usize = 0x1000;
/** Saved blocks of vCPUs that are not running, STATE_SIZE each. */
export const VCPU_SAVE_BASE: usize = 0x11_0000;
export const MAX_VCPUS: u32 = 64;
/** SIMD&FP register blocks, one per vCPU, FPSIMD_STRIDE bytes each (bound by the FP/SIMD unit). */
export const FPSIMD_BASE: usize = 0x1a_0000;
export const FPSIMD_STRIDE: usize = 0x240;
/** ConditionHolds() lookup: 16 conditions x 16-bit masks over the NZCV values. */
export const CONDITION_TABLE: usize = 0x1a_a000;
/** Memoised bitmask immediates of logical instructions, indexed by N:immr:imms (u64 each, 64 KiB). */
export const LOGICAL_IMMEDIATE_CACHE: usize = 0x1b_0000;
export const LOGICAL_IMMEDIATE_CACHE_SIZE: usize = 8192 * 8;
/**
 * Translated-block lookup table of the JIT tier: JIT_ENTRIES direct-mapped entries of JIT_ENTRY_SIZE
 * bytes (guest PC, host address | EL, function-table index, execution count), indexed by a hash of the PC.
 */
export const JIT_TABLE: usize = 0x1c_0000;
export const JIT_ENTRIES: u32 = 8192;
export const JIT_ENTRY_SIZE: usize = 32;
/** Fields of a JIT_TABLE entry (byte offsets): the host's JIT (src/machine/cpu/jit) reads and fills them too. */
export const JIT_ENTRY_PC: usize = 0;
export const JIT_ENTRY_TAG: usize = 8;
/** Function-table index of the translation, 0 for none. */
export const JIT_ENTRY_FN: usize = 16;
/** Executions so far while untranslated (JIT_NEVER once untranslatable); lookups by other PCs once translated. */
export const JIT_ENTRY_COUNT: usize = 20;
export const JIT_NEVER: u32 = 0xffff_ffff;
/**
 * Decoded-instruction cache (execute.ts): DECODED_CACHE_ENTRIES direct-mapped entries of 8 bytes
 * (instruction word, form), indexed by the instruction's host address.
 */
export const DECODED_CACHE: usize = 0x26_0000;
export const DECODED_CACHE_ENTRIES: usize = 32768;
/** Main ASID-tagged TLB: TLB_ENTRIES entries of TLB_ENTRY_SIZE bytes. */
export const TLB_BASE: usize = 0x20_0000;
export const TLB_ENTRIES: u32 = 4096;
export const TLB_ENTRY_SIZE: usize = 32;
/** Fast translation cache: per (EL, access kind) arrays of (tag, host addend) pairs. */
export const FAST_BASE: usize = 0x24_0000;
export const FAST_ENTRIES: u32 = 1024;
export const FAST_TABLE_SIZE: usize = <usize>FAST_ENTRIES * 16;
/** Stage-2 tables: one flat table of u32 per VM covering IPAs below 4 GiB in 4 KiB pages. */
export const STAGE2_BASE: usize = 0x40_0000;
export const STAGE2_TABLE_SIZE: usize = 0x40_0000;
export const MAX_VMS: u32 = 8;
/** End of the core's reservation; physical RAM may start here or later. */
export const CORE_END: usize = STAGE2_BASE + <usize>MAX_VMS * STAGE2_TABLE_SIZE;
