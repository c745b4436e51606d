// Top-level A64 decode on op0 (bits 28:25), dispatching to the instruction classes, behind a cache of
// decoded forms in the interpreter's build: the hottest encodings run through a handler whose variant
// bits (sf, op, S, size, opc) are constants, found by the instruction's host address instead of by
// walking the decoders.
import { executeDataProcessingImmediate, AddSubImmediate } from "./data-processing-immediate";
import { executeDataProcessingRegister, LogicalShifted, AddSubShifted } from "./data-processing-register";
import { executeLoadStore, RegisterTransfer } from "./load-store";
import {
  branchImmediate,
  compareAndBranch,
  testAndBranch,
  conditionalBranch,
  branchRegister,
} from "./branches";
import { exceptionGeneration, executeSystem } from "./system";
import { undefinedInstruction, syncException, EC_FP_ACCESS } from "./exceptions";
import { fpEnabled } from "./sysregs";
import { executeFpSimd } from "./fpsimd/index";
import { DECODED_CACHE, DECODED_CACHE_ENTRIES } from "./layout";

function branchesAndSystem(insn: u32): bool {
  const top = insn >> 26;
  if ((top & 0x1f) == 0x05) return branchImmediate(insn);
  switch (insn >> 24) {
    case 0x34:
    case 0x35:
    case 0xb4:
    case 0xb5:
      return compareAndBranch(insn);
    case 0x36:
    case 0x37:
    case 0xb6:
    case 0xb7:
      return testAndBranch(insn);
    case 0x54:
      return (insn & 0x10) == 0 ? conditionalBranch(insn) : false;
    case 0xd4:
      return exceptionGeneration(insn);
    case 0xd5:
      return (insn >> 22) & 3 ? false : executeSystem(insn);
    case 0xd6:
    case 0xd7:
      return branchRegister(insn);
    default:
      return false;
  }
}

/** SIMD&FP instructions trap to EL1 when CPACR_EL1.FPEN disables them. */
function fpSimd(insn: u32): bool {
  if (!fpEnabled()) {
    syncException(EC_FP_ACCESS, 0);
    return true;
  }
  return executeFpSimd(insn);
}

/** Executes an instruction through the decoders. */
function executeDecoding(insn: u32): void {
  let ok: bool;
  switch ((insn >> 25) & 15) {
    case 8:
    case 9:
      ok = executeDataProcessingImmediate(insn);
      break;
    case 10:
    case 11:
      ok = branchesAndSystem(insn);
      break;
    case 5:
    case 13:
      ok = executeDataProcessingRegister(insn);
      break;
    case 7:
    case 15:
      ok = fpSimd(insn);
      break;
    case 4:
    case 6:
    case 12:
    case 14:
      ok = (insn >> 26) & 1 ? fpSimd(insn) : executeLoadStore(insn);
      break;
    default:
      ok = false; // reserved, SME, SVE and unallocated
      break;
  }
  if (!ok) undefinedInstruction();
}

// Decoded forms. A form depends on the instruction word alone, so an entry whose word matches the
// instruction at its host address is exact whatever wrote that memory since (self- or cross-modifying
// code, DMA, another vCPU or VM): nothing is ever invalidated. A zeroed entry (word 0, UDF #0) holds
// GENERIC, which is that word's form.
/** Decoded each time by executeDecoding. */
const GENERIC: u32 = 0;
/** + sf:op:S (bits 31:29). */
const ADD_SUB_IMMEDIATE: u32 = 1;
/** + sf:op:S (bits 31:29). */
const ADD_SUB_SHIFTED: u32 = 9;
/** + sf:opc (bits 31:29). */
const LOGICAL_SHIFTED: u32 = 17;
/** + size:opc<0> (bits 31:30, 22); loads and stores only, not the sign-extending loads or PRFM. */
const UNSIGNED_OFFSET: u32 = 25;
/** + size:opc<0>, as UNSIGNED_OFFSET. */
const REGISTER_OFFSET: u32 = 33;
const CONDITIONAL_BRANCH: u32 = 41;
const BRANCH_IMMEDIATE: u32 = 42;
const COMPARE_AND_BRANCH: u32 = 43;
const TEST_AND_BRANCH: u32 = 44;

