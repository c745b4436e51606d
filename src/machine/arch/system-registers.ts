// System registers and SYS instructions by encoding (op0, op1, CRn, CRm, op2): the one table of their names.
import type { SystemRegisterEncoding } from "./esr.ts";

/** Implemented by the wasm core: readSysreg/writeSysreg reach it; src/machine/cpu/sysreg-keys.ts lists it. */
const CORE = true;
/** Only named, for fault reports and the disassembler. */
const NAMED = false;

/**
 * The system registers, in the ARM ARM's spelling. The AssemblyScript core cannot import this table, so
 * it keeps its keys in src/machine/cpu/sysreg-keys.ts; tests/machine/cpu-api.test.ts checks that the
 * CORE rows here are exactly those.
 */
const SYSTEM_REGISTERS: readonly (readonly [
  name: string,
  op0: number,
  op1: number,
  crn: number,
  crm: number,
  op2: number,
  inCore: boolean,
])[] = [
  ["SCTLR_EL1", 3, 0, 1, 0, 0, CORE],
  ["ACTLR_EL1", 3, 0, 1, 0, 1, CORE],
  ["CPACR_EL1", 3, 0, 1, 0, 2, CORE],
  ["TTBR0_EL1", 3, 0, 2, 0, 0, CORE],
  ["TTBR1_EL1", 3, 0, 2, 0, 1, CORE],
  ["TCR_EL1", 3, 0, 2, 0, 2, CORE],
  ["SPSR_EL1", 3, 0, 4, 0, 0, CORE],
  ["ELR_EL1", 3, 0, 4, 0, 1, CORE],
  ["SP_EL0", 3, 0, 4, 1, 0, CORE],
  ["SPSel", 3, 0, 4, 2, 0, CORE],
  ["CurrentEL", 3, 0, 4, 2, 2, CORE],
  ["DAIF", 3, 3, 4, 2, 1, CORE],
  ["NZCV", 3, 3, 4, 2, 0, CORE],
  ["FPCR", 3, 3, 4, 4, 0, CORE],
  ["FPSR", 3, 3, 4, 4, 1, CORE],
  ["SPSR_irq", 3, 4, 4, 3, 0, CORE],
  ["SPSR_abt", 3, 4, 4, 3, 1, CORE],
  ["SPSR_und", 3, 4, 4, 3, 2, CORE],
  ["SPSR_fiq", 3, 4, 4, 3, 3, CORE],
  ["AFSR0_EL1", 3, 0, 5, 1, 0, CORE],
  ["AFSR1_EL1", 3, 0, 5, 1, 1, CORE],
  ["ESR_EL1", 3, 0, 5, 2, 0, CORE],
  ["FAR_EL1", 3, 0, 6, 0, 0, CORE],
  ["PAR_EL1", 3, 0, 7, 4, 0, CORE],
  ["MAIR_EL1", 3, 0, 10, 2, 0, CORE],
  ["AMAIR_EL1", 3, 0, 10, 3, 0, CORE],
  ["VBAR_EL1", 3, 0, 12, 0, 0, CORE],
  ["ISR_EL1", 3, 0, 12, 1, 0, CORE],
  ["CONTEXTIDR_EL1", 3, 0, 13, 0, 1, CORE],
  ["TPIDR_EL1", 3, 0, 13, 0, 4, CORE],
  ["TPIDR_EL0", 3, 3, 13, 0, 2, CORE],
  ["TPIDRRO_EL0", 3, 3, 13, 0, 3, CORE],
  ["CNTKCTL_EL1", 3, 0, 14, 1, 0, CORE],
  ["CNTFRQ_EL0", 3, 3, 14, 0, 0, CORE],
  ["CNTPCT_EL0", 3, 3, 14, 0, 1, CORE],
  ["CNTVCT_EL0", 3, 3, 14, 0, 2, CORE],
  ["CNTP_TVAL_EL0", 3, 3, 14, 2, 0, CORE],
  ["CNTP_CTL_EL0", 3, 3, 14, 2, 1, CORE],
  ["CNTP_CVAL_EL0", 3, 3, 14, 2, 2, CORE],
  ["CNTV_TVAL_EL0", 3, 3, 14, 3, 0, CORE],
  ["CNTV_CTL_EL0", 3, 3, 14, 3, 1, CORE],
  ["CNTV_CVAL_EL0", 3, 3, 14, 3, 2, CORE],
  ["PMCR_EL0", 3, 3, 9, 12, 0, NAMED],
  ["PMUSERENR_EL0", 3, 3, 9, 14, 0, NAMED],
  ["MIDR_EL1", 3, 0, 0, 0, 0, CORE],
  ["MPIDR_EL1", 3, 0, 0, 0, 5, CORE],
  ["REVIDR_EL1", 3, 0, 0, 0, 6, CORE],
  ["ID_AA64PFR0_EL1", 3, 0, 0, 4, 0, CORE],
  ["ID_AA64PFR1_EL1", 3, 0, 0, 4, 1, NAMED],
  ["ID_AA64DFR0_EL1", 3, 0, 0, 5, 0, CORE],
  ["ID_AA64ISAR0_EL1", 3, 0, 0, 6, 0, CORE],
  ["ID_AA64ISAR1_EL1", 3, 0, 0, 6, 1, NAMED],
  ["ID_AA64MMFR0_EL1", 3, 0, 0, 7, 0, CORE],
  ["ID_AA64MMFR1_EL1", 3, 0, 0, 7, 1, NAMED],
  ["ID_AA64MMFR2_EL1", 3, 0, 0, 7, 2, NAMED],
  ["CCSIDR_EL1", 3, 1, 0, 0, 0, CORE],
  ["CLIDR_EL1", 3, 1, 0, 0, 1, CORE],
  ["AIDR_EL1", 3, 1, 0, 0, 7, CORE],
  ["CSSELR_EL1", 3, 2, 0, 0, 0, CORE],
  ["CTR_EL0", 3, 3, 0, 0, 1, CORE],
  ["DCZID_EL0", 3, 3, 0, 0, 7, CORE],
  ["MDSCR_EL1", 2, 0, 0, 2, 2, CORE],
  ["MDCCINT_EL1", 2, 0, 0, 2, 0, CORE],
  ["OSLAR_EL1", 2, 0, 1, 0, 4, CORE],
  ["OSLSR_EL1", 2, 0, 1, 1, 4, CORE],
  ["OSDLR_EL1", 2, 0, 1, 3, 4, CORE],
  ["DBGPRCR_EL1", 2, 0, 1, 4, 4, CORE],
  ["DBGBVR0_EL1", 2, 0, 0, 0, 4, CORE],
  ["DBGBVR1_EL1", 2, 0, 0, 1, 4, CORE],
  ["DBGBCR0_EL1", 2, 0, 0, 0, 5, CORE],
  ["DBGBCR1_EL1", 2, 0, 0, 1, 5, CORE],
  ["DBGWVR0_EL1", 2, 0, 0, 0, 6, CORE],
  ["DBGWVR1_EL1", 2, 0, 0, 1, 6, CORE],
  ["DBGWCR0_EL1", 2, 0, 0, 0, 7, CORE],
  ["DBGWCR1_EL1", 2, 0, 0, 1, 7, CORE],
  ["MDCCSR_EL0", 2, 3, 0, 1, 0, CORE],
  ["DBGCLAIMSET_EL1", 2, 0, 7, 8, 6, CORE],
  ["DBGCLAIMCLR_EL1", 2, 0, 7, 9, 6, CORE],
  ["DBGAUTHSTATUS_EL1", 2, 0, 7, 14, 6, CORE],
  ["ICC_PMR_EL1", 3, 0, 4, 6, 0, CORE],
  ["ICC_IAR0_EL1", 3, 0, 12, 8, 0, CORE],
  ["ICC_EOIR0_EL1", 3, 0, 12, 8, 1, CORE],
  ["ICC_HPPIR0_EL1", 3, 0, 12, 8, 2, CORE],
  ["ICC_BPR0_EL1", 3, 0, 12, 8, 3, CORE],
  ["ICC_AP0R0_EL1", 3, 0, 12, 8, 4, CORE],
  ["ICC_AP1R0_EL1", 3, 0, 12, 9, 0, CORE],
  ["ICC_DIR_EL1", 3, 0, 12, 11, 1, CORE],
  ["ICC_RPR_EL1", 3, 0, 12, 11, 3, CORE],
  ["ICC_SGI1R_EL1", 3, 0, 12, 11, 5, CORE],
  ["ICC_ASGI1R_EL1", 3, 0, 12, 11, 6, CORE],
  ["ICC_SGI0R_EL1", 3, 0, 12, 11, 7, CORE],
  ["ICC_IAR1_EL1", 3, 0, 12, 12, 0, CORE],
  ["ICC_EOIR1_EL1", 3, 0, 12, 12, 1, CORE],
  ["ICC_HPPIR1_EL1", 3, 0, 12, 12, 2, CORE],
  ["ICC_BPR1_EL1", 3, 0, 12, 12, 3, CORE],
  ["ICC_CTLR_EL1", 3, 0, 12, 12, 4, CORE],
  ["ICC_SRE_EL1", 3, 0, 12, 12, 5, CORE],
  ["ICC_IGRPEN0_EL1", 3, 0, 12, 12, 6, CORE],
  ["ICC_IGRPEN1_EL1", 3, 0, 12, 12, 7, CORE],
  ["CNTVOFF_EL2", 3, 4, 14, 0, 3, CORE],
];

