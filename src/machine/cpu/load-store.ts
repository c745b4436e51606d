// A64 loads and stores of general-purpose registers: single registers in every
// addressing mode, literals, pairs, exclusives and load-acquire/store-release.
import { getX, setX, getXSP, setXSP } from "./registers";
import { pc, currentEl, sr, SCTLR_EL1 } from "./state";
import { TranslatedAccess, accessFaulted } from "./memory-access";
import {
  translateForHost,
  beginUnprivileged,
  endUnprivileged,
  alignmentFaultAt,
  loadHost,
  storeHost,
} from "./mmu";
import { syncException, EC_SP_ALIGNMENT } from "./exceptions";
import { extendReg } from "./data-processing-register";
import { setExclusiveMonitor, checkAndClearExclusiveMonitor } from "./exclusive-monitor";

/** Base register value; with SP as the base, checks SCTLR_EL1.SA/SA0. Returns false after a fault. */
let baseAddress: u64 = 0;
function readBase(rn: u32): bool {
  const base = getXSP(rn);
  if (rn == 31 && base & 15) {
    const check = currentEl == 0 ? (sr(SCTLR_EL1) >> 4) & 1 : (sr(SCTLR_EL1) >> 3) & 1;
    if (check) {
      syncException(EC_SP_ALIGNMENT, 0);
      return false;
    }
  }
  baseAddress = base;
  return true;
}

/** Sign- or zero-extends a loaded value per opc (bits 23:22) for a register load. */
function extendLoaded(v: u64, size: u32, signed: bool, to64: bool): u64 {
  if (!signed) return v;
  let s: u64;
  if (size == 0) s = <u64>(<i64>(<i8>v));
  else if (size == 1) s = <u64>(<i64>(<i16>v));
  else s = <u64>(<i64>(<i32>v));
  return to64 ? s : s & 0xffff_ffff;
}

/** Single-register loads and stores whose size and opc a decoded form (execute.ts) may fix. */
export class RegisterTransfer {
  /**
   * Performs a single-register load or store at `va`. opc: 0 store, 1 load,
   * 2 load signed to 64 bits, 3 load signed to 32 bits. Returns false after a fault.
   */
  @inline
  static transfer(va: u64, size: u32, opc: u32, rt: u32): bool {
    if (opc == 0) {
      TranslatedAccess.write(va, size, getX(rt));
      return !accessFaulted;
    }
    const v = TranslatedAccess.read(va, size);
    if (accessFaulted) return false;
    setX(rt, extendLoaded(v, size, opc >= 2, opc == 2));
    return true;
  }

  /** LDR/STR/PRFM (unsigned offset); false for unallocated size/opc pairs. */
  @inline
  static unsignedOffset(insn: u32, size: u32, opc: u32): bool {
    const kind = classify(size, opc);
    if (kind == 2) return false;
    if (kind == 1) return true; // PRFM
    const rn = (insn >> 5) & 31;
    if (!readBase(rn)) return true;
    const va = baseAddress + ((<u64>((insn >> 10) & 0xfff)) << size);
    RegisterTransfer.transfer(va, size, opc, insn & 31);
    return true;
  }

  /** LDR/STR/PRFM (register offset); false for unallocated encodings. */
  @inline
  static registerOffset(insn: u32, size: u32, opc: u32): bool {
    if (((insn >> 10) & 3) != 2) return false; // atomic memory operations (LSE) and PAC loads
    const option = (insn >> 13) & 7;
    if (!(option & 2)) return false;
    const kind = classify(size, opc);
    if (kind == 2) return false;
    if (kind == 1) return true;
    const shift: u64 = (insn >> 12) & 1 ? <u64>size : 0;
    const offset = extendReg(getX((insn >> 16) & 31), option, shift);
    if (!readBase((insn >> 5) & 31)) return true;
    RegisterTransfer.transfer(baseAddress + offset, size, opc, insn & 31);
    return true;
  }
}

/** RegisterTransfer.transfer as a call, for the unscaled, indexed, unprivileged and acquire/release forms. */
function transfer(va: u64, size: u32, opc: u32, rt: u32): bool {
  return RegisterTransfer.transfer(va, size, opc, rt);
}

/** Checks size/opc of a register load/store: 0 ok, 1 prefetch, 2 unallocated. */
function classify(size: u32, opc: u32): u32 {
  if (opc < 2) return 0;
  if (size == 3) return opc == 2 ? 1 : 2;
  if (size == 2 && opc == 3) return 2;
  return 0;
}

export function executeLoadStore(insn: u32): bool {
  const op = (insn >> 24) & 0x3b; // bits 29:24 without V
  if (op == 0x08) return exclusiveOrOrdered(insn);
  if (op == 0x18) return loadLiteral(insn);
  if ((op & 0x38) == 0x28) return pair(insn);
  if (op == 0x39) return unsignedOffset(insn);
  if (op == 0x38) return (insn >> 21) & 1 ? registerOffset(insn) : unscaledOrIndexed(insn);
  return false;
}

function loadLiteral(insn: u32): bool {
  const opc = insn >> 30;
  const offset = <u64>((<i64>(<i32>(((insn >> 5) & 0x7ffff) << 13))) >> 11);
  const va = pc + offset;
  if (opc == 3) return true; // PRFM (literal)
  const size: u32 = opc == 1 ? 3 : 2;
  const v = TranslatedAccess.read(va, size);
  if (accessFaulted) return true;
  setX(insn & 31, opc == 2 ? <u64>(<i64>(<i32>v)) : v);
  return true;
}

function unsignedOffset(insn: u32): bool {
  return RegisterTransfer.unsignedOffset(insn, insn >> 30, (insn >> 22) & 3);
}