/** The form of an instruction: one of the encodings above, or GENERIC. */
function decodedForm(insn: u32): u32 {
  if (((insn >> 23) & 0x3f) == 0x22) return ADD_SUB_IMMEDIATE + (insn >> 29);
  const group = (insn >> 24) & 0x1f;
  if (group == 0x0a) return LOGICAL_SHIFTED + (insn >> 29);
  if (group == 0x0b && !((insn >> 21) & 1)) return ADD_SUB_SHIFTED + (insn >> 29);
  const loadStore = (insn >> 24) & 0x3f; // bits 29:24, V clear
  const sizeOpc = ((insn >> 29) & 6) | ((insn >> 22) & 1);
  if (loadStore == 0x39 && !((insn >> 23) & 1)) return UNSIGNED_OFFSET + sizeOpc;
  if (loadStore == 0x38 && (insn >> 21) & 1 && !((insn >> 23) & 1)) return REGISTER_OFFSET + sizeOpc;
  if (insn >> 24 == 0x54 && !(insn & 0x10)) return CONDITIONAL_BRANCH;
  if (((insn >> 26) & 0x1f) == 0x05) return BRANCH_IMMEDIATE;
  const branch = (insn >> 25) & 0x3f;
  if (branch == 0x1a) return COMPARE_AND_BRANCH;
  if (branch == 0x1b) return TEST_AND_BRANCH;
  return GENERIC;
}

/**
 * Executes one instruction, whose word `insn` the caller has read at host address `host`; the caller
 * has set nextPc to pc + 4. The JIT build's interpreter runs code before it is translated, which
 * mostly misses the cache (measured 2-3% slower on bench:cpu --cpu jit with it), so it decodes.
 */
