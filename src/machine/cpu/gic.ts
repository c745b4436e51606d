// The GIC virtual CPU interface over four list registers: the GICv2 GICV
// memory-mapped registers and the GICv3 ICV system registers share one state.
// List registers use the GICH_LR layout of GICv2: VirtualID 9:0, PhysicalID
// 19:10 (with HW = 0: EOI 19 and SGI source CPU 12:10), Priority 27:23,
// State 29:28 (1 pending, 2 active, 3 both), Grp1 30, HW 31.
import {
  requestEventCheck,
  sr,
  setSr,
  GIC_LR,
  GIC_CTLR,
  GIC_PMR,
  GIC_BPR0,
  GIC_BPR1,
  GIC_AP0,
  GIC_AP1,
  GIC_IGRPEN,
} from "./state";
import { raiseExit, EXIT_MAINTENANCE } from "./exits";

export const GICV_SIZE: u32 = 0x2000;
export const LIST_REGISTERS: u32 = 4;
const SPURIOUS: u32 = 1023;
const IDLE_PRIORITY: u32 = 0x100;

// GICV_CTLR bits kept in GIC_CTLR (the enables live in GIC_IGRPEN).
const CTLR_FIQ_EN: u32 = 1 << 3;
const CTLR_CBPR: u32 = 1 << 4;
const CTLR_EOIMODE: u32 = 1 << 9;

export const SIGNAL_NONE: u32 = 0;
export const SIGNAL_IRQ: u32 = 1;
export const SIGNAL_FIQ: u32 = 2;

export function getListRegister(i: u32): u32 {
  return load<u32>(GIC_LR + ((<usize>(i & 3)) << 2));
}

export function setListRegister(i: u32, v: u32): void {
  store<u32>(GIC_LR + ((<usize>(i & 3)) << 2), v);
  requestEventCheck();
}

export function resetGicInterface(): void {
  for (let i: u32 = 0; i < LIST_REGISTERS; i++) store<u32>(GIC_LR + ((<usize>i) << 2), 0);
  setSr(GIC_CTLR, 0);
  setSr(GIC_PMR, 0);
  setSr(GIC_BPR0, 2);
  setSr(GIC_BPR1, 3);
  setSr(GIC_AP0, 0);
  setSr(GIC_AP1, 0);
  setSr(GIC_IGRPEN, 0);
}

function lrPriority(lr: u32): u32 {
  return ((lr >> 23) & 0x1f) << 3;
}

function lrGroup(lr: u32): u32 {
  return (lr >> 30) & 1;
}

/** Preemption mask of a group: only the group-priority bits take part in preemption. */
function groupMask(group: u32): u32 {
  if (group == 0 || sr(GIC_CTLR) & CTLR_CBPR) return (0xff << (<u32>sr(GIC_BPR0) + 1)) & 0xff;
  return (0xff << (<u32>sr(GIC_BPR1))) & 0xff;
}

function runningPriority(): u32 {
  const ap = <u32>(sr(GIC_AP0) | sr(GIC_AP1));
  return ap == 0 ? IDLE_PRIORITY : ctz(ap) << 3;
}

/** Index of the highest-priority pending LR of an enabled group (`group` < 0: either), or -1. */
function highestPending(group: i32): i32 {
  let best: i32 = -1;
  let bestPriority: u32 = IDLE_PRIORITY;
  const enables = <u32>sr(GIC_IGRPEN);
  for (let i: u32 = 0; i < LIST_REGISTERS; i++) {
    const lr = getListRegister(i);
    if (((lr >> 28) & 3) != 1) continue;
    const g = lrGroup(lr);
    if (group >= 0 && <u32>group != g) continue;
    if (!((enables >> g) & 1)) continue;
    const p = lrPriority(lr);
    if (p < bestPriority) {
      bestPriority = p;
      best = <i32>i;
    }
  }
  return best;
}

function canSignal(lr: u32): bool {
  const p = lrPriority(lr);
  return p < <u32>sr(GIC_PMR) && (p & groupMask(lrGroup(lr))) < runningPriority();
}

/** Which exception the virtual interface is asserting. */
export function virtualInterruptSignal(): u32 {
  const i = highestPending(-1);
  if (i < 0) return SIGNAL_NONE;
  const lr = getListRegister(<u32>i);
  if (!canSignal(lr)) return SIGNAL_NONE;
  return lrGroup(lr) == 0 && sr(GIC_CTLR) & CTLR_FIQ_EN ? SIGNAL_FIQ : SIGNAL_IRQ;
}

function interruptId(lr: u32): u32 {
  const id = lr & 0x3ff;
  // GICv2 reports the source CPU of a software-generated interrupt with its ID.
  if (id < 16 && !(lr >> 31)) return id | (((lr >> 10) & 7) << 10);
  return id;
}

/** IAR / AIAR / ICC_IAR0/1: acknowledge the highest-priority pending interrupt of a group. */
export function acknowledge(group: u32): u32 {
  const i = highestPending(<i32>group);
  if (i < 0) return SPURIOUS;
  const lr = getListRegister(<u32>i);
  if (!canSignal(lr)) return SPURIOUS;
  setListRegister(<u32>i, (lr & ~(3 << 28)) | (2 << 28));
  const priorityGroup = (lrPriority(lr) & groupMask(group)) >> 3;
  const bit = (<u64>1) << (<u64>priorityGroup);
  if (group == 0) setSr(GIC_AP0, sr(GIC_AP0) | bit);
  else setSr(GIC_AP1, sr(GIC_AP1) | bit);
  return interruptId(lr);
}

