// Stage-1 (EL1&0, 4 KiB granule) and stage-2 translation, the ASID-tagged TLB
// and the fast translation cache that memory-access.ts probes.
import {
  FAST_BASE,
  FAST_ENTRIES,
  FAST_TABLE_SIZE,
  TLB_BASE,
  TLB_ENTRIES,
  TLB_ENTRY_SIZE,
  STAGE2_BASE,
  STAGE2_TABLE_SIZE,
} from "./layout";
import { accessFaulted, markAccessFaulted, TranslatedAccess } from "./memory-access";
import {
  pc,
  nextPc,
  currentEl,
  currentInsn,
  sr,
  SCTLR_EL1,
  TCR_EL1,
  TTBR0_EL1,
  TTBR1_EL1,
  MAIR_EL1,
  GICV_BASE,
  VMID,
} from "./state";
import { dataAbortToGuest, instructionAbortToGuest } from "./exceptions";
import { raiseExit, exitEsr, exitFar, exitIpa, exitInsn, EXIT_STAGE2_ABORT } from "./exits";
import { instructionSyndrome } from "./syndrome";
import { gicvRead, gicvWrite, GICV_SIZE } from "./gic";
import { watchpointsArmed, watchpointHit } from "./debug";

export const ACCESS_READ: u32 = 0;
export const ACCESS_WRITE: u32 = 1;
export const ACCESS_FETCH: u32 = 2;

// Fault status codes (DFSC/IFSC) before the level is added.
const FSC_ADDRESS_SIZE: u32 = 0x00;
const FSC_TRANSLATION: u32 = 0x04;
const FSC_ACCESS_FLAG: u32 = 0x08;
const FSC_PERMISSION: u32 = 0x0c;
export const FSC_ALIGNMENT: u32 = 0x21;

// Stage-2 table entry: PA[31:12] | flags.
export const S2_READ: u32 = 1;
export const S2_WRITE: u32 = 2;
export const S2_EXECUTE: u32 = 4;
export const S2_DEVICE: u32 = 8;
export const S2_VALID: u32 = 16;

// Permission bits of a translation, as kept in TLB entries.
const P_EL1_READ: u32 = 1 << 0;
const P_EL1_WRITE: u32 = 1 << 1;
const P_EL1_EXEC: u32 = 1 << 2;
const P_EL0_READ: u32 = 1 << 3;
const P_EL0_WRITE: u32 = 1 << 4;
const P_EL0_EXEC: u32 = 1 << 5;
const T_DEVICE: u32 = 1 << 6;
const T_GLOBAL: u32 = 1 << 7;
const T_BLOCK: u32 = 1 << 8;

/** Tag bit marking a fast-cache entry for device-type RAM: only aligned accesses may use it. */
const DEVICE_TAG: u64 = 1 << 62;
const INVALID_TAG: u64 = ~(<u64>0);
const FAST_MASK: u64 = <u64>(FAST_ENTRIES - 1);
const TLB_MASK: u64 = <u64>(TLB_ENTRIES - 1);

export let ramBase: u64 = 0;
export let ramSize: u64 = 0;
export let ramOffset: u64 = 0;

export let fastReadBase: usize = FAST_BASE;
export let fastWriteBase: usize = FAST_BASE + FAST_TABLE_SIZE;
export let fastFetchBase: usize = FAST_BASE + 2 * FAST_TABLE_SIZE;

let stage2Table: usize = STAGE2_BASE;

/** The page of the last instruction fetch and its host addend (host = pc + fetchAddend). */
export let fetchPage: u64 = INVALID_TAG;
export let fetchAddend: u64 = 0;
let blockEntries: u32 = 0;

// Result of the last successful translate().
let outPa: u64 = 0;
let outIpa: u64 = 0;
let outDevice: bool = false;
let outS2: u32 = 0;

// Result of the last stage-1 lookup.
let s1Ipa: u64 = 0;
let s1Flags: u32 = 0;
let s1Level: u32 = 0;
let s1Fault: u32 = 0; // FSC | level, valid when s1Failed
let s1Failed: bool = false;
let s1Stage2Fault: bool = false; // a table walk hit a stage-2 fault (already raised as an exit)

export function configureMemory(base: u64, size: u64, offset: u64): void {
  ramBase = base;
  ramSize = size;
  ramOffset = offset;
}

