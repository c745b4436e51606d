// The FP/SIMD unit's entry point: executeFpSimd decodes one instruction of the A64
// "Data processing — scalar FP and Advanced SIMD" group or of the SIMD&FP loads and stores.
import { executeFpScalar } from "./fp-scalar";

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
  if (((insn >> 25) & 7) == 7) {
    const top = insn >> 28;
    if ((top & 5) == 1) return executeFpScalar(insn);
    return false;
  }
  return false;
}