/** EOIR / AEOIR / ICC_EOIR0/1: priority drop, and deactivation unless EOImode is 1. */
export function endOfInterrupt(id: u32): void {
  const ap0 = <u32>sr(GIC_AP0);
  const ap1 = <u32>sr(GIC_AP1);
  const ap = ap0 | ap1;
  if (ap != 0) {
    const bit = ap & -ap;
    if (ap0 & bit) setSr(GIC_AP0, ap0 & ~bit);
    else setSr(GIC_AP1, ap1 & ~bit);
  }
  if (!(sr(GIC_CTLR) & CTLR_EOIMODE)) deactivate(id);
  requestEventCheck();
}

/** DIR / ICC_DIR: deactivates an interrupt; an LR that asked for it raises a maintenance exit. */
export function deactivate(id: u32): void {
  const vid = id & 0x3ff;
  for (let i: u32 = 0; i < LIST_REGISTERS; i++) {
    const lr = getListRegister(i);
    if ((lr & 0x3ff) != vid || !((lr >> 28) & 2)) continue;
    const updated = lr & ~(2 << 28);
    setListRegister(i, updated);
    if (!(lr >> 31) && lr & (1 << 19) && ((updated >> 28) & 3) == 0) raiseExit(EXIT_MAINTENANCE, i);
    return;
  }
}

export function highestPendingId(group: i32): u32 {
  const i = highestPending(group);
  return i < 0 ? SPURIOUS : interruptId(getListRegister(<u32>i));
}

export function readRunningPriority(): u32 {
  const rp = runningPriority();
  return rp == IDLE_PRIORITY ? 0xff : rp;
}

export function writePriorityMask(v: u64): void {
  setSr(GIC_PMR, v & 0xf8);
  requestEventCheck();
}

export function writeBinaryPoint(group: u32, v: u64): void {
  const min: u64 = group == 0 ? 2 : 3;
  const bpr = v & 7;
  setSr(group == 0 ? GIC_BPR0 : GIC_BPR1, bpr < min ? min : bpr);
}

export function writeGroupEnable(group: u32, on: bool): void {
  const enables = sr(GIC_IGRPEN) & ~((<u64>1) << group);
  setSr(GIC_IGRPEN, enables | (on ? (<u64>1) << group : 0));
  requestEventCheck();
}

// ---- GICv2 GICV registers (offsets within the 8 KiB GICV frame) ----

export function gicvRead(offset: u32, size: u32): u64 {
  if (size != 4) return 0;
  switch (offset) {
    case 0x0000:
      return sr(GIC_CTLR) | sr(GIC_IGRPEN);
    case 0x0004:
      return sr(GIC_PMR);
    case 0x0008:
      return sr(GIC_BPR0);
    case 0x000c:
      return acknowledge(0);
    case 0x0014:
      return readRunningPriority();
    case 0x0018:
      return highestPendingId(0);
    case 0x001c:
      return sr(GIC_BPR1);
    case 0x0020:
      return acknowledge(1);
    case 0x0028:
      return highestPendingId(1);
    case 0x00d0:
      return sr(GIC_AP0);
    case 0x00e0:
      return sr(GIC_AP1);
    case 0x00fc:
      return 0x0202_143b; // GICv2, implementer ARM
    default:
      return 0;
  }
}

export function gicvWrite(offset: u32, size: u32, v: u64): void {
  if (size != 4) return;
  switch (offset) {
    case 0x0000:
      setSr(GIC_CTLR, v & (0x1c | CTLR_EOIMODE));
      setSr(GIC_IGRPEN, v & 3);
      requestEventCheck();
      break;
    case 0x0004:
      writePriorityMask(v);
      break;
    case 0x0008:
      writeBinaryPoint(0, v);
      break;
    case 0x0010:
    case 0x0024:
      endOfInterrupt(<u32>v);
      break;
    case 0x001c:
      writeBinaryPoint(1, v);
      break;
    case 0x00d0:
      setSr(GIC_AP0, v & 0xffff_ffff);
      requestEventCheck();
      break;
    case 0x00e0:
      setSr(GIC_AP1, v & 0xffff_ffff);
      requestEventCheck();
      break;
    case 0x1000:
      deactivate(<u32>v);
      break;
    default:
      break;
  }
}

// ---- GICv3 ICV_CTLR_EL1 ----

export function readIcvCtlr(): u64 {
  const ctlr = sr(GIC_CTLR);
  // PRIbits = 4 (five priority bits), IDbits = 0 (16-bit INTIDs).
  return (ctlr & CTLR_CBPR ? 1 : 0) | (ctlr & CTLR_EOIMODE ? 2 : 0) | (4 << 8);
}

export function writeIcvCtlr(v: u64): void {
  let ctlr = sr(GIC_CTLR) & ~(<u64>(CTLR_CBPR | CTLR_EOIMODE));
  if (v & 1) ctlr |= CTLR_CBPR;
  if (v & 2) ctlr |= CTLR_EOIMODE;
  setSr(GIC_CTLR, ctlr);
}
