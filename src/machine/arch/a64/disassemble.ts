// A small A64 disassembler for fault reports: names the faulting instruction the way GNU objdump would.
import { disassembleBranchSystem } from "./branches-system.ts";
import { disassembleDataProcessingImmediate, disassembleDataProcessingRegister } from "./data-processing.ts";
import { disassembleLoadStore } from "./loads-stores.ts";

/**
 * The instruction `insn` at address `pc`, e.g. `str w1, [x0, #4]`; PC-relative targets are absolute.
 * Covers every load/store form, branches, data processing and system instructions; anything else (the
 * scalar FP and Advanced SIMD data-processing group, unallocated encodings) prints as `.word`.
 */
export function disassemble(insn: number, pc = 0n): string {
  const word = insn >>> 0;
  const op0 = (word >>> 25) & 0xf;
  let text: string | undefined;
  if (word >>> 16 === 0)
    text = `udf #${word}`; // permanently undefined
  else if ((op0 & 0b1110) === 0b1000) text = disassembleDataProcessingImmediate(word, pc);
  else if ((op0 & 0b1110) === 0b1010) text = disassembleBranchSystem(word, pc);
  else if ((op0 & 0b0101) === 0b0100) text = disassembleLoadStore(word, pc);
  else if ((op0 & 0b0111) === 0b0101) text = disassembleDataProcessingRegister(word);
  return text ?? `.word 0x${word.toString(16).padStart(8, "0")}`;
}
