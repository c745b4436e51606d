// SIMD&FP loads and stores: LDR/STR (B/H/S/D/Q in every addressing mode), LDR literal,
// LDP/STP/LDNP/STNP, and the Advanced SIMD structure loads and stores LD1–LD4/ST1–ST4
// (multiple structures, single structure and replicate, with post-index).
//
// Loads gather everything into a staging area before writing any register, so an access that
// faults part-way leaves the register file untouched, as the core's contract requires.
import { getX, getXSP, setXSP } from "../registers";
import {
  accessFaulted,
  read16,
  read32,
  read64,
  read8,
  write16,
  write32,
  write64,
  write8,
} from "../memory-access";
import { SCTLR_EL1, currentEl, pc, sr } from "../state";
import { EC_SP_ALIGNMENT, syncException } from "../exceptions";
import { setElem, vAddr } from "./state";

/** Sign-extends the low `bits` bits of v. */
function signExtend(v: u64, bits: u32): u64 {
  const s = <u64>(64 - bits);
  return <u64>((<i64>(v << s)) >> s);
}

/**
 * SP alignment checking (SCTLR_EL1.SA, or SA0 at EL0) for SP-based accesses; true when it raised
 * the SP alignment fault, after which the instruction does nothing more.
 * (The same rule as the core's general-register loads and stores, which keep theirs private.)
 */
function spAlignmentFault(n: u32, base: u64): bool {
  if (n != 31 || (base & 15) == 0) return false;
  const enabled = currentEl == 0 ? (sr(SCTLR_EL1) >> 4) & 1 : (sr(SCTLR_EL1) >> 3) & 1;
  if (!enabled) return false;
  syncException(EC_SP_ALIGNMENT, 0);
  return true;
}

// Staging area for up to 4 whole Q registers of loaded data.
const staging: usize = memory.data(64, 16);

/** Reads `bytes` (1–16) at va into dest; false when the access faulted. */
function readInto(dest: usize, va: u64, bytes: u32): bool {
  if (bytes == 16) {
    store<u64>(dest, read64(va));
    if (accessFaulted) return false;
    store<u64>(dest, read64(va + 8), 8);
  } else if (bytes == 8) store<u64>(dest, read64(va));
  else if (bytes == 4) store<u32>(dest, <u32>read32(va));
  else if (bytes == 2) store<u16>(dest, <u16>read16(va));
  else store<u8>(dest, <u8>read8(va));
  return !accessFaulted;
}

/** Writes `bytes` (1–16) from src to va; false when the access faulted. */
function writeFrom(src: usize, va: u64, bytes: u32): bool {
  if (bytes == 16) {
    write64(va, load<u64>(src));
    if (accessFaulted) return false;
    write64(va + 8, load<u64>(src, 8));
  } else if (bytes == 8) write64(va, load<u64>(src));
  else if (bytes == 4) write32(va, <u64>load<u32>(src));
  else if (bytes == 2) write16(va, <u64>load<u16>(src));
  else write8(va, <u64>load<u8>(src));
  return !accessFaulted;
}

/** Copies a loaded scalar of `bytes` into V[t], zeroing the rest of the register. */
function commitScalar(t: u32, src: usize, bytes: u32): void {
  const a = vAddr(t);
  v128.store(a, i64x2.splat(0));
  memory.copy(a, src, bytes);
}

/** Executes a SIMD&FP load/store (bits 27 = 1, 26 = 1, 25 = 0); false if unallocated. */
export function executeSimdLoadStore(insn: u32): bool {
  switch ((insn >> 28) & 3) {
    case 0: {
      if (insn >> 31) return false;
      const op2 = (insn >> 23) & 3;
      if (op2 == 0) return ((insn >> 16) & 0x3f) == 0 && multipleStructures(insn, false);
      if (op2 == 1) return ((insn >> 21) & 1) == 0 && multipleStructures(insn, true);
      return singleStructure(insn);
    }
    case 1:
      return ((insn >> 24) & 1) == 0 && literal(insn);
    case 2:
      return pair(insn);
    default:
      return registerForms(insn);
  }
}

function literal(insn: u32): bool {
  const opc = insn >> 30;
  if (opc == 3) return false;
  const bytes: u32 = 4 << opc;
  const offset = signExtend(<u64>((insn >> 5) & 0x7ffff), 19) << 2;
  if (!readInto(staging, pc + offset, bytes)) return true;
  commitScalar(insn & 31, staging, bytes);
  return true;
}