/** Selects the stage-2 table of a VM and the fast-cache tables of the current EL. */
export function onTranslationRegimeChange(): void {
  stage2Table = STAGE2_BASE + <usize>(sr(VMID) & 7) * STAGE2_TABLE_SIZE;
  const el = <usize>currentEl;
  fastReadBase = FAST_BASE + (el * 3 + 0) * FAST_TABLE_SIZE;
  fastWriteBase = FAST_BASE + (el * 3 + 1) * FAST_TABLE_SIZE;
  fastFetchBase = FAST_BASE + (el * 3 + 2) * FAST_TABLE_SIZE;
  fetchPage = INVALID_TAG;
}

export function invalidateFetchPage(): void {
  fetchPage = INVALID_TAG;
}

export function flushFastCache(): void {
  memory.fill(FAST_BASE, 0xff, FAST_TABLE_SIZE * 6);
  fetchPage = INVALID_TAG;
}

export function flushTlb(): void {
  memory.fill(TLB_BASE, 0xff, <usize>TLB_ENTRIES * TLB_ENTRY_SIZE);
  blockEntries = 0;
  flushFastCache();
}

function currentAsid(): u32 {
  const tcr = sr(TCR_EL1);
  const ttbr = (tcr >> 22) & 1 ? sr(TTBR1_EL1) : sr(TTBR0_EL1);
  const asid = <u32>(ttbr >> 48);
  return (tcr >> 36) & 1 ? asid : asid & 0xff;
}

// ---- TLB maintenance ----

/** TLBI by VA: `all` ignores the ASID (VAA*), otherwise global entries and those of `asid` go. */
export function tlbiByVa(operand: u64, asid: u32, allAsids: bool): void {
  const page44 = operand & 0xfff_ffff_ffff;
  const index = <usize>(page44 & TLB_MASK);
  const e = TLB_BASE + index * TLB_ENTRY_SIZE;
  const tag = load<u64>(e);
  if (tag != INVALID_TAG && (tag & 0xfff_ffff_ffff) == page44) {
    const flags = load<u32>(e, 12);
    if (allAsids || flags & T_GLOBAL || <u32>load<u16>(e, 20) == asid) store<u64>(e, INVALID_TAG);
  }
  if (blockEntries) dropBlockEntries();
  invalidateFastPage(page44);
}

export function tlbiByAsid(asid: u32): void {
  for (let i: usize = 0; i < <usize>TLB_ENTRIES; i++) {
    const e = TLB_BASE + i * TLB_ENTRY_SIZE;
    if (!(load<u32>(e, 12) & T_GLOBAL) && <u32>load<u16>(e, 20) == asid) store<u64>(e, INVALID_TAG);
  }
  flushFastCache();
}

function dropBlockEntries(): void {
  for (let i: usize = 0; i < <usize>TLB_ENTRIES; i++) {
    const e = TLB_BASE + i * TLB_ENTRY_SIZE;
    if (load<u32>(e, 12) & T_BLOCK) store<u64>(e, INVALID_TAG);
  }
  blockEntries = 0;
  flushFastCache();
}

function invalidateFastPage(page44: u64): void {
  const index = (<usize>(page44 & FAST_MASK)) << 4;
  for (let t: usize = 0; t < 6; t++) store<u64>(FAST_BASE + t * FAST_TABLE_SIZE + index, INVALID_TAG);
  fetchPage = INVALID_TAG;
}

// ---- Stage 2 ----

export function mapStage2(vmid: u32, ipa: u64, pa: u64, size: u64, flags: u32): void {
  const table = STAGE2_BASE + <usize>(vmid & 7) * STAGE2_TABLE_SIZE;
  for (let off: u64 = 0; off < size; off += 0x1000) {
    const page = <usize>((ipa + off) >> 12);
    store<u32>(table + (page << 2), flags ? (<u32>((pa + off) & 0xffff_f000)) | flags | S2_VALID : 0);
  }
  flushTlb();
}

function stage2Entry(ipa: u64): u32 {
  if (ipa >> 32) return 0;
  return load<u32>(stage2Table + ((<usize>(ipa >> 12)) << 2));
}

function isRam(pa: u64, size: u64): bool {
  return pa >= ramBase && pa + size <= ramBase + ramSize;
}

function hostAddress(pa: u64): usize {
  return <usize>(pa - ramBase + ramOffset);
}

