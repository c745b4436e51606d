// MRS/MSR of the system registers a guest at EL1/EL0 can reach, with the EL0
// access rules (SCTLR_EL1.UMA/UCT, CNTKCTL_EL1) and the host-trapped ones.
import * as K from "./sysreg-keys";
import {
  nzcv,
  daif,
  currentEl,
  spSel,
  requestEventCheck,
  sr,
  setSr,
  SCTLR_EL1,
  ACTLR_EL1,
  CPACR_EL1,
  TTBR0_EL1,
  TTBR1_EL1,
  TCR_EL1,
  MAIR_EL1,
  AMAIR_EL1,
  ESR_EL1,
  FAR_EL1,
  AFSR0_EL1,
  AFSR1_EL1,
  PAR_EL1,
  VBAR_EL1,
  CONTEXTIDR_EL1,
  TPIDR_EL0,
  TPIDRRO_EL0,
  TPIDR_EL1,
  SPSR_EL1,
  ELR_EL1,
  CSSELR_EL1,
  MDSCR_EL1,
  OSLSR_EL1,
  OSDLR_EL1,
  MDCCINT_EL1,
  CNTKCTL_EL1,
  CNTV_CVAL_EL0,
  CNTVOFF_EL2,
  MPIDR_EL1,
  GIC_VERSION,
  SPSR_ABT,
  SPSR_UND,
  SPSR_IRQ,
  SPSR_FIQ,
  GIC_PMR,
  GIC_BPR0,
  GIC_BPR1,
  GIC_AP0,
  GIC_AP1,
  GIC_IGRPEN,
  DBG_BVR,
  DBG_BCR,
  DBG_WVR,
  DBG_WCR,
} from "./state";
import { getBankedSp, setBankedSp, selectStackPointer } from "./registers";
import { flushFastCache, flushTlb } from "./mmu";
import { idRegister, cacheSizeId, isIdSpace, DCZID_BLOCK_LOG2_WORDS } from "./id-registers";
import {
  CNTFRQ,
  physicalCount,
  virtualCount,
  readCntvCtl,
  writeCntvCtl,
  writeCntvCval,
  readCntvTval,
  writeCntvTval,
} from "./timer";
import {
  acknowledge,
  endOfInterrupt,
  deactivate,
  highestPendingId,
  readRunningPriority,
  writePriorityMask,
  writeBinaryPoint,
  writeGroupEnable,
  readIcvCtlr,
  writeIcvCtlr,
  virtualInterruptSignal,
  SIGNAL_IRQ,
  SIGNAL_FIQ,
} from "./gic";
import { readFpcr, writeFpcr, readFpsr, writeFpsr } from "./fpsimd/index";
import { onDebugStateChange, BREAKPOINTS, WATCHPOINTS } from "./debug";

/** Outcome of a system register access. */
export const SR_OK: u32 = 0;
/** Not implemented or not accessible: Undefined Instruction. */
export const SR_UNDEFINED: u32 = 1;
/** Trapped to EL1 with EC 0x18 (EL0 access disabled by SCTLR_EL1 or CNTKCTL_EL1). */
export const SR_TRAP_EL1: u32 = 2;
/** Trapped to the host with a "sysreg" exit. */
export const SR_TRAP_HOST: u32 = 3;
/** SIMD&FP access disabled by CPACR_EL1.FPEN. */
export const SR_FP_TRAP: u32 = 4;

/** The value an MRS reads. */
export let sysregValue: u64 = 0;

const SCTLR_RES1: u64 = 0x30d0_0800;
const SCTLR_UMA: u64 = 1 << 9;
const SCTLR_DZE: u64 = 1 << 14;
const SCTLR_UCT: u64 = 1 << 15;
const SCTLR_UCI: u64 = 1 << 26;

function gicV3(): bool {
  return sr(GIC_VERSION) == 3;
}

/** SIMD&FP enabled at the current EL by CPACR_EL1.FPEN. */
export function fpEnabled(): bool {
  const fpen = (sr(CPACR_EL1) >> 20) & 3;
  return fpen == 3 || (fpen == 1 && currentEl == 1);
}

