// Top-level A64 decode on op0 (bits 28:25), dispatching to the instruction classes.
import { executeDataProcessingImmediate } from "./data-processing-immediate";
import { executeDataProcessingRegister } from "./data-processing-register";
import { executeLoadStore } from "./load-store";
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

/** Executes one instruction; the caller has set nextPc to pc + 4. */
export function execute(insn: u32): void {
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