export function execute(insn: u32, host: usize): void {
  if (JIT_TIER) {
    executeDecoding(insn);
    return;
  }
  const entry = DECODED_CACHE + (((host >> 2) & (DECODED_CACHE_ENTRIES - 1)) << 3);
  let form: u32;
  if (load<u32>(entry) == insn) {
    form = load<u32>(entry, 4);
  } else {
    form = decodedForm(insn);
    store<u32>(entry, insn);
    store<u32>(entry, form, 4);
  }
  let ok = true;
  switch (form) {
    case ADD_SUB_IMMEDIATE + 0:
      AddSubImmediate.execute(insn, 0, 0, false);
      break;
    case ADD_SUB_IMMEDIATE + 1:
      AddSubImmediate.execute(insn, 0, 0, true);
      break;
    case ADD_SUB_IMMEDIATE + 2:
      AddSubImmediate.execute(insn, 0, 1, false);
      break;
    case ADD_SUB_IMMEDIATE + 3:
      AddSubImmediate.execute(insn, 0, 1, true);
      break;
    case ADD_SUB_IMMEDIATE + 4:
      AddSubImmediate.execute(insn, 1, 0, false);
      break;
    case ADD_SUB_IMMEDIATE + 5:
      AddSubImmediate.execute(insn, 1, 0, true);
      break;
    case ADD_SUB_IMMEDIATE + 6:
      AddSubImmediate.execute(insn, 1, 1, false);
      break;
    case ADD_SUB_IMMEDIATE + 7:
      AddSubImmediate.execute(insn, 1, 1, true);
      break;
    case ADD_SUB_SHIFTED + 0:
      ok = AddSubShifted.execute(insn, false, false, false);
      break;
    case ADD_SUB_SHIFTED + 1:
      ok = AddSubShifted.execute(insn, false, false, true);
      break;
    case ADD_SUB_SHIFTED + 2:
      ok = AddSubShifted.execute(insn, false, true, false);
      break;
    case ADD_SUB_SHIFTED + 3:
      ok = AddSubShifted.execute(insn, false, true, true);
      break;
    case ADD_SUB_SHIFTED + 4:
      ok = AddSubShifted.execute(insn, true, false, false);
      break;
    case ADD_SUB_SHIFTED + 5:
      ok = AddSubShifted.execute(insn, true, false, true);
      break;
    case ADD_SUB_SHIFTED + 6:
      ok = AddSubShifted.execute(insn, true, true, false);
      break;
    case ADD_SUB_SHIFTED + 7:
      ok = AddSubShifted.execute(insn, true, true, true);
      break;
    case LOGICAL_SHIFTED + 0:
      ok = LogicalShifted.execute(insn, false, 0);
      break;
    case LOGICAL_SHIFTED + 1:
      ok = LogicalShifted.execute(insn, false, 1);
      break;
    case LOGICAL_SHIFTED + 2:
      ok = LogicalShifted.execute(insn, false, 2);
      break;
    case LOGICAL_SHIFTED + 3:
      ok = LogicalShifted.execute(insn, false, 3);
      break;
    case LOGICAL_SHIFTED + 4:
      ok = LogicalShifted.execute(insn, true, 0);
      break;
    case LOGICAL_SHIFTED + 5:
      ok = LogicalShifted.execute(insn, true, 1);
      break;
    case LOGICAL_SHIFTED + 6:
      ok = LogicalShifted.execute(insn, true, 2);
      break;
    case LOGICAL_SHIFTED + 7:
      ok = LogicalShifted.execute(insn, true, 3);
      break;
    case UNSIGNED_OFFSET + 0:
      ok = RegisterTransfer.unsignedOffset(insn, 0, 0);
      break;
    case UNSIGNED_OFFSET + 1:
      ok = RegisterTransfer.unsignedOffset(insn, 0, 1);
      break;
    case UNSIGNED_OFFSET + 2:
      ok = RegisterTransfer.unsignedOffset(insn, 1, 0);
      break;
    case UNSIGNED_OFFSET + 3:
      ok = RegisterTransfer.unsignedOffset(insn, 1, 1);
      break;
    case UNSIGNED_OFFSET + 4:
      ok = RegisterTransfer.unsignedOffset(insn, 2, 0);
      break;
    case UNSIGNED_OFFSET + 5:
      ok = RegisterTransfer.unsignedOffset(insn, 2, 1);
      break;
    case UNSIGNED_OFFSET + 6:
      ok = RegisterTransfer.unsignedOffset(insn, 3, 0);
      break;
    case UNSIGNED_OFFSET + 7:
      ok = RegisterTransfer.unsignedOffset(insn, 3, 1);
      break;
    case REGISTER_OFFSET + 0:
      ok = RegisterTransfer.registerOffset(insn, 0, 0);
      break;
    case REGISTER_OFFSET + 1:
      ok = RegisterTransfer.registerOffset(insn, 0, 1);
      break;
    case REGISTER_OFFSET + 2:
      ok = RegisterTransfer.registerOffset(insn, 1, 0);
      break;
    case REGISTER_OFFSET + 3:
      ok = RegisterTransfer.registerOffset(insn, 1, 1);
      break;
    case REGISTER_OFFSET + 4:
      ok = RegisterTransfer.registerOffset(insn, 2, 0);
      break;
    case REGISTER_OFFSET + 5:
      ok = RegisterTransfer.registerOffset(insn, 2, 1);
      break;
    case REGISTER_OFFSET + 6:
      ok = RegisterTransfer.registerOffset(insn, 3, 0);
      break;
    case REGISTER_OFFSET + 7:
      ok = RegisterTransfer.registerOffset(insn, 3, 1);
      break;
    case CONDITIONAL_BRANCH:
      ok = conditionalBranch(insn);
      break;
    case BRANCH_IMMEDIATE:
      ok = branchImmediate(insn);
      break;
    case COMPARE_AND_BRANCH:
      ok = compareAndBranch(insn);
      break;
    case TEST_AND_BRANCH:
      ok = testAndBranch(insn);
      break;
    default:
      executeDecoding(insn);
      break;
  }
  if (!ok) undefinedInstruction();
}
