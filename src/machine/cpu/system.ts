// A64 exception generation and system instructions: SVC/HVC/SMC/BRK/HLT,
// hints (WFI/WFE/SEV/SEVL and the NOP space), barriers, MSR (immediate),
// cache and TLB maintenance, address translation, and MRS/MSR.
import { getX, setX, selectStackPointer } from "./registers";
import {
  pc,
  nextPc,
  daif,
  currentEl,
  spSel,
  requestEventCheck,
  sr,
  setSr,
  SCTLR_EL1,
  PAR_EL1,
  FAR_EL1,
  TCR_EL1,
  EVENT_REGISTER,
  SEV_SEEN,
} from "./state";
import {
  syncException,
  takeException,
  VECTOR_SYNC,
  EC_SVC64,
  EC_BRK64,
  EC_SYSREG,
  EC_FP_ACCESS,
  ESR_IL,
} from "./exceptions";
import { raiseExit, exitEsr, exitInsn, EXIT_HVC, EXIT_SMC, EXIT_WFI, EXIT_WFE, EXIT_SYSREG } from "./exits";
import { clearExclusiveMonitor } from "./exclusive-monitor";
import { tlbiByVa, tlbiByAsid, flushTlb, addressTranslate, zeroBlock } from "./mmu";
import { accessFaulted } from "./memory-access";
import { virtualInterruptSignal, SIGNAL_NONE } from "./gic";
import {
  readSystemRegister,
  writeSystemRegister,
  sysregValue,
  SR_OK,
  SR_TRAP_EL1,
  SR_TRAP_HOST,
  SR_FP_TRAP,
} from "./sysregs";
import { DC_ZVA_BYTES, D_CACHE_LINE_BYTES } from "./id-registers";
import { watchpointsArmed, watchpointHit } from "./debug";

const SCTLR_UMA: u64 = 1 << 9;
const SCTLR_DZE: u64 = 1 << 14;
const SCTLR_UCI: u64 = 1 << 26;

/** Count of SEV instructions machine-wide; a vCPU that has not seen the latest has its event register set. */
export let sevCount: u64 = 0;

/** SVC, HVC, SMC, BRK, HLT, DCPS. */
export function exceptionGeneration(insn: u32): bool {
  const opc = (insn >> 21) & 7;
  const op2 = (insn >> 2) & 7;
  const ll = insn & 3;
  const imm16 = (insn >> 5) & 0xffff;
  if (op2 != 0) return false;
  if (opc == 0) {
    if (ll == 1) {
      takeException(VECTOR_SYNC, (EC_SVC64 << 26) | ESR_IL | imm16, pc + 4);
      return true;
    }
    // HVC and SMC at EL1 go to the host (EL2 traps SMC); at EL0 they are UNDEFINED.
    if (currentEl == 0 || ll == 0) return false;
    raiseExit(ll == 2 ? EXIT_HVC : EXIT_SMC, imm16);
    return true;
  }
  if (opc == 1 && ll == 0) {
    syncException(EC_BRK64, imm16);
    return true;
  }
  // HLT: halting debug is never enabled, so it is UNDEFINED; DCPS* likewise.
  return false;
}