/** EL0 access checks for the registers EL0 may touch; other registers are UNDEFINED at EL0. */
function el0Access(key: u32, write: bool): u32 {
  const sctlr = sr(SCTLR_EL1);
  const kctl = sr(CNTKCTL_EL1);
  switch (key) {
    case K.K_NZCV:
    case K.K_FPCR:
    case K.K_FPSR:
    case K.K_TPIDR_EL0:
      return SR_OK;
    case K.K_DAIF:
      return sctlr & SCTLR_UMA ? SR_OK : SR_TRAP_EL1;
    case K.K_TPIDRRO_EL0:
    case K.K_DCZID_EL0:
      return write ? SR_UNDEFINED : SR_OK;
    case K.K_CTR_EL0:
      return write ? SR_UNDEFINED : sctlr & SCTLR_UCT ? SR_OK : SR_TRAP_EL1;
    case K.K_CNTFRQ_EL0:
      return write ? SR_UNDEFINED : kctl & 3 ? SR_OK : SR_TRAP_EL1;
    case K.K_CNTPCT_EL0:
      return write ? SR_UNDEFINED : kctl & 1 ? SR_OK : SR_TRAP_EL1;
    case K.K_CNTVCT_EL0:
      return write ? SR_UNDEFINED : kctl & 2 ? SR_OK : SR_TRAP_EL1;
    case K.K_CNTV_CTL_EL0:
    case K.K_CNTV_CVAL_EL0:
    case K.K_CNTV_TVAL_EL0:
      return kctl & (1 << 8) ? SR_OK : SR_TRAP_EL1;
    case K.K_CNTP_CTL_EL0:
    case K.K_CNTP_CVAL_EL0:
    case K.K_CNTP_TVAL_EL0:
      return kctl & (1 << 9) ? SR_OK : SR_TRAP_EL1;
    default:
      return SR_UNDEFINED;
  }
}

function isIcc(key: u32): bool {
  return key == K.K_ICC_PMR_EL1 || (key & 0xffc0) == 0xc640; // op0 3, op1 0, CRn 12, CRm 8..15
}

function isDebugPair(key: u32): bool {
  // DBGBVR/BCR/WVR/WCR<n>_EL1: op0 2, op1 0, CRn 0, CRm n, op2 4..7; only the implemented n exist.
  if ((key & 0xff84) != 0x8004) return false;
  const n = (key >> 3) & 15;
  return n < ((key & 7) < 6 ? BREAKPOINTS : WATCHPOINTS);
}

function debugSlot(key: u32): usize {
  const n = <usize>((key >> 3) & 15);
  const op2 = key & 7;
  const base = op2 == 4 ? DBG_BVR : op2 == 5 ? DBG_BCR : op2 == 6 ? DBG_WVR : DBG_WCR;
  return base + n * 8;
}

/** Common checks: EL0 rules, FP enable, GIC system-register availability. */
function accessCheck(key: u32, write: bool, el: u32): u32 {
  if (el == 0) {
    const r = el0Access(key, write);
    if (r != SR_OK) return r;
  }
  if ((key == K.K_FPCR || key == K.K_FPSR) && el < 2 && !fpEnabled()) return SR_FP_TRAP;
  if (isIcc(key) && !gicV3()) return SR_UNDEFINED;
  return SR_OK;
}

