// A64 branches, exception generation and system instructions (ARM ARM C4.1.65).
import { systemInstructionName, systemRegisterName } from "../system-registers.ts";
import { address, bit, bits, condition, gpr, immDec, immHex, signExtend, x } from "./operands.ts";

export function disassembleBranchSystem(insn: number, pc: bigint): string | undefined {
  const offset = (width: number, low = 5) =>
    pc + BigInt(signExtend(bits(insn, low + width - 1, low), width) * 4);
  if ((insn & 0x7c00_0000) >>> 0 === 0x1400_0000)
    return `${bit(insn, 31) ? "bl" : "b"} ${address(offset(26, 0))}`;
  if ((insn & 0xff00_0010) >>> 0 === 0x5400_0000)
    return `b.${condition(bits(insn, 3, 0))} ${address(offset(19))}`;
  if ((insn & 0x7e00_0000) >>> 0 === 0x3400_0000) {
    return `${bit(insn, 24) ? "cbnz" : "cbz"} ${gpr(bits(insn, 4, 0), bit(insn, 31))}, ${address(offset(19))}`;
  }
  if ((insn & 0x7e00_0000) >>> 0 === 0x3600_0000) {
    const bitNumber = (bit(insn, 31) << 5) | bits(insn, 23, 19);
    const rt = gpr(bits(insn, 4, 0), bit(insn, 31));
    return `${bit(insn, 24) ? "tbnz" : "tbz"} ${rt}, ${immDec(bitNumber)}, ${address(offset(14))}`;
  }
  if ((insn & 0xff00_0000) >>> 0 === 0xd400_0000) return exceptionGeneration(insn);
  if ((insn & 0xffc0_0000) >>> 0 === 0xd500_0000) return system(insn);
  if ((insn & 0xfe00_0000) >>> 0 === 0xd600_0000) return branchRegister(insn);
  return undefined;
}

function exceptionGeneration(insn: number): string | undefined {
  const opc = bits(insn, 23, 21);
  const ll = bits(insn, 1, 0);
  const imm = immHex(bits(insn, 20, 5));
  if (bits(insn, 4, 2) !== 0) return undefined;
  if (opc === 0 && ll > 0) return `${["", "svc", "hvc", "smc"][ll]} ${imm}`;
  if (opc === 1 && ll === 0) return `brk ${imm}`;
  if (opc === 2 && ll === 0) return `hlt ${imm}`;
  if (opc === 5 && ll > 0) return `dcps${ll}${bits(insn, 20, 5) ? ` ${imm}` : ""}`;
  return undefined;
}

function branchRegister(insn: number): string | undefined {
  const opc = bits(insn, 24, 21);
  const rn = bits(insn, 9, 5);
  if (bits(insn, 20, 10) !== 0b11111_000000 || bits(insn, 4, 0) !== 0) return undefined;
  switch (opc) {
    case 0:
      return `br ${x(rn)}`;
    case 1:
      return `blr ${x(rn)}`;
    case 2:
      return rn === 30 ? "ret" : `ret ${x(rn)}`;
    case 4:
      return rn === 31 ? "eret" : undefined;
    case 5:
      return rn === 31 ? "drps" : undefined;
  }
  return undefined;
}

/** Named hints, by CRm:op2: the classic ones, pointer authentication, speculation barriers and BTI. */
const HINTS: Record<number, string> = {
  0: "nop",
  1: "yield",
  2: "wfe",
  3: "wfi",
  4: "sev",
  5: "sevl",
  7: "xpaclri",
  8: "pacia1716",
  10: "pacib1716",
  12: "autia1716",
  14: "autib1716",
  16: "esb",
  17: "psb csync",
  18: "tsb csync",
  20: "csdb",
  22: "clearbhb",
  24: "paciaz",
  25: "paciasp",
  26: "pacibz",
  27: "pacibsp",
  28: "autiaz",
  29: "autiasp",
  30: "autibz",
  31: "autibsp",
  32: "bti",
  34: "bti c",
  36: "bti j",
  38: "bti jc",
};
const BARRIER_OPTIONS: Record<number, string> = {
  1: "oshld",
  2: "oshst",
  3: "osh",
  5: "nshld",
  6: "nshst",
  7: "nsh",
  9: "ishld",
  10: "ishst",
  11: "ish",
  13: "ld",
  14: "st",
  15: "sy",
};
const PSTATE_FIELDS: Record<string, string> = {
  "0,3": "uao",
  "0,4": "pan",
  "0,5": "spsel",
  "3,6": "daifset",
  "3,7": "daifclr",
};

function system(insn: number): string | undefined {
  const read = bit(insn, 21) === 1;
  const op0 = bits(insn, 20, 19);
  const op1 = bits(insn, 18, 16);
  const crn = bits(insn, 15, 12);
  const crm = bits(insn, 11, 8);
  const op2 = bits(insn, 7, 5);
  const rt = bits(insn, 4, 0);
  if (op0 === 0 && !read) {
    if (crn === 4 && rt === 31) {
      const field = PSTATE_FIELDS[`${op1},${op2}`];
      if (field) return `msr ${field}, ${immHex(crm)}`;
    }
    if (op1 === 3 && rt === 31 && crn === 2) {
      const hint = (crm << 3) | op2;
      return HINTS[hint] ?? `hint ${immHex(hint)}`;
    }
    if (op1 === 3 && rt === 31 && crn === 3) return barrier(crm, op2);
  }
  if (op0 === 1) {
    const named = systemInstructionName(op1, crn, crm, op2);
    if (read) return `sysl ${x(rt)}, ${immDec(op1)}, C${crn}, C${crm}, ${immDec(op2)}`;
    if (named) return named.takesRegister ? `${named.name}, ${x(rt)}` : named.name;
    return `sys ${immDec(op1)}, C${crn}, C${crm}, ${immDec(op2)}${rt === 31 ? "" : `, ${x(rt)}`}`;
  }
  // Everything else in op0 = 0 and 2–3 is a register move; unnamed registers print as S<op0>_<op1>_C<n>_C<m>_<op2>.
  const name = systemRegisterName({ op0, op1, crn, crm, op2 }).toLowerCase();
  return read ? `mrs ${x(rt)}, ${name}` : `msr ${name}, ${x(rt)}`;
}

function barrier(crm: number, op2: number): string | undefined {
  switch (op2) {
    case 2:
      return crm === 15 ? "clrex" : `clrex ${immHex(crm)}`;
    case 4:
    case 5: {
      const name = op2 === 4 ? "dsb" : "dmb";
      if (op2 === 4 && crm === 0) return "ssbb";
      if (op2 === 4 && crm === 4) return "pssbb";
      return `${name} ${BARRIER_OPTIONS[crm] ?? immHex(crm)}`;
    }
    case 6:
      return crm === 15 ? "isb" : `isb ${immHex(crm)}`;
    case 7:
      return crm === 0 ? "sb" : undefined;
  }
  return undefined;
}