/** Exits to the host with a stage-2 data or instruction abort. */
function stage2Abort(va: u64, ipa: u64, kind: u32, fsc: u32, s1ptw: bool): void {
  let esr: u32;
  if (kind == ACCESS_FETCH && !s1ptw) {
    esr = (0x20 << 26) | (1 << 25) | fsc;
  } else {
    esr = (0x24 << 26) | (1 << 25) | fsc | (kind == ACCESS_WRITE ? 1 << 6 : 0);
    if (s1ptw) esr |= 1 << 7;
    else esr |= instructionSyndrome(currentInsn);
  }
  raiseExit(EXIT_STAGE2_ABORT, 0);
  nextPc = pc;
  exitEsr = esr;
  exitFar = va;
  exitIpa = ipa;
  exitInsn = currentInsn;
  markAccessFaulted();
}

// ---- Stage 1 ----

function s1Fail(fsc: u32, level: u32): bool {
  s1Failed = true;
  s1Fault = fsc | level;
  return false;
}

/** Reads a translation table descriptor at an IPA, through stage 2. */
function readDescriptor(va: u64, ipa: u64, kind: u32, level: u32): u64 {
  const e = stage2Entry(ipa);
  const pa = (<u64>(e & 0xffff_f000)) | (ipa & 0xfff);
  if (!(e & S2_VALID) || !(e & S2_READ) || !isRam(pa, 8)) {
    stage2Abort(va, ipa, kind, e & S2_VALID ? FSC_PERMISSION | 3 : FSC_TRANSLATION | level, true);
    s1Stage2Fault = true;
    return 0;
  }
  return load<u64>(hostAddress(pa));
}

/** Walks the EL1&0 stage-1 tables for `va`; fills s1Ipa/s1Flags/s1Level or s1Fault. */
function walkStage1(va: u64, kind: u32): bool {
  s1Failed = false;
  s1Stage2Fault = false;
  const sctlr = sr(SCTLR_EL1);
  if (!(sctlr & 1)) {
    // MMU off: flat mapping; data accesses are Device-nGnRnE, fetches Normal.
    s1Ipa = va;
    s1Level = 0;
    s1Flags = P_EL1_READ | P_EL1_WRITE | P_EL1_EXEC | P_EL0_READ | P_EL0_WRITE | P_EL0_EXEC | T_GLOBAL;
    if (kind != ACCESS_FETCH) s1Flags |= T_DEVICE;
    if (va >> 40) return s1Fail(FSC_ADDRESS_SIZE, 0);
    return true;
  }
  const tcr = sr(TCR_EL1);
  const upper = (va >> 55) & 1;
  let tsz: u32;
  let tbi: u64;
  let epd: u64;
  let ttbr: u64;
  if (upper) {
    tsz = (<u32>(tcr >> 16)) & 63;
    tbi = (tcr >> 38) & 1;
    epd = (tcr >> 23) & 1;
    ttbr = sr(TTBR1_EL1);
  } else {
    tsz = (<u32>tcr) & 63;
    tbi = (tcr >> 37) & 1;
    epd = (tcr >> 7) & 1;
    ttbr = sr(TTBR0_EL1);
  }
  if (tsz < 16) tsz = 16;
  if (tsz > 39) tsz = 39;
  const vaBits = 64 - tsz;
  // Bits above the VA range must all equal bit 55 (bits 63:56 are ignored with TBI).
  const checkBits = tbi ? 56 - vaBits : 64 - vaBits;
  const checkMask = ((<u64>1) << checkBits) - 1;
  if (((va >> vaBits) & checkMask) != (upper ? checkMask : 0) || epd) return s1Fail(FSC_TRANSLATION, 0);
  let level = 3 - (vaBits - 13) / 9;
  let table = ttbr & 0x0000_ffff_ffff_ffc0;
  let apTable: u64 = 0;
  let uxnTable: u64 = 0;
  let pxnTable: u64 = 0;
  while (true) {
    const shift = 12 + 9 * (3 - level);
    const bits = level == 3 - (vaBits - 13) / 9 ? vaBits - shift : 9;
    const index = (va >> shift) & (((<u64>1) << bits) - 1);
    const desc = readDescriptor(va, table + index * 8, kind, level);
    if (s1Stage2Fault) return false;
    if (!(desc & 1)) return s1Fail(FSC_TRANSLATION, level);
    if (level < 3 && desc & 2) {
      apTable |= (desc >> 61) & 3;
      uxnTable |= (desc >> 60) & 1;
      pxnTable |= (desc >> 59) & 1;
      table = desc & 0x0000_ffff_ffff_f000;
      level++;
      continue;
    }
    if (level == 3 && !(desc & 2)) return s1Fail(FSC_TRANSLATION, 3);
    if (level == 0) return s1Fail(FSC_TRANSLATION, 0);
    const offsetMask = ((<u64>1) << shift) - 1;
    const oa = (desc & 0x0000_ffff_ffff_f000 & ~offsetMask) | (va & offsetMask);
    if (oa >> 40) return s1Fail(FSC_ADDRESS_SIZE, level);
    if (!(desc & (1 << 10))) return s1Fail(FSC_ACCESS_FLAG, level);
    const attr = (<u32>(sr(MAIR_EL1) >> (((desc >> 2) & 7) * 8))) & 0xff;
    let ap = (desc >> 6) & 3;
    if (apTable & 1) ap &= 2; // no EL0 access
    if (apTable & 2) ap |= 2; // read-only
    const pxn = ((desc >> 53) & 1) | pxnTable;
    const uxn = ((desc >> 54) & 1) | uxnTable;
    const wxn = (sctlr >> 19) & 1;
    let flags: u32 = P_EL1_READ;
    if (!(ap & 2)) flags |= P_EL1_WRITE;
    if (ap & 1) {
      flags |= P_EL0_READ;
      if (!(ap & 2)) flags |= P_EL0_WRITE;
    }
    // EL0-writable memory is never executable at EL1; WXN makes writable memory execute-never.
    if (!pxn && !(flags & P_EL0_WRITE) && !(wxn && flags & P_EL1_WRITE)) flags |= P_EL1_EXEC;
    if (!uxn && !(wxn && flags & P_EL0_WRITE)) flags |= P_EL0_EXEC;
    if ((attr & 0xf0) == 0) flags |= T_DEVICE;
    if (!((desc >> 11) & 1)) flags |= T_GLOBAL;
    if (level < 3) flags |= T_BLOCK;
    s1Ipa = oa;
    s1Flags = flags;
    s1Level = level;
    return true;
  }
  return false;
}

