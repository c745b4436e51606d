// The instruction-specific syndrome (ISV, SAS, SSE, SRT, SF, AR) of a data
// abort reported to EL2. The architecture provides it only for loads and stores
// of a single general-purpose register without writeback, including
// load-acquire/store-release, and never for pairs, exclusives or SIMD&FP.

const ISV: u32 = 1 << 24;

function iss(size: u32, signExtend: bool, rt: u32, sixtyFour: bool, acquireRelease: bool): u32 {
  return (
    ISV |
    (size << 22) |
    (signExtend ? 1 << 21 : 0) |
    (rt << 16) |
    (sixtyFour ? 1 << 15 : 0) |
    (acquireRelease ? 1 << 14 : 0)
  );
}

/** Width and sign of the destination register of a register load/store; bits 31:30 size, 23:22 opc. */
function registerForm(insn: u32, acquireRelease: bool): u32 {
  const size = insn >> 30;
  const opc = (insn >> 22) & 3;
  const rt = insn & 31;
  if (opc == 0 || opc == 1) return iss(size, false, rt, size == 3, acquireRelease);
  if (size == 3) return 0; // PRFM / unallocated
  return iss(size, true, rt, opc == 2, acquireRelease);
}

/** ISS bits 24:14 for the instruction that caused a stage-2 data abort (0 when ISV is 0). */
export function instructionSyndrome(insn: u32): u32 {
  const simd = (insn >> 26) & 1;
  if (simd) return 0;
  const op = (insn >> 24) & 0x3b; // bits 29:24 with V masked out
  if (op == 0x38) {
    // Register (unscaled, unprivileged, pre/post-index, register offset).
    const mode = (insn >> 10) & 3;
    if ((insn >> 21) & 1) return mode == 2 ? registerForm(insn, false) : 0;
    if (mode == 1 || mode == 3) return 0; // writeback
    return registerForm(insn, false);
  }
  if (op == 0x39) return registerForm(insn, false);
  if (op == 0x18) {
    const opc = insn >> 30;
    if (opc == 0) return iss(2, false, insn & 31, false, false);
    if (opc == 1) return iss(3, false, insn & 31, true, false);
    if (opc == 2) return iss(2, true, insn & 31, true, false);
    return 0;
  }
  if (op == 0x08) {
    // Exclusives and ordered accesses: only LDAR/STLR (o2 = 1, o1 = 0) carry a syndrome.
    const o2 = (insn >> 23) & 1;
    const o1 = (insn >> 21) & 1;
    if (o2 == 1 && o1 == 0) {
      const size = insn >> 30;
      return iss(size, false, insn & 31, size == 3, true);
    }
  }
  return 0;
}