/** MRS: on SR_OK the value is in sysregValue. `el` is 2 for the host's own accesses. */
export function readSystemRegister(key: u32, el: u32): u32 {
  const check = accessCheck(key, false, el);
  if (check != SR_OK) return check;
  let v: u64 = 0;
  switch (key) {
    case K.K_SCTLR_EL1:
      v = sr(SCTLR_EL1);
      break;
    case K.K_ACTLR_EL1:
      v = sr(ACTLR_EL1);
      break;
    case K.K_CPACR_EL1:
      v = sr(CPACR_EL1);
      break;
    case K.K_TTBR0_EL1:
      v = sr(TTBR0_EL1);
      break;
    case K.K_TTBR1_EL1:
      v = sr(TTBR1_EL1);
      break;
    case K.K_TCR_EL1:
      v = sr(TCR_EL1);
      break;
    case K.K_SPSR_EL1:
      v = sr(SPSR_EL1);
      break;
    case K.K_ELR_EL1:
      v = sr(ELR_EL1);
      break;
    case K.K_SP_EL0:
      if (el == 1 && spSel == 0) return SR_UNDEFINED;
      v = getBankedSp(0);
      break;
    case K.K_SPSEL:
      v = <u64>spSel;
      break;
    case K.K_CURRENTEL:
      v = <u64>(currentEl << 2);
      break;
    case K.K_DAIF:
      v = <u64>daif;
      break;
    case K.K_NZCV:
      v = <u64>nzcv;
      break;
    case K.K_FPCR:
      v = readFpcr();
      break;
    case K.K_FPSR:
      v = readFpsr();
      break;
    case K.K_SPSR_IRQ:
      v = sr(SPSR_IRQ);
      break;
    case K.K_SPSR_ABT:
      v = sr(SPSR_ABT);
      break;
    case K.K_SPSR_UND:
      v = sr(SPSR_UND);
      break;
    case K.K_SPSR_FIQ:
      v = sr(SPSR_FIQ);
      break;
    case K.K_AFSR0_EL1:
      v = sr(AFSR0_EL1);
      break;
    case K.K_AFSR1_EL1:
      v = sr(AFSR1_EL1);
      break;
    case K.K_ESR_EL1:
      v = sr(ESR_EL1);
      break;
    case K.K_FAR_EL1:
      v = sr(FAR_EL1);
      break;
    case K.K_PAR_EL1:
      v = sr(PAR_EL1);
      break;
    case K.K_MAIR_EL1:
      v = sr(MAIR_EL1);
      break;
    case K.K_AMAIR_EL1:
      v = sr(AMAIR_EL1);
      break;
    case K.K_VBAR_EL1:
      v = sr(VBAR_EL1);
      break;
    case K.K_ISR_EL1: {
      const signal = virtualInterruptSignal();
      v = signal == SIGNAL_IRQ ? 1 << 7 : signal == SIGNAL_FIQ ? 1 << 6 : 0;
      break;
    }
    case K.K_CONTEXTIDR_EL1:
      v = sr(CONTEXTIDR_EL1);
      break;
    case K.K_TPIDR_EL1:
      v = sr(TPIDR_EL1);
      break;
    case K.K_TPIDR_EL0:
      v = sr(TPIDR_EL0);
      break;
    case K.K_TPIDRRO_EL0:
      v = sr(TPIDRRO_EL0);
      break;
    case K.K_CNTKCTL_EL1:
      v = sr(CNTKCTL_EL1);
      break;
    case K.K_CNTFRQ_EL0:
      v = CNTFRQ;
      break;
    case K.K_CNTPCT_EL0:
      v = physicalCount();
      break;
    case K.K_CNTVCT_EL0:
      v = virtualCount();
      break;
    case K.K_CNTV_CTL_EL0:
      v = readCntvCtl();
      break;
    case K.K_CNTV_CVAL_EL0:
      v = sr(CNTV_CVAL_EL0);
      break;
    case K.K_CNTV_TVAL_EL0:
      v = readCntvTval();
      break;
    case K.K_CNTVOFF_EL2:
      if (el < 2) return SR_UNDEFINED;
      v = sr(CNTVOFF_EL2);
      break;
    case K.K_CNTP_CTL_EL0:
    case K.K_CNTP_CVAL_EL0:
    case K.K_CNTP_TVAL_EL0:
    case K.K_ICC_SGI1R_EL1:
    case K.K_ICC_ASGI1R_EL1:
    case K.K_ICC_SGI0R_EL1:
      return el < 2 ? SR_TRAP_HOST : SR_UNDEFINED;
    case K.K_MPIDR_EL1:
      v = sr(MPIDR_EL1);
      break;
    case K.K_CCSIDR_EL1:
      v = cacheSizeId(sr(CSSELR_EL1));
      break;
    case K.K_CSSELR_EL1:
      v = sr(CSSELR_EL1);
      break;
    case K.K_CLIDR_EL1:
    case K.K_AIDR_EL1:
    case K.K_CTR_EL0:
      v = idRegister(key, gicV3());
      break;
    case K.K_DCZID_EL0:
      v = DCZID_BLOCK_LOG2_WORDS | (el == 0 && !(sr(SCTLR_EL1) & SCTLR_DZE) ? 1 << 4 : 0);
      break;
    case K.K_MDSCR_EL1:
      v = sr(MDSCR_EL1);
      break;
    case K.K_MDCCINT_EL1:
      v = sr(MDCCINT_EL1);
      break;
    case K.K_OSLSR_EL1:
      v = sr(OSLSR_EL1);
      break;
    case K.K_OSDLR_EL1:
      v = sr(OSDLR_EL1);
      break;
    case K.K_DBGPRCR_EL1:
    case K.K_MDCCSR_EL0:
    case K.K_DBGCLAIMSET_EL1:
    case K.K_DBGCLAIMCLR_EL1:
    case K.K_DBGAUTHSTATUS_EL1:
      v = 0;
      break;
    case K.K_ICC_PMR_EL1:
      v = sr(GIC_PMR);
      break;
    case K.K_ICC_IAR0_EL1:
      v = <u64>acknowledge(0);
      break;
    case K.K_ICC_IAR1_EL1:
      v = <u64>acknowledge(1);
      break;
    case K.K_ICC_HPPIR0_EL1:
      v = <u64>highestPendingId(0);
      break;
    case K.K_ICC_HPPIR1_EL1:
      v = <u64>highestPendingId(1);
      break;
    case K.K_ICC_BPR0_EL1:
      v = sr(GIC_BPR0);
      break;
    case K.K_ICC_BPR1_EL1:
      v = sr(GIC_BPR1);
      break;
    case K.K_ICC_AP0R0_EL1:
      v = sr(GIC_AP0);
      break;
    case K.K_ICC_AP1R0_EL1:
      v = sr(GIC_AP1);
      break;
    case K.K_ICC_RPR_EL1:
      v = <u64>readRunningPriority();
      break;
    case K.K_ICC_CTLR_EL1:
      v = readIcvCtlr();
      break;
    case K.K_ICC_SRE_EL1:
      v = 7; // SRE, DFB, DIB: system registers always enabled
      break;
    case K.K_ICC_IGRPEN0_EL1:
      v = sr(GIC_IGRPEN) & 1;
      break;
    case K.K_ICC_IGRPEN1_EL1:
      v = (sr(GIC_IGRPEN) >> 1) & 1;
      break;
    case K.K_ICC_EOIR0_EL1:
    case K.K_ICC_EOIR1_EL1:
    case K.K_ICC_DIR_EL1:
    case K.K_OSLAR_EL1:
      return SR_UNDEFINED; // write-only
    default:
      if (isDebugPair(key)) {
        v = load<u64>(debugSlot(key));
        break;
      }
      if (isIdSpace(key) && el > 0) {
        v = key == K.K_MPIDR_EL1 ? sr(MPIDR_EL1) : idRegister(key, gicV3());
        break;
      }
      return SR_UNDEFINED;
  }
  sysregValue = v;
  return SR_OK;
}