/** Stage 1 through the TLB: fills s1Ipa/s1Flags/s1Level, or fails. */
function lookupStage1(va: u64, kind: u32): bool {
  if (!(sr(SCTLR_EL1) & 1)) return walkStage1(va, kind);
  const page = va >> 12;
  const e = TLB_BASE + <usize>(page & TLB_MASK) * TLB_ENTRY_SIZE;
  const asid = currentAsid();
  if (load<u64>(e) == page) {
    const flags = load<u32>(e, 12);
    if (flags & T_GLOBAL || <u32>load<u16>(e, 20) == asid) {
      s1Ipa = ((<u64>load<u32>(e, 8)) << 12) | (va & 0xfff);
      s1Flags = flags;
      s1Level = <u32>load<u8>(e, 22);
      s1Failed = false;
      s1Stage2Fault = false;
      return true;
    }
  }
  if (!walkStage1(va, kind)) return false;
  store<u64>(e, page);
  store<u32>(e, <u32>(s1Ipa >> 12), 8);
  store<u32>(e, s1Flags, 12);
  store<u16>(e, <u16>asid, 20);
  store<u8>(e, <u8>s1Level, 22);
  if (s1Flags & T_BLOCK) blockEntries++;
  return true;
}

function permitted(flags: u32, kind: u32, el: u32): bool {
  const need = kind == ACCESS_READ ? P_EL1_READ : kind == ACCESS_WRITE ? P_EL1_WRITE : P_EL1_EXEC;
  return (flags & (el ? need : need << 3)) != 0;
}

/** Raises the guest fault for a failed stage-1 lookup. */
function raiseStage1Fault(va: u64, kind: u32): void {
  if (!s1Stage2Fault) {
    if (kind == ACCESS_FETCH) instructionAbortToGuest(va, s1Fault);
    else dataAbortToGuest(va, s1Fault, kind == ACCESS_WRITE, false);
  }
  markAccessFaulted();
}