function unscaledOrIndexed(insn: u32): bool {
  const size = insn >> 30;
  const opc = (insn >> 22) & 3;
  const mode = (insn >> 10) & 3;
  const imm = <u64>(<i64>((<i32>(((insn >> 12) & 0x1ff) << 23)) >> 23));
  const kind = classify(size, opc);
  if (kind == 2) return false;
  if (kind == 1) return mode == 0; // PRFUM; no prefetch with writeback or unprivileged
  const rn = (insn >> 5) & 31;
  const rt = insn & 31;
  if (!readBase(rn)) return true;
  if (mode == 2) {
    // LDTR/STTR: EL0 permissions when executed at EL1
    if (currentEl == 1) beginUnprivileged();
    transfer(baseAddress + imm, size, opc, rt);
    if (currentEl == 1) endUnprivileged();
    return true;
  }
  const va = mode == 1 ? baseAddress : baseAddress + imm;
  if (opc == 0) {
    // Store: the value is read before the base is written back.
    TranslatedAccess.write(va, size, getX(rt));
    if (accessFaulted) return true;
    if (mode != 0) setXSP(rn, baseAddress + imm);
    return true;
  }
  const v = TranslatedAccess.read(va, size);
  if (accessFaulted) return true;
  if (mode != 0) setXSP(rn, baseAddress + imm);
  setX(rt, extendLoaded(v, size, opc >= 2, opc == 2));
  return true;
}

function registerOffset(insn: u32): bool {
  return RegisterTransfer.registerOffset(insn, insn >> 30, (insn >> 22) & 3);
}

function pair(insn: u32): bool {
  const opc = insn >> 30;
  const mode = (insn >> 23) & 3; // 0 no-allocate, 1 post, 2 offset, 3 pre
  const isLoad = ((insn >> 22) & 1) != 0;
  if (opc == 3 || (opc == 1 && (!isLoad || mode == 0))) return false; // STGP / LDPSW without allocate hint
  const size: u32 = opc == 2 ? 3 : 2;
  const scale = <u64>size;
  const imm = (<u64>(<i64>((<i32>(((insn >> 15) & 0x7f) << 25)) >> 25))) << scale;
  const rt = insn & 31;
  const rt2 = (insn >> 10) & 31;
  const rn = (insn >> 5) & 31;
  if (!readBase(rn)) return true;
  const va = mode == 1 ? baseAddress : baseAddress + imm;
  const bytes = (<u64>1) << scale;
  if (!isLoad) {
    const a = getX(rt);
    const b = getX(rt2);
    TranslatedAccess.write(va, size, a);
    if (accessFaulted) return true;
    TranslatedAccess.write(va + bytes, size, b);
    if (accessFaulted) return true;
  } else {
    let a = TranslatedAccess.read(va, size);
    if (accessFaulted) return true;
    let b = TranslatedAccess.read(va + bytes, size);
    if (accessFaulted) return true;
    if (opc == 1) {
      a = <u64>(<i64>(<i32>a));
      b = <u64>(<i64>(<i32>b));
    }
    if (mode == 1 || mode == 3) setXSP(rn, baseAddress + imm);
    setX(rt, a);
    setX(rt2, b);
    return true;
  }
  if (mode == 1 || mode == 3) setXSP(rn, baseAddress + imm);
  return true;
}

/** LDXR/STXR/LDXP/STXP (+ acquire/release forms), LDAR/STLR. */
function exclusiveOrOrdered(insn: u32): bool {
  const size = insn >> 30;
  const o2 = (insn >> 23) & 1;
  const isLoad = ((insn >> 22) & 1) != 0;
  const o1 = (insn >> 21) & 1;
  const rs = (insn >> 16) & 31;
  const o0 = (insn >> 15) & 1;
  const rt2 = (insn >> 10) & 31;
  const rn = (insn >> 5) & 31;
  const rt = insn & 31;
  if (o2) {
    // LDAR/STLR; LDLAR/STLLR (LOR) and CAS (LSE) are not implemented.
    if (o1 || !o0) return false;
    if (!readBase(rn)) return true;
    const va = baseAddress;
    if (va & (((<u64>1) << size) - 1)) {
      alignmentFaultAt(va, !isLoad);
      return true;
    }
    transfer(va, size, isLoad ? 1 : 0, rt);
    return true;
  }
  if (o1 && size < 2) return false; // CASP (LSE)
  // Pairs move two 32-bit (size 2) or two 64-bit (size 3) elements.
  const totalBytes: u32 = o1 ? 2 << size : 1 << size;
  if (!readBase(rn)) return true;
  const va = baseAddress;
  if (va & (<u64>(totalBytes - 1))) {
    alignmentFaultAt(va, !isLoad);
    return true;
  }
  const host = translateForHost(va, totalBytes, !isLoad);
  if (!host) return true;
  if (isLoad) {
    if (o1) {
      const a = size == 3 ? load<u64>(host) : <u64>load<u32>(host);
      const b = size == 3 ? load<u64>(host + 8) : <u64>load<u32>(host + 4);
      setX(rt, a);
      setX(rt2, b);
    } else {
      setX(rt, loadHost(host, 1 << size));
    }
    setExclusiveMonitor(host, totalBytes);
    return true;
  }
  const ok = checkAndClearExclusiveMonitor(host, totalBytes);
  if (ok) {
    if (o1) {
      if (size == 3) {
        store<u64>(host, getX(rt));
        store<u64>(host + 8, getX(rt2));
      } else {
        store<u32>(host, <u32>getX(rt));
        store<u32>(host + 4, <u32>getX(rt2));
      }
    } else {
      storeHost(host, 1 << size, getX(rt));
    }
  }
  setX(rs, ok ? 0 : 1);
  return true;
}