function pair(insn: u32): bool {
  const opc = insn >> 30;
  if (opc == 3) return false;
  const mode = (insn >> 23) & 3; // 00 no-allocate, 01 post-index, 10 offset, 11 pre-index
  const isLoad = ((insn >> 22) & 1) != 0;
  const bytes: u32 = 4 << opc;
  const t = insn & 31;
  const t2 = (insn >> 10) & 31;
  const n = (insn >> 5) & 31;
  const offset = signExtend(<u64>((insn >> 15) & 0x7f), 7) * <u64>bytes;
  const base = getXSP(n);
  if (spAlignmentFault(n, base)) return true;
  const address = mode == 1 ? base : base + offset;
  if (isLoad) {
    if (!readInto(staging, address, bytes)) return true;
    if (!readInto(staging + 16, address + bytes, bytes)) return true;
    commitScalar(t, staging, bytes);
    commitScalar(t2, staging + 16, bytes);
  } else {
    if (!writeFrom(vAddr(t), address, bytes)) return true;
    if (!writeFrom(vAddr(t2), address + bytes, bytes)) return true;
  }
  if (mode == 1 || mode == 3) setXSP(n, base + offset);
  return true;
}

/** LDR/STR/LDUR/STUR (immediate, unsigned offset, pre/post-index and register offset). */
function registerForms(insn: u32): bool {
  const size = insn >> 30;
  const opc = (insn >> 22) & 3;
  const isLoad = (opc & 1) != 0;
  // size:opc<1> selects B, H, S, D or Q; Q is size 00 with opc<1> set.
  let scale: u32;
  if (opc >> 1) {
    if (size != 0) return false;
    scale = 4;
  } else {
    scale = size;
  }
  const bytes: u32 = 1 << scale;
  const t = insn & 31;
  const n = (insn >> 5) & 31;
  const base = getXSP(n);
  let address: u64;
  let writeback = false;
  let newBase: u64 = 0;
  if ((insn >> 24) & 1) {
    address = base + ((<u64>((insn >> 10) & 0xfff)) << scale);
  } else if ((insn >> 21) & 1) {
    if (((insn >> 10) & 3) != 2) return false;
    const option = (insn >> 13) & 7;
    if ((option & 2) == 0) return false;
    let offset = getX((insn >> 16) & 31);
    if (option == 2) offset &= 0xffffffff;
    else if (option == 6) offset = signExtend(offset, 32);
    if ((insn >> 12) & 1) offset <<= scale;
    address = base + offset;
  } else {
    const imm = signExtend(<u64>((insn >> 12) & 0x1ff), 9);
    const kind = (insn >> 10) & 3; // 00 unscaled, 01 post-index, 10 unprivileged, 11 pre-index
    if (kind == 2) return false;
    address = kind == 1 ? base : base + imm;
    writeback = kind != 0;
    newBase = base + imm;
  }
  if (spAlignmentFault(n, base)) return true;
  if (isLoad) {
    if (!readInto(staging, address, bytes)) return true;
    commitScalar(t, staging, bytes);
  } else if (!writeFrom(vAddr(t), address, bytes)) {
    return true;
  }
  if (writeback) setXSP(n, newBase);
  return true;
}