/** MSR (register). `el` is 2 for the host's own accesses. */
export function writeSystemRegister(key: u32, v: u64, el: u32): u32 {
  const check = accessCheck(key, true, el);
  if (check != SR_OK) return check;
  switch (key) {
    case K.K_SCTLR_EL1: {
      const old = sr(SCTLR_EL1);
      setSr(SCTLR_EL1, v | SCTLR_RES1);
      if ((old ^ v) & 1) flushTlb();
      else flushFastCache();
      break;
    }
    case K.K_ACTLR_EL1:
      setSr(ACTLR_EL1, v);
      break;
    case K.K_CPACR_EL1:
      setSr(CPACR_EL1, v & 0x1030_0000);
      break;
    case K.K_TTBR0_EL1:
      setSr(TTBR0_EL1, v);
      flushFastCache();
      break;
    case K.K_TTBR1_EL1:
      setSr(TTBR1_EL1, v);
      flushFastCache();
      break;
    case K.K_TCR_EL1:
      setSr(TCR_EL1, v);
      flushTlb();
      break;
    case K.K_SPSR_EL1:
      setSr(SPSR_EL1, v & 0xf03f_03df);
      break;
    case K.K_ELR_EL1:
      setSr(ELR_EL1, v);
      break;
    case K.K_SP_EL0:
      if (el == 1 && spSel == 0) return SR_UNDEFINED;
      setBankedSp(0, v);
      break;
    case K.K_SPSEL:
      spSel = (<u32>v) & 1;
      if (currentEl == 1) selectStackPointer(spSel);
      break;
    case K.K_CURRENTEL:
      if (el < 2) return SR_UNDEFINED;
      break;
    case K.K_DAIF:
      daif = (<u32>v) & 0x3c0;
      requestEventCheck();
      break;
    case K.K_NZCV:
      nzcv = (<u32>v) & 0xf000_0000;
      break;
    case K.K_FPCR:
      writeFpcr(v);
      break;
    case K.K_FPSR:
      writeFpsr(v);
      break;
    case K.K_SPSR_IRQ:
      setSr(SPSR_IRQ, v);
      break;
    case K.K_SPSR_ABT:
      setSr(SPSR_ABT, v);
      break;
    case K.K_SPSR_UND:
      setSr(SPSR_UND, v);
      break;
    case K.K_SPSR_FIQ:
      setSr(SPSR_FIQ, v);
      break;
    case K.K_AFSR0_EL1:
      setSr(AFSR0_EL1, v);
      break;
    case K.K_AFSR1_EL1:
      setSr(AFSR1_EL1, v);
      break;
    case K.K_ESR_EL1:
      setSr(ESR_EL1, v & 0xffff_ffff);
      break;
    case K.K_FAR_EL1:
      setSr(FAR_EL1, v);
      break;
    case K.K_PAR_EL1:
      setSr(PAR_EL1, v);
      break;
    case K.K_MAIR_EL1:
      setSr(MAIR_EL1, v);
      flushTlb();
      break;
    case K.K_AMAIR_EL1:
      setSr(AMAIR_EL1, v);
      break;
    case K.K_VBAR_EL1:
      setSr(VBAR_EL1, v & ~(<u64>0x7ff));
      break;
    case K.K_CONTEXTIDR_EL1:
      setSr(CONTEXTIDR_EL1, v & 0xffff_ffff);
      break;
    case K.K_TPIDR_EL1:
      setSr(TPIDR_EL1, v);
      break;
    case K.K_TPIDR_EL0:
      setSr(TPIDR_EL0, v);
      break;
    case K.K_TPIDRRO_EL0:
      if (el == 0) return SR_UNDEFINED;
      setSr(TPIDRRO_EL0, v);
      break;
    case K.K_CNTKCTL_EL1:
      setSr(CNTKCTL_EL1, v & 0x3ff);
      break;
    case K.K_CNTV_CTL_EL0:
      writeCntvCtl(v);
      break;
    case K.K_CNTV_CVAL_EL0:
      writeCntvCval(v);
      break;
    case K.K_CNTV_TVAL_EL0:
      writeCntvTval(v);
      break;
    case K.K_CNTVOFF_EL2:
      if (el < 2) return SR_UNDEFINED;
      setSr(CNTVOFF_EL2, v);
      requestEventCheck();
      break;
    case K.K_CNTP_CTL_EL0:
    case K.K_CNTP_CVAL_EL0:
    case K.K_CNTP_TVAL_EL0:
    case K.K_ICC_SGI1R_EL1:
    case K.K_ICC_ASGI1R_EL1:
    case K.K_ICC_SGI0R_EL1:
      return el < 2 ? SR_TRAP_HOST : SR_UNDEFINED;
    case K.K_MPIDR_EL1:
      if (el < 2) return SR_UNDEFINED;
      setSr(MPIDR_EL1, v);
      break;
    case K.K_CSSELR_EL1:
      setSr(CSSELR_EL1, v & 0xf);
      break;
    case K.K_MDSCR_EL1:
      setSr(MDSCR_EL1, v);
      onDebugStateChange();
      break;
    case K.K_MDCCINT_EL1:
      setSr(MDCCINT_EL1, v);
      break;
    case K.K_OSLAR_EL1:
      setSr(OSLSR_EL1, (sr(OSLSR_EL1) & ~(<u64>2)) | ((v & 1) << 1));
      onDebugStateChange();
      break;
    case K.K_OSDLR_EL1:
      setSr(OSDLR_EL1, v & 1);
      onDebugStateChange();
      break;
    case K.K_DBGPRCR_EL1:
    case K.K_DBGCLAIMSET_EL1:
    case K.K_DBGCLAIMCLR_EL1:
      break;
    case K.K_ICC_PMR_EL1:
      writePriorityMask(v);
      break;
    case K.K_ICC_EOIR0_EL1:
    case K.K_ICC_EOIR1_EL1:
      endOfInterrupt((<u32>v) & 0xffffff);
      break;
    case K.K_ICC_DIR_EL1:
      deactivate((<u32>v) & 0xffffff);
      requestEventCheck();
      break;
    case K.K_ICC_BPR0_EL1:
      writeBinaryPoint(0, v);
      break;
    case K.K_ICC_BPR1_EL1:
      writeBinaryPoint(1, v);
      break;
    case K.K_ICC_AP0R0_EL1:
      setSr(GIC_AP0, v & 0xffff_ffff);
      requestEventCheck();
      break;
    case K.K_ICC_AP1R0_EL1:
      setSr(GIC_AP1, v & 0xffff_ffff);
      requestEventCheck();
      break;
    case K.K_ICC_CTLR_EL1:
      writeIcvCtlr(v);
      break;
    case K.K_ICC_SRE_EL1:
      break; // SRE is fixed at 1
    case K.K_ICC_IGRPEN0_EL1:
      writeGroupEnable(0, (v & 1) != 0);
      break;
    case K.K_ICC_IGRPEN1_EL1:
      writeGroupEnable(1, (v & 1) != 0);
      break;
    default:
      if (isDebugPair(key)) {
        store<u64>(debugSlot(key), v);
        onDebugStateChange();
        break;
      }
      return SR_UNDEFINED; // read-only or not implemented
  }
  return SR_OK;
}
