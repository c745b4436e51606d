// The FP/SIMD unit's entry point: executeFpSimd decodes one instruction of the A64
// "Data processing — scalar FP and Advanced SIMD" group or of the SIMD&FP loads and stores,
// following the ARM ARM's top-level encoding table for those groups.
//
// Implemented: ARMv8.0-A FP (single and double precision, half precision in FCVT/FCVTL/FCVTN only)
// and Advanced SIMD, which ID_AA64PFR0_EL1.FP = 0 and AdvSIMD = 0 describe. Not implemented, so
// UNDEFINED here, and to be advertised as absent: FEAT_FP16 arithmetic, the cryptographic
// extension (ID_AA64ISAR0_EL1.AES/SHA1/SHA2 = 0: AESE/AESD/AESMC/AESIMC, SHA*, PMULL/PMULL2 of
// 64-bit elements), FEAT_RDM (SQRDMLAH/SQRDMLSH), FEAT_DotProd, FEAT_FHM, FEAT_JSCVT, FEAT_FCMA,
// FEAT_FRINTTS and FEAT_BF16.
import { executeFpScalar } from "./fp-scalar";
import { executeSimdLoadStore } from "./loadstore";
import {
  acrossLanesFloat,
  floatByElement,
  scalarPairwiseFloat,
  scalarThreeSameFloat,
  scalarTwoRegMiscFloat,
  vectorThreeSameFloat,
  vectorTwoRegMiscFloat,
} from "./simd-float";
import {
  acrossLanesInteger,
  integerByElement,
  scalarPairwiseAdd,
  scalarThreeDifferent,
  scalarThreeSameInteger,
  scalarTwoRegMiscInteger,
  vectorThreeDifferent,
  vectorThreeSameInteger,
  vectorTwoRegMiscInteger,
} from "./simd-integer";
import { copy, extract, modifiedImmediate, permute, scalarCopy, tableLookup } from "./simd-permute";
import { scalarShiftImmediate, vectorShiftImmediate } from "./simd-shift";

export {
  FPSIMD_STATE_BYTES,
  bindFpSimdState,
  getVHi,
  getVLo,
  readFpcr,
  readFpsr,
  setV,
  writeFpcr,
  writeFpsr,
} from "./state";

/** Executes `insn`; false means unallocated or not implemented (the core raises UNDEFINED). */
export function executeFpSimd(insn: u32): bool {
  const op0 = insn >> 28;
  if (((insn >> 25) & 7) == 7) {
    if ((op0 & 5) == 1) return executeFpScalar(insn);
    if ((op0 & 0b1001) == 0) return advancedSimdVector(insn);
    if ((op0 & 0b1101) == 0b0101) return advancedSimdScalar(insn);
    return false;
  }
  if (((insn >> 25) & 0b101) == 0b100 && ((insn >> 26) & 1) == 1) return executeSimdLoadStore(insn);
  return false;
}

function bit(insn: u32, n: u32): u32 {
  return (insn >> n) & 1;
}

function isFloatMiscOpcode(opcode: u32): bool {
  return (opcode >= 0b01100 && opcode <= 0b01111) || opcode >= 0b10110;
}

function advancedSimdVector(insn: u32): bool {
  if (bit(insn, 24)) {
    if (bit(insn, 10)) {
      if (bit(insn, 23)) return false;
      return ((insn >> 19) & 15) == 0 ? modifiedImmediate(insn) : vectorShiftImmediate(insn);
    }
    const opcode = (insn >> 12) & 15;
    return opcode == 0b0001 || opcode == 0b0101 || opcode == 0b1001
      ? floatByElement(insn, false)
      : integerByElement(insn, false);
  }
  if (bit(insn, 21)) {
    if (bit(insn, 10)) {
      return ((insn >> 11) & 31) >= 0b11000 ? vectorThreeSameFloat(insn) : vectorThreeSameInteger(insn);
    }
    if (bit(insn, 11) == 0) return vectorThreeDifferent(insn);
    const kind = (insn >> 17) & 15;
    const opcode = (insn >> 12) & 31;
    if (kind == 0)
      return isFloatMiscOpcode(opcode) ? vectorTwoRegMiscFloat(insn) : vectorTwoRegMiscInteger(insn);
    if (kind == 0b1000) {
      return opcode == 0b01100 || opcode == 0b01111 ? acrossLanesFloat(insn) : acrossLanesInteger(insn);
    }
    return false;
  }
  if (((insn >> 21) & 7) == 0 && bit(insn, 10) && bit(insn, 15) == 0) return copy(insn);
  if (bit(insn, 15)) return false;
  if (bit(insn, 29)) return bit(insn, 10) == 0 && extract(insn);
  if (((insn >> 10) & 3) == 0) return tableLookup(insn);
  if (((insn >> 10) & 3) == 2) return permute(insn);
  return false;
}

function advancedSimdScalar(insn: u32): bool {
  if (bit(insn, 24)) {
    if (bit(insn, 10)) return bit(insn, 23) == 0 && scalarShiftImmediate(insn);
    const opcode = (insn >> 12) & 15;
    return opcode == 0b0001 || opcode == 0b0101 || opcode == 0b1001
      ? floatByElement(insn, true)
      : integerByElement(insn, true);
  }
  if (bit(insn, 21)) {
    if (bit(insn, 10)) {
      return ((insn >> 11) & 31) >= 0b11000 ? scalarThreeSameFloat(insn) : scalarThreeSameInteger(insn);
    }
    if (bit(insn, 11) == 0) return scalarThreeDifferent(insn);
    const kind = (insn >> 17) & 15;
    const opcode = (insn >> 12) & 31;
    if (kind == 0) {
      return isFloatMiscOpcode(opcode) ? scalarTwoRegMiscFloat(insn) : scalarTwoRegMiscInteger(insn);
    }
    if (kind == 0b1000) return opcode == 0b11011 ? scalarPairwiseAdd(insn) : scalarPairwiseFloat(insn);
    return false;
  }
  if (((insn >> 21) & 7) == 0 && bit(insn, 10) && bit(insn, 15) == 0) return scalarCopy(insn);
  return false;
}