function multipleStructures(insn: u32, postIndex: bool): bool {
  const q = (insn >> 30) & 1;
  const isLoad = ((insn >> 22) & 1) != 0;
  const opcode = (insn >> 12) & 15;
  const size = (insn >> 10) & 3;
  let regs: u32; // registers transferred
  let selem: u32; // elements per structure
  switch (opcode) {
    case 0b0000:
      regs = 4;
      selem = 4;
      break;
    case 0b0010:
      regs = 4;
      selem = 1;
      break;
    case 0b0100:
      regs = 3;
      selem = 3;
      break;
    case 0b0110:
      regs = 3;
      selem = 1;
      break;
    case 0b0111:
      regs = 1;
      selem = 1;
      break;
    case 0b1000:
      regs = 2;
      selem = 2;
      break;
    case 0b1010:
      regs = 2;
      selem = 1;
      break;
    default:
      return false;
  }
  if (size == 3 && q == 0 && selem != 1) return false;
  const t = insn & 31;
  const n = (insn >> 5) & 31;
  const base = getXSP(n);
  if (spAlignmentFault(n, base)) return true;
  const regBytes: u32 = q ? 16 : 8;
  const total = regs * regBytes;
  const esize: u32 = 1 << size;
  if (selem == 1 && (base & 7) == 0) {
    // LD1/ST1 with several registers: each register is a contiguous block. The architecture
    // checks alignment per element, so whole-register accesses are only used when they are
    // 8-byte aligned and thus cannot fault on Device memory where the elements would not.
    for (let r: u32 = 0; r < regs; r++) {
      const reg = (t + r) & 31;
      const address = base + <u64>(r * regBytes);
      if (isLoad) {
        if (!readInto(staging + r * 16, address, regBytes)) return true;
      } else if (!writeFrom(vAddr(reg), address, regBytes)) {
        return true;
      }
    }
  } else {
    // Element by element, structures interleaved across `selem` registers; with selem = 1 the
    // registers follow one another, as the pseudocode's register loop does.
    const elements = regBytes >> size;
    const rounds = selem == 1 ? regs : 1;
    let address = base;
    for (let round: u32 = 0; round < rounds; round++) {
      for (let e: u32 = 0; e < elements; e++) {
        for (let s: u32 = 0; s < selem; s++) {
          const slot = s + round;
          const reg = (t + slot) & 31;
          if (isLoad) {
            if (!readInto(staging + slot * 16 + e * esize, address, esize)) return true;
          } else if (!writeFrom(vAddr(reg) + e * esize, address, esize)) {
            return true;
          }
          address += esize;
        }
      }
    }
  }
  if (isLoad) {
    for (let r: u32 = 0; r < regs; r++) {
      const a = vAddr((t + r) & 31);
      store<u64>(a, load<u64>(staging + r * 16));
      store<u64>(a, q ? load<u64>(staging + r * 16, 8) : 0, 8);
    }
  }
  if (postIndex) writebackPost(insn, n, base, total);
  return true;
}

function writebackPost(insn: u32, n: u32, base: u64, immediate: u32): void {
  const m = (insn >> 16) & 31;
  setXSP(n, base + (m == 31 ? <u64>immediate : getX(m)));
}

/** LD1–LD4/ST1–ST4 (single structure) and LD1R–LD4R, with or without post-index. */
function singleStructure(insn: u32): bool {
  const postIndex = ((insn >> 23) & 1) != 0;
  if (!postIndex && ((insn >> 16) & 31) != 0) return false;
  const q = (insn >> 30) & 1;
  const isLoad = ((insn >> 22) & 1) != 0;
  const opcode = (insn >> 13) & 7;
  const s = (insn >> 12) & 1;
  const size = (insn >> 10) & 3;
  const selem: u32 = (((opcode & 1) << 1) | ((insn >> 21) & 1)) + 1;
  const t = insn & 31;
  const n = (insn >> 5) & 31;
  let scale = opcode >> 1;
  let index: u32 = 0;
  let replicate = false;
  switch (scale) {
    case 0:
      index = (q << 3) | (s << 2) | size;
      break;
    case 1:
      if (size & 1) return false;
      index = (q << 2) | (s << 1) | (size >> 1);
      break;
    case 2:
      if (size >= 2) return false;
      if (size == 0) {
        index = (q << 1) | s;
      } else {
        if (s) return false;
        index = q;
        scale = 3;
      }
      break;
    default:
      if (!isLoad || s) return false;
      scale = size;
      replicate = true;
  }
  const esize: u32 = 1 << scale;
  const base = getXSP(n);
  if (spAlignmentFault(n, base)) return true;
  let address = base;
  for (let e: u32 = 0; e < selem; e++) {
    const reg = (t + e) & 31;
    if (isLoad) {
      if (!readInto(staging + e * 16, address, esize)) return true;
    } else if (!writeFrom(vAddr(reg) + index * esize, address, esize)) {
      return true;
    }
    address += esize;
  }
  if (isLoad) {
    for (let e: u32 = 0; e < selem; e++) {
      const reg = (t + e) & 31;
      const v = getStaged(e, scale);
      if (replicate) {
        const lanes = (q ? <u32>16 : 8) >> scale;
        for (let i: u32 = 0; i < lanes; i++) setElem(reg, i, scale, v);
        if (!q) store<u64>(vAddr(reg), 0, 8);
      } else {
        setElem(reg, index, scale, v);
      }
    }
  }
  if (postIndex) writebackPost(insn, n, base, selem * esize);
  return true;
}

function getStaged(e: u32, scale: u32): u64 {
  const a = staging + e * 16;
  if (scale == 0) return <u64>load<u8>(a);
  if (scale == 1) return <u64>load<u16>(a);
  if (scale == 2) return <u64>load<u32>(a);
  return load<u64>(a);
}