/** The 16-bit key of an encoding: op0:op1:CRn:CRm:op2, as in bits 20:5 of MRS and MSR. */
export function systemRegisterKey(e: SystemRegisterEncoding): number {
  return (e.op0 << 14) | (e.op1 << 11) | (e.crn << 7) | (e.crm << 3) | e.op2;
}

const NAMES = new Map(
  SYSTEM_REGISTERS.map(([name, op0, op1, crn, crm, op2]) => [
    systemRegisterKey({ op0, op1, crn, crm, op2 }),
    name,
  ]),
);

/**
 * The keys of the registers the core implements, by upper-case name (SPSEL, SPSR_IRQ): the names
 * readSysreg/writeSysreg accept, whatever their case.
 */
export const CORE_SYSTEM_REGISTER_KEYS: Readonly<Record<string, number>> = Object.fromEntries(
  SYSTEM_REGISTERS.filter((r) => r[6]).map(([name, op0, op1, crn, crm, op2]) => [
    name.toUpperCase(),
    systemRegisterKey({ op0, op1, crn, crm, op2 }),
  ]),
);

/** The register's ARM ARM name, or the generic S<op0>_<op1>_C<n>_C<m>_<op2> form. */
export function systemRegisterName(e: SystemRegisterEncoding): string {
  return NAMES.get(systemRegisterKey(e)) ?? `S${e.op0}_${e.op1}_C${e.crn}_C${e.crm}_${e.op2}`;
}