/**
 * Full translation of one access of `size` bytes (1 for fetches) at privilege `el`. On success sets outPa, outIpa,
 * outDevice, outS2 and returns true; otherwise the guest exception or the
 * stage-2 exit has been raised. GICV accesses return true with outS2 = 0.
 */
function translate(va: u64, kind: u32, el: u32, size: u32, zeroingBlock: bool = false): bool {
  if (!lookupStage1(va, kind)) {
    raiseStage1Fault(va, kind);
    return false;
  }
  if (!permitted(s1Flags, kind, el)) {
    s1Fault = FSC_PERMISSION | s1Level;
    s1Stage2Fault = false;
    raiseStage1Fault(va, kind);
    return false;
  }
  // Unaligned accesses (and DC ZVA) to stage-1 Device memory fault at the end of stage 1, before stage 2.
  if (s1Flags & T_DEVICE && (zeroingBlock || misaligned(va, size))) {
    alignmentFaultAt(va, kind == ACCESS_WRITE);
    return false;
  }
  const ipa = s1Ipa;
  outIpa = ipa;
  const gicv = sr(GICV_BASE);
  if (kind != ACCESS_FETCH && ipa - gicv < <u64>GICV_SIZE) {
    outS2 = 0;
    outDevice = true;
    return true;
  }
  const e = stage2Entry(ipa);
  if (!(e & S2_VALID)) {
    stage2Abort(va, ipa, kind, FSC_TRANSLATION | 3, false);
    return false;
  }
  const need = kind == ACCESS_READ ? S2_READ : kind == ACCESS_WRITE ? S2_WRITE : S2_EXECUTE;
  if (!(e & need)) {
    stage2Abort(va, ipa, kind, FSC_PERMISSION | 3, false);
    return false;
  }
  outPa = (<u64>(e & 0xffff_f000)) | (ipa & 0xfff);
  outS2 = e;
  outDevice = (s1Flags & T_DEVICE) != 0 || (e & S2_DEVICE) != 0;
  return true;
}

function fillFast(base: usize, va: u64): void {
  if (sr(SCTLR_EL1) & 2) return; // alignment checking: every access takes the slow path
  if (watchpointsArmed) return; // every access is checked against the watchpoints
  const page = va >> 12;
  const entry = base + ((<usize>(page & FAST_MASK)) << 4);
  store<u64>(entry, outDevice ? page | DEVICE_TAG : page);
  store<u64>(entry, <u64>hostAddress(outPa & ~0xfff) - (va & ~0xfff), 8);
}

/** Raises an alignment fault (DFSC 0x21) to the guest for a data access. */
export function alignmentFaultAt(va: u64, write: bool): void {
  dataAbortToGuest(va, FSC_ALIGNMENT, write, false);
  markAccessFaulted();
}

/** True when `va` is not a multiple of `size` (a power of two). */
function misaligned(va: u64, size: u32): bool {
  return (va & (<u64>size - 1)) != 0;
}

/** Loads `size` bytes (1, 2, 4 or 8) from a host address. */
export function loadHost(host: usize, size: u32): u64 {
  if (size == 1) return <u64>load<u8>(host);
  if (size == 2) return <u64>load<u16>(host);
  if (size == 4) return <u64>load<u32>(host);
  return load<u64>(host);
}

/** Stores the low `size` bytes (1, 2, 4 or 8) of v at a host address. */
export function storeHost(host: usize, size: u32, v: u64): void {
  if (size == 1) store<u8>(host, <u8>v);
  else if (size == 2) store<u16>(host, <u16>v);
  else if (size == 4) store<u32>(host, <u32>v);
  else store<u64>(host, v);
}

/** Looks for a device-type fast entry: returns the host address, or 0. */
function probeDevice(base: usize, va: u64): usize {
  const page = va >> 12;
  const entry = base + ((<usize>(page & FAST_MASK)) << 4);
  if (load<u64>(entry) == (page | DEVICE_TAG)) return <usize>(va + load<u64>(entry, 8));
  return 0;
}

function crossesPage(va: u64, size: u32): bool {
  return (va & 0xfff) + <u64>size > 0x1000;
}

