// A64 branches: immediate, conditional, compare/test and branch, and branch to register.
import { getX, setX } from "./registers";
import { pc, nextPc, currentEl } from "./state";
import { conditionHolds } from "./alu";
import { exceptionReturn } from "./exceptions";
import { invalidateFetchPage } from "./mmu";

function signExtend(v: u32, bits: u32): i64 {
  return <i64>((<i32>(v << (32 - bits))) >> (32 - bits));
}

/** B, BL. */
export function branchImmediate(insn: u32): bool {
  const offset = signExtend(insn & 0x3ff_ffff, 26) << 2;
  if (insn >> 31) setX(30, pc + 4);
  nextPc = pc + <u64>offset;
  return true;
}

/** CBZ, CBNZ. */
export function compareAndBranch(insn: u32): bool {
  let v = getX(insn & 31);
  if (!(insn >> 31)) v &= 0xffff_ffff;
  const nonZero = ((insn >> 24) & 1) != 0;
  if ((v != 0) == nonZero) nextPc = pc + <u64>(signExtend((insn >> 5) & 0x7ffff, 19) << 2);
  return true;
}

/** TBZ, TBNZ. */
export function testAndBranch(insn: u32): bool {
  const bit = ((insn >> 31) << 5) | ((insn >> 19) & 31);
  const set = ((getX(insn & 31) >> (<u64>bit)) & 1) != 0;
  const nonZero = ((insn >> 24) & 1) != 0;
  if (set == nonZero) nextPc = pc + <u64>(signExtend((insn >> 5) & 0x3fff, 14) << 2);
  return true;
}

/** B.cond. */
export function conditionalBranch(insn: u32): bool {
  if (conditionHolds(insn & 15)) nextPc = pc + <u64>(signExtend((insn >> 5) & 0x7ffff, 19) << 2);
  return true;
}

/** A misaligned branch target must reach the fetch slow path, which raises the PC alignment fault. */
function branchTo(target: u64): void {
  nextPc = target;
  if (target & 3) invalidateFetchPage();
}

/** BR, BLR, RET, ERET; the pointer-authentication forms are not implemented. */
export function branchRegister(insn: u32): bool {
  const opc = (insn >> 21) & 15;
  const op2 = (insn >> 16) & 31;
  const op3 = (insn >> 10) & 0x3f;
  const rn = (insn >> 5) & 31;
  const op4 = insn & 31;
  if (op2 != 31 || op3 != 0 || op4 != 0) return false;
  switch (opc) {
    case 0: // BR
    case 2: // RET
      branchTo(getX(rn));
      return true;
    case 1: {
      // BLR: read the target before writing X30 (BLR X30)
      const target = getX(rn);
      setX(30, pc + 4);
      branchTo(target);
      return true;
    }
    case 4:
      if (rn != 31 || currentEl == 0) return false;
      exceptionReturn();
      if (nextPc & 3) invalidateFetchPage();
      return true;
    default:
      return false;
  }
}