/** The trapped-system-instruction ISS (EC 0x18) of the current MRS/MSR/SYS instruction. */
function sysregIss(insn: u32): u32 {
  const op0 = (insn >> 19) & 3;
  const op1 = (insn >> 16) & 7;
  const crn = (insn >> 12) & 15;
  const crm = (insn >> 8) & 15;
  const op2 = (insn >> 5) & 7;
  const rt = insn & 31;
  const read = (insn >> 21) & 1;
  return (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (rt << 5) | (crm << 1) | read;
}

function trapToEl1(insn: u32): void {
  syncException(EC_SYSREG, sysregIss(insn));
}

function trapToHost(insn: u32): void {
  raiseExit(EXIT_SYSREG, 0);
  exitEsr = (EC_SYSREG << 26) | ESR_IL | sysregIss(insn);
  exitInsn = insn;
  nextPc = pc;
}

/** Handles an access outcome other than SR_OK; returns false for UNDEFINED. */
function accessOutcome(result: u32, insn: u32): bool {
  if (result == SR_TRAP_EL1) trapToEl1(insn);
  else if (result == SR_TRAP_HOST) trapToHost(insn);
  else if (result == SR_FP_TRAP) syncException(EC_FP_ACCESS, 0);
  else return false;
  return true;
}

export function executeSystem(insn: u32): bool {
  const l = (insn >> 21) & 1;
  const op0 = (insn >> 19) & 3;
  if (op0 >= 2) {
    const key = (insn >> 5) & 0xffff;
    const rt = insn & 31;
    if (l) {
      const result = readSystemRegister(key, currentEl);
      if (result != SR_OK) return accessOutcome(result, insn);
      setX(rt, sysregValue);
      return true;
    }
    const result = writeSystemRegister(key, getX(rt), currentEl);
    return result == SR_OK ? true : accessOutcome(result, insn);
  }
  if (l) return false; // SYSL: nothing is implemented
  if (op0 == 1) return systemInstruction(insn);
  const crn = (insn >> 12) & 15;
  if (crn == 2 && (insn & 31) == 31 && ((insn >> 16) & 7) == 3) return hint(insn);
  if (crn == 3 && (insn & 31) == 31 && ((insn >> 16) & 7) == 3) return barrier(insn);
  if (crn == 4 && (insn & 31) == 31) return msrImmediate(insn);
  return false;
}

function hint(insn: u32): bool {
  const op = (insn >> 5) & 0x7f; // CRm:op2
  switch (op) {
    case 2: // WFE
      if (sr(EVENT_REGISTER) || sr(SEV_SEEN) != sevCount) {
        setSr(EVENT_REGISTER, 0);
        setSr(SEV_SEEN, sevCount);
        return true;
      }
      raiseExit(EXIT_WFE, 0);
      nextPc = pc;
      return true;
    case 3: // WFI: completes at once if a virtual interrupt is pending, even when masked
      if (virtualInterruptSignal() == SIGNAL_NONE) {
        raiseExit(EXIT_WFI, 0);
        nextPc = pc;
      }
      return true;
    case 4: // SEV
      sevCount++;
      return true;
    case 5: // SEVL
      setSr(EVENT_REGISTER, 1);
      return true;
    default:
      // NOP, YIELD and the rest of the hint space (PAC, BTI, ESB, CSDB, ...) execute as NOPs.
      return true;
  }
}

function barrier(insn: u32): bool {
  const op2 = (insn >> 5) & 7;
  switch (op2) {
    case 2: // CLREX
      clearExclusiveMonitor();
      return true;
    case 4: // DSB
    case 5: // DMB
    case 6: // ISB: instructions are decoded from memory every time, so nothing is stale
      return true;
    default:
      return false; // SB and SSBB-style encodings are not in ARMv8.0
  }
}

function msrImmediate(insn: u32): bool {
  const op1 = (insn >> 16) & 7;
  const op2 = (insn >> 5) & 7;
  const crm = (insn >> 8) & 15;
  if (op1 == 3 && (op2 == 6 || op2 == 7)) {
    if (currentEl == 0 && !(sr(SCTLR_EL1) & SCTLR_UMA)) {
      trapToEl1(insn);
      return true;
    }
    daif = op2 == 6 ? daif | (crm << 6) : daif & ~(crm << 6);
    requestEventCheck();
    return true;
  }
  if (op1 == 0 && op2 == 5) {
    if (currentEl == 0) return false;
    spSel = crm & 1;
    selectStackPointer(spSel);
    return true;
  }
  return false; // PAN, UAO, SSBS, DIT, ... are not implemented
}

/** SYS: AT, DC, IC and TLBI. */
function systemInstruction(insn: u32): bool {
  const op1 = (insn >> 16) & 7;
  const crn = (insn >> 12) & 15;
  const crm = (insn >> 8) & 15;
  const op2 = (insn >> 5) & 7;
  const rt = insn & 31;
  if (crn == 7) return cacheOrTranslate(insn, op1, crm, op2, rt);
  if (crn == 8 && op1 == 0 && (crm == 3 || crm == 7)) {
    if (currentEl == 0) return false;
    return tlbInvalidate(op2, getX(rt));
  }
  return false;
}

function currentAsidWidth(asid: u32): u32 {
  return (sr(TCR_EL1) >> 36) & 1 ? asid : asid & 0xff;
}

function tlbInvalidate(op2: u32, operand: u64): bool {
  const asid = currentAsidWidth(<u32>(operand >> 48));
  switch (op2) {
    case 0: // VMALLE1(IS)
      flushTlb();
      return true;
    case 1: // VAE1(IS)
    case 5: // VALE1(IS)
      tlbiByVa(operand, asid, false);
      return true;
    case 2: // ASIDE1(IS)
      tlbiByAsid(asid);
      return true;
    case 3: // VAAE1(IS)
    case 7: // VAALE1(IS)
      tlbiByVa(operand, 0, true);
      return true;
    default:
      return false;
  }
}

function cacheOrTranslate(insn: u32, op1: u32, crm: u32, op2: u32, rt: u32): bool {
  const el0 = currentEl == 0;
  const sctlr = sr(SCTLR_EL1);
  if (op1 == 0) {
    if (el0) return false;
    if (crm == 8 && op2 < 4) {
      // AT S1E1R, S1E1W, S1E0R, S1E0W
      const par = addressTranslate(getX(rt), (op2 & 1) != 0, op2 < 2 ? 1 : 0);
      if (!accessFaulted) setSr(PAR_EL1, par);
      return true;
    }
    // IC IALLUIS, IC IALLU, DC IVAC, DC ISW, DC CSW, DC CISW: memory is coherent, nothing to do.
    if ((crm == 1 || crm == 5) && op2 == 0) return true;
    if (crm == 6 && op2 == 1) {
      dataCacheInvalidateWatch(getX(rt));
      return true;
    }
    if (crm == 6 && op2 == 2) return true;
    if ((crm == 10 || crm == 14) && op2 == 2) return true;
    return false;
  }
  if (op1 != 3) return false;
  if (crm == 4 && op2 == 1) {
    // DC ZVA
    if (el0 && !(sctlr & SCTLR_DZE)) {
      trapToEl1(insn);
      return true;
    }
    zeroBlock(getX(rt) & ~(<u64>(DC_ZVA_BYTES - 1)), DC_ZVA_BYTES);
    return true;
  }
  // DC CVAC, DC CVAU, DC CIVAC, IC IVAU: NOPs (coherent memory), trapped at EL0 unless SCTLR_EL1.UCI.
  if ((crm == 10 || crm == 11 || crm == 14) && op2 == 1) return cacheMaintenanceAtEl0(insn, el0, sctlr);
  if (crm == 5 && op2 == 1) return cacheMaintenanceAtEl0(insn, el0, sctlr);
  return false;
}

/**
 * DC IVAC invalidates nothing here, but a Cortex-A53 generates watchpoint debug events for it (its TRM,
 * "Watchpoint debug events"): a store of the whole data cache line holding `va`, reported with ESR.CM
 * set and FAR the address the instruction was given.
 */
function dataCacheInvalidateWatch(va: u64): void {
  if (!watchpointsArmed) return;
  const line = va & ~(<u64>(D_CACHE_LINE_BYTES - 1));
  if (watchpointHit(line, D_CACHE_LINE_BYTES, true, currentEl, true)) setSr(FAR_EL1, va);
}

function cacheMaintenanceAtEl0(insn: u32, el0: bool, sctlr: u64): bool {
  if (el0 && !(sctlr & SCTLR_UCI)) trapToEl1(insn);
  return true;
}