/** Translates a data access and checks it may go to RAM; returns the host address or 0. */
function dataAccess(va: u64, size: u32, kind: u32, el: u32): usize {
  // SCTLR_EL1.A is checked before translation, Device alignment after stage 1, stage-2 Device after both.
  if (sr(SCTLR_EL1) & 2 && misaligned(va, size)) {
    alignmentFaultAt(va, kind == ACCESS_WRITE);
    return 0;
  }
  if (!translate(va, kind, el, size)) return 0;
  if (outDevice) {
    if (misaligned(va, size)) {
      alignmentFaultAt(va, kind == ACCESS_WRITE);
      return 0;
    }
  }
  if (outS2 == 0) return 0; // GICV: the caller emulates it
  if (!isRam(outPa, <u64>size)) {
    // Device space outside RAM: the host emulates it.
    stage2Abort(va, outIpa, kind, FSC_TRANSLATION | 3, false);
    return 0;
  }
  return hostAddress(outPa);
}

let unprivileged: bool = false;

function accessEl(): u32 {
  return unprivileged ? 0 : currentEl;
}

export function readSlow(va: u64, size: u32): u64 {
  if (watchpointsArmed && watchpointHit(va, size, false, accessEl(), false)) return 0;
  const dev = probeDevice(fastReadBase, va);
  if (dev && !misaligned(va, size)) return loadHost(dev, size);
  if (crossesPage(va, size)) return readCrossing(va, size);
  const el = accessEl();
  const host = dataAccess(va, size, ACCESS_READ, el);
  if (!host) {
    if (!accessFaulted) return gicvRead(<u32>(outIpa - sr(GICV_BASE)), size);
    return 0;
  }
  fillFast(fastReadBase, va);
  return loadHost(host, size);
}

export function writeSlow(va: u64, size: u32, v: u64): void {
  if (watchpointsArmed && watchpointHit(va, size, true, accessEl(), false)) return;
  const dev = probeDevice(fastWriteBase, va);
  if (dev && !misaligned(va, size)) {
    storeHost(dev, size, v);
    return;
  }
  if (crossesPage(va, size)) {
    writeCrossing(va, size, v);
    return;
  }
  const el = accessEl();
  const host = dataAccess(va, size, ACCESS_WRITE, el);
  if (!host) {
    if (!accessFaulted) gicvWrite(<u32>(outIpa - sr(GICV_BASE)), size, v);
    return;
  }
  fillFast(fastWriteBase, va);
  storeHost(host, size, v);
}

/** Unaligned access spanning two pages: both pages must translate before any byte moves. */
function readCrossing(va: u64, size: u32): u64 {
  const el = accessEl();
  const second = (va + <u64>size) & ~(<u64>0xfff);
  const firstHost = dataAccess(va, 1, ACCESS_READ, el);
  if (!firstHost) return crossingFailed(va, ACCESS_READ);
  if (outDevice) return crossingAlignment(va, false);
  const secondHost = dataAccess(second, 1, ACCESS_READ, el);
  if (!secondHost) return crossingFailed(va, ACCESS_READ);
  if (outDevice) return crossingAlignment(va, false);
  let v: u64 = 0;
  for (let i: u32 = 0; i < size; i++) {
    const a = va + <u64>i;
    const b = a < second ? firstHost + <usize>i : secondHost + <usize>(a - second);
    v |= (<u64>load<u8>(b)) << (<u64>i * 8);
  }
  return v;
}

function writeCrossing(va: u64, size: u32, v: u64): void {
  const el = accessEl();
  const second = (va + <u64>size) & ~(<u64>0xfff);
  const firstHost = dataAccess(va, 1, ACCESS_WRITE, el);
  if (!firstHost) {
    crossingFailed(va, ACCESS_WRITE);
    return;
  }
  if (outDevice) {
    crossingAlignment(va, true);
    return;
  }
  const secondHost = dataAccess(second, 1, ACCESS_WRITE, el);
  if (!secondHost) {
    crossingFailed(va, ACCESS_WRITE);
    return;
  }
  if (outDevice) {
    crossingAlignment(va, true);
    return;
  }
  for (let i: u32 = 0; i < size; i++) {
    const a = va + <u64>i;
    const b = a < second ? firstHost + <usize>i : secondHost + <usize>(a - second);
    store<u8>(b, <u8>(v >> (<u64>i * 8)));
  }
}

function crossingFailed(va: u64, kind: u32): u64 {
  // A GICV page cannot take part in a page-crossing access: it is reported like device space.
  if (!accessFaulted) stage2Abort(va, outIpa, kind, FSC_TRANSLATION | 3, false);
  return 0;
}

