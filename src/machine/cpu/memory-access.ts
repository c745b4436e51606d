// Guest virtual-address loads and stores for the running vCPU. The fast path is
// one probe of the translation cache (page tag compare + host-address load);
// everything else (walks, faults, device memory, page-crossing accesses) goes
// through the slow path in mmu.ts. The probe and the sized accesses are inlined
// into every caller so a hit costs no call (measured +13% on bench:cpu); they are
// static members because @inline on a class member is the only form of it that
// TypeScript tooling (Prettier, ESLint) also parses.
import { FAST_ENTRIES } from "./layout";
import { fastReadBase, fastWriteBase, readSlow, writeSlow } from "./mmu";

/** True when the last access faulted; the instruction must be abandoned. Cleared per instruction. */
export let accessFaulted: bool = false;

/** Called by the MMU when it has raised a guest exception or a stage-2 exit for an access. */
export function markAccessFaulted(): void {
  accessFaulted = true;
}

/** Cleared by the run loop before every instruction. */
export function clearAccessFaulted(): void {
  accessFaulted = false;
}

const INDEX_MASK: u64 = <u64>(FAST_ENTRIES - 1);

/** Translation-cache accesses inlined into their callers. */
export class TranslatedAccess {
  @inline
  static probe(base: usize, va: u64, size: u64): usize {
    const page = va >> 12;
    const entry = base + ((<usize>(page & INDEX_MASK)) << 4);
    if (load<u64>(entry) == page && (va & 0xfff) <= 0x1000 - size) return <usize>(va + load<u64>(entry, 8));
    return 0;
  }

  /** Load of 1 << log2Size bytes (the size field of a load/store), zero-extended. */
  @inline
  static read(va: u64, log2Size: u32): u64 {
    const host = TranslatedAccess.probe(fastReadBase, va, (<u64>1) << log2Size);
    if (!host) return readSlow(va, 1 << log2Size);
    if (log2Size == 3) return load<u64>(host);
    if (log2Size == 2) return <u64>load<u32>(host);
    if (log2Size == 1) return <u64>load<u16>(host);
    return <u64>load<u8>(host);
  }

  /** Store of the low 1 << log2Size bytes of v. */
  @inline
  static write(va: u64, log2Size: u32, v: u64): void {
    const host = TranslatedAccess.probe(fastWriteBase, va, (<u64>1) << log2Size);
    if (!host) writeSlow(va, 1 << log2Size, v);
    else if (log2Size == 3) store<u64>(host, v);
    else if (log2Size == 2) store<u32>(host, <u32>v);
    else if (log2Size == 1) store<u16>(host, <u16>v);
    else store<u8>(host, <u8>v);
  }
}

export function read8(va: u64): u64 {
  const host = TranslatedAccess.probe(fastReadBase, va, 1);
  return host ? <u64>load<u8>(host) : readSlow(va, 1);
}

export function read16(va: u64): u64 {
  const host = TranslatedAccess.probe(fastReadBase, va, 2);
  return host ? <u64>load<u16>(host) : readSlow(va, 2);
}

export function read32(va: u64): u64 {
  const host = TranslatedAccess.probe(fastReadBase, va, 4);
  return host ? <u64>load<u32>(host) : readSlow(va, 4);
}

export function read64(va: u64): u64 {
  const host = TranslatedAccess.probe(fastReadBase, va, 8);
  return host ? load<u64>(host) : readSlow(va, 8);
}

export function write8(va: u64, v: u64): void {
  const host = TranslatedAccess.probe(fastWriteBase, va, 1);
  if (host) store<u8>(host, <u8>v);
  else writeSlow(va, 1, v);
}

export function write16(va: u64, v: u64): void {
  const host = TranslatedAccess.probe(fastWriteBase, va, 2);
  if (host) store<u16>(host, <u16>v);
  else writeSlow(va, 2, v);
}

export function write32(va: u64, v: u64): void {
  const host = TranslatedAccess.probe(fastWriteBase, va, 4);
  if (host) store<u32>(host, <u32>v);
  else writeSlow(va, 4, v);
}

export function write64(va: u64, v: u64): void {
  const host = TranslatedAccess.probe(fastWriteBase, va, 8);
  if (host) store<u64>(host, v);
  else writeSlow(va, 8, v);
}
