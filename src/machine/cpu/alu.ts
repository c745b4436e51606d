// Arithmetic helpers shared by the integer data-processing instructions.
import { nzcv } from "./state";
import { CONDITION_TABLE, LOGICAL_IMMEDIATE_CACHE } from "./layout";

/** AddWithCarry on 64 bits; sets NZCV when `setFlags`. */
export function addWithCarry64(x: u64, y: u64, carry: u64, setFlags: bool): u64 {
  const partial = x + y;
  const result = partial + carry;
  if (setFlags) {
    const c = partial < x || result < partial ? 1 : 0;
    const v = <u32>(((x ^ result) & (y ^ result)) >> 63);
    nzcv = ((<u32>(result >> 63)) << 31) | (result == 0 ? 1 << 30 : 0) | (c << 29) | (v << 28);
  }
  return result;
}

/** AddWithCarry on 32 bits (operands already truncated); sets NZCV when `setFlags`. */
export function addWithCarry32(x: u64, y: u64, carry: u64, setFlags: bool): u64 {
  const wide = (x & 0xffff_ffff) + (y & 0xffff_ffff) + carry;
  const result = wide & 0xffff_ffff;
  if (setFlags) {
    const c = <u32>(wide >> 32);
    const v = (<u32>(((x ^ result) & (y ^ result)) >> 31)) & 1;
    nzcv = ((<u32>(result >> 31)) << 31) | (result == 0 ? 1 << 30 : 0) | (c << 29) | (v << 28);
  }
  return result;
}

/** Sets N and Z from a logical result, clearing C and V. */
export function setLogicalFlags(result: u64, sixtyFour: bool): void {
  const n = sixtyFour ? <u32>(result >> 63) : (<u32>(result >> 31)) & 1;
  nzcv = (n << 31) | (result == 0 ? 1 << 30 : 0);
}

/**
 * ConditionHolds on the current NZCV: bit `nzcv` of the cond-th halfword of
 * CONDITION_TABLE says whether condition `cond` holds for those flags.
 */
export function conditionHolds(cond: u32): bool {
  return ((load<u16>(CONDITION_TABLE + ((<usize>cond) << 1)) >> (nzcv >> 28)) & 1) != 0;
}

/** Fills CONDITION_TABLE from the ARM ARM's ConditionHolds() pseudocode. */
export function initConditionTable(): void {
  for (let cond: u32 = 0; cond < 16; cond++) {
    let bits: u32 = 0;
    for (let flags: u32 = 0; flags < 16; flags++) {
      const n = (flags >> 3) & 1;
      const z = (flags >> 2) & 1;
      const c = (flags >> 1) & 1;
      const v = flags & 1;
      let result: bool;
      switch (cond >> 1) {
        case 0:
          result = z != 0;
          break;
        case 1:
          result = c != 0;
          break;
        case 2:
          result = n != 0;
          break;
        case 3:
          result = v != 0;
          break;
        case 4:
          result = c != 0 && z == 0;
          break;
        case 5:
          result = n == v;
          break;
        case 6:
          result = n == v && z == 0;
          break;
        default:
          result = true;
          break;
      }
      if (cond & 1 && cond != 15) result = !result;
      if (result) bits |= 1 << flags;
    }
    store<u16>(CONDITION_TABLE + ((<usize>cond) << 1), <u16>bits);
  }
}

/** Masks of DecodeBitMasks(); `bitMasksValid` is false for reserved encodings. */
export let wmask: u64 = 0;
export let tmask: u64 = 0;
export let bitMasksValid: bool = false;

function replicate(elem: u64, esize: u32): u64 {
  let v = elem;
  for (let size = esize; size < 64; size <<= 1) v |= v << size;
  return v;
}

function ones(n: u32): u64 {
  return n >= 64 ? ~(<u64>0) : ((<u64>1) << n) - 1;
}

function rorElem(v: u64, r: u32, esize: u32): u64 {
  if (r == 0) return v;
  const mask = ones(esize);
  return ((v >> r) | (v << (esize - r))) & mask;
}

/** DecodeBitMasks(N, imms, immr, immediate) from the ARM ARM. */
export function decodeBitMasks(n: u32, imms: u32, immr: u32, immediate: bool): void {
  const combined = (n << 6) | (~imms & 0x3f);
  bitMasksValid = false;
  if (combined == 0) return;
  const len = 31 - clz<u32>(combined);
  if (len < 1) return;
  const levels = (1 << len) - 1;
  if (immediate && (imms & levels) == levels) return;
  const s = imms & levels;
  const r = immr & levels;
  const d = (s - r) & levels;
  const esize: u32 = 1 << len;
  const welem = ones(s + 1);
  const telem = ones(d + 1);
  wmask = replicate(rorElem(welem, r, esize), esize);
  tmask = replicate(telem, esize);
  bitMasksValid = true;
}

/**
 * The bitmask immediate of a logical instruction (N:immr:imms), or 0 for a reserved
 * encoding (no valid bitmask immediate is 0). Results are memoised in
 * LOGICAL_IMMEDIATE_CACHE, where 0 means "not computed yet".
 */
export function bitmaskImmediate(n: u32, immr: u32, imms: u32): u64 {
  const slot = LOGICAL_IMMEDIATE_CACHE + ((<usize>((n << 12) | (immr << 6) | imms)) << 3);
  const cached = load<u64>(slot);
  if (cached != 0) return cached;
  decodeBitMasks(n, imms, immr, true);
  if (!bitMasksValid) return 0;
  store<u64>(slot, wmask);
  return wmask;
}

/** High 64 bits of the unsigned 128-bit product. */
export function umulh(a: u64, b: u64): u64 {
  const aLo = a & 0xffff_ffff;
  const aHi = a >> 32;
  const bLo = b & 0xffff_ffff;
  const bHi = b >> 32;
  const ll = aLo * bLo;
  const lh = aLo * bHi;
  const hl = aHi * bLo;
  const hh = aHi * bHi;
  const mid = (ll >> 32) + (lh & 0xffff_ffff) + (hl & 0xffff_ffff);
  return hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/** High 64 bits of the signed 128-bit product. */
export function smulh(a: u64, b: u64): u64 {
  let hi = umulh(a, b);
  if (<i64>a < 0) hi -= b;
  if (<i64>b < 0) hi -= a;
  return hi;
}