function crossingAlignment(va: u64, write: bool): u64 {
  alignmentFaultAt(va, write);
  return 0;
}

/**
 * Translates `va` for instruction fetch and makes its page the current fetch
 * page; returns false after raising the fault.
 */
export function fetchMiss(va: u64): bool {
  const page = va >> 12;
  const entry = fastFetchBase + ((<usize>(page & FAST_MASK)) << 4);
  if (load<u64>(entry) == page) {
    fetchPage = page;
    fetchAddend = load<u64>(entry, 8);
    return true;
  }
  if (!translate(va, ACCESS_FETCH, currentEl, 1)) return false;
  if (!isRam(outPa, 4)) {
    stage2Abort(va, outIpa, ACCESS_FETCH, FSC_TRANSLATION | 3, false);
    return false;
  }
  fetchPage = page;
  fetchAddend = <u64>hostAddress(outPa & ~0xfff) - (va & ~0xfff);
  store<u64>(entry, page);
  store<u64>(entry, fetchAddend, 8);
  return true;
}

/**
 * Host address of a naturally aligned RAM access (exclusives, DC ZVA), or 0 after
 * raising the fault. Device space and GICV give a stage-2 abort without syndrome.
 */
export function translateForHost(va: u64, size: u32, write: bool): usize {
  // The translation cache as for loads and stores (a hit is a RAM page this EL may access), filled
  // on a miss; the JIT's exclusives probe the same cache, so both tiers translate alike.
  const base = write ? fastWriteBase : fastReadBase;
  const fast = TranslatedAccess.probe(base, va, <u64>size);
  if (fast) return fast;
  const kind = write ? ACCESS_WRITE : ACCESS_READ;
  if (watchpointsArmed && watchpointHit(va, size, write, currentEl, false)) return 0;
  const host = dataAccess(va, size, kind, currentEl);
  if (!host && !accessFaulted) {
    // The GICV region cannot be used by exclusives or DC ZVA.
    stage2Abort(va, outIpa, kind, FSC_TRANSLATION | 3, false);
  }
  if (host) fillFast(base, va);
  return host;
}

/** AT S1E1R/W, S1E0R/W: stage-1 translation into PAR_EL1's format. */
export function addressTranslate(va: u64, write: bool, el: u32): u64 {
  const kind = write ? ACCESS_WRITE : ACCESS_READ;
  if (!lookupStage1(va, kind)) {
    if (s1Stage2Fault) return 0;
    return 1 | ((<u64>s1Fault) << 1);
  }
  if (!permitted(s1Flags, kind, el)) return 1 | ((<u64>(FSC_PERMISSION | s1Level)) << 1);
  const attr = s1Flags & T_DEVICE ? 0 : 0xff;
  return ((<u64>attr) << 56) | (s1Ipa & 0x0000_ffff_ffff_f000) | (s1Flags & T_DEVICE ? 0 : 3 << 7);
}

/** DC ZVA: zeroes an aligned block; device memory gives an alignment fault. */
export function zeroBlock(va: u64, size: u32): void {
  // The write translation cache as for stores, filled on a miss (the JIT's DC ZVA probes it too).
  const fast = TranslatedAccess.probe(fastWriteBase, va, <u64>size);
  if (fast) {
    memory.fill(fast, 0, size);
    return;
  }
  if (watchpointsArmed && watchpointHit(va, size, true, currentEl, false)) return;
  if (!translate(va, ACCESS_WRITE, currentEl, size, true)) return;
  if (outDevice) {
    alignmentFaultAt(va, true);
    return;
  }
  if (outS2 == 0 || !isRam(outPa, <u64>size)) {
    stage2Abort(va, outIpa, ACCESS_WRITE, FSC_TRANSLATION | 3, false);
    return;
  }
  fillFast(fastWriteBase, va);
  memory.fill(hostAddress(outPa), 0, size);
}

/** LDTR/STTR at EL1: the accesses in between use EL0 permissions and EL0's fast-cache tables. */
export function beginUnprivileged(): void {
  unprivileged = true;
  fastReadBase = FAST_BASE;
  fastWriteBase = FAST_BASE + FAST_TABLE_SIZE;
}

export function endUnprivileged(): void {
  unprivileged = false;
  onTranslationRegimeChange();
}