/** SYS instructions with a name: cache maintenance, address translation and TLB invalidation. */
const SYSTEM_INSTRUCTIONS: Record<string, string> = {
  "0,7,1,0": "ic ialluis",
  "0,7,5,0": "ic iallu",
  "3,7,5,1": "ic ivau",
  "0,7,6,1": "dc ivac",
  "0,7,6,2": "dc isw",
  "0,7,10,2": "dc csw",
  "0,7,14,2": "dc cisw",
  "3,7,4,1": "dc zva",
  "3,7,10,1": "dc cvac",
  "3,7,11,1": "dc cvau",
  "3,7,12,1": "dc cvap",
  "3,7,13,1": "dc cvadp",
  "3,7,14,1": "dc civac",
  "0,7,8,0": "at s1e1r",
  "0,7,8,1": "at s1e1w",
  "0,7,8,2": "at s1e0r",
  "0,7,8,3": "at s1e0w",
  "0,8,1,0": "tlbi vmalle1os",
  "0,8,1,1": "tlbi vae1os",
  "0,8,1,2": "tlbi aside1os",
  "0,8,1,3": "tlbi vaae1os",
  "0,8,1,5": "tlbi vale1os",
  "0,8,1,7": "tlbi vaale1os",
  "0,8,2,1": "tlbi rvae1is",
  "0,8,2,3": "tlbi rvaae1is",
  "0,8,2,5": "tlbi rvale1is",
  "0,8,2,7": "tlbi rvaale1is",
  "0,8,3,0": "tlbi vmalle1is",
  "0,8,3,1": "tlbi vae1is",
  "0,8,3,2": "tlbi aside1is",
  "0,8,3,3": "tlbi vaae1is",
  "0,8,3,5": "tlbi vale1is",
  "0,8,3,7": "tlbi vaale1is",
  "0,8,6,1": "tlbi rvae1",
  "0,8,6,3": "tlbi rvaae1",
  "0,8,6,5": "tlbi rvale1",
  "0,8,6,7": "tlbi rvaale1",
  "0,8,7,0": "tlbi vmalle1",
  "0,8,7,1": "tlbi vae1",
  "0,8,7,2": "tlbi aside1",
  "0,8,7,3": "tlbi vaae1",
  "0,8,7,5": "tlbi vale1",
  "0,8,7,7": "tlbi vaale1",
  "4,8,0,1": "tlbi ipas2e1is",
  "4,8,0,5": "tlbi ipas2le1is",
  "4,8,3,0": "tlbi alle2is",
  "4,8,3,1": "tlbi vae2is",
  "4,8,3,4": "tlbi alle1is",
  "4,8,3,5": "tlbi vale2is",
  "4,8,3,6": "tlbi vmalls12e1is",
  "4,8,4,1": "tlbi ipas2e1",
  "4,8,4,5": "tlbi ipas2le1",
  "4,8,7,0": "tlbi alle2",
  "4,8,7,1": "tlbi vae2",
  "4,8,7,4": "tlbi alle1",
  "4,8,7,5": "tlbi vale2",
  "4,8,7,6": "tlbi vmalls12e1",
};

/** The operations that take no register operand; every other named one always shows its Xt. */
const WITHOUT_REGISTER = new Set([
  "ic ialluis",
  "ic iallu",
  "tlbi vmalle1os",
  "tlbi vmalle1is",
  "tlbi vmalle1",
  "tlbi alle1is",
  "tlbi alle1",
  "tlbi alle2is",
  "tlbi alle2",
  "tlbi vmalls12e1is",
  "tlbi vmalls12e1",
]);

/** "dc civac", "tlbi vmalle1", … for a SYS encoding (op0 = 1), if it has a name. */
export function systemInstructionName(
  op1: number,
  crn: number,
  crm: number,
  op2: number,
): { name: string; takesRegister: boolean } | undefined {
  const name = SYSTEM_INSTRUCTIONS[`${op1},${crn},${crm},${op2}`];
  return name === undefined ? undefined : { name, takesRegister: !WITHOUT_REGISTER.has(name) };
}
