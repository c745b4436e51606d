// The architectural state a differential run starts from and ends with, and its byte layout in the
// test program's data area (the prologue loads the "initial" block, the epilogue stores the "result"
// block; qemu writes result + scratch to stdout, virtkit leaves them in RAM).
import type { Random } from "./random.ts";
import {
  SCRATCH_BASE_REGISTER,
  SCRATCH_SIZE,
  SNAPSHOT_REGISTER,
  STACK_OFFSET,
} from "./generators/context.ts";

export const CODE_ADDRESS = 0x4000_0000;
/** Within ADRP range of the code, far enough for a batch of a few thousand items. */
export const DATA_ADDRESS = 0x4008_0000;
export const RESULT_BLOCK = DATA_ADDRESS + 0x400;
export const SCRATCH_ADDRESS = DATA_ADDRESS + 0x800;
export const STACK_ADDRESS = SCRATCH_ADDRESS + STACK_OFFSET;
export const BLOCK_SIZE = 0x400;
/** Bytes the program reports: the result block followed by the scratch area. */
export const REPORT_SIZE = BLOCK_SIZE + SCRATCH_SIZE;

/**
 * The snapshot log: after every item the program stores X0-X30, SP, NZCV, FPSR, a hash of the scratch
 * area and V0-V31 here, so a result that a later instruction overwrites (a register or memory) is
 * still compared. 1 MiB above the code, up to 2 MiB.
 */
export const LOG_ADDRESS = 0x4010_0000;
/**
 * Byte offsets in a snapshot: X0-X30 at 8 * n, except that X27 (the log pointer) is not stored and
 * SP takes its place; the scratch hash is each of its 64-bit words in turn folded in as
 * `hash = word ^ ror(hash, 13)`, from 0.
 */
export const SNAPSHOT_SLOT = {
  x: 0,
  sp: 8 * SNAPSHOT_REGISTER,
  nzcv: 248,
  fpsr: 256,
  scratchHash: 264,
  v: 272,
} as const;
export const SNAPSHOT_SIZE = SNAPSHOT_SLOT.v + 32 * 16;
export const MAX_SNAPSHOTS = Math.floor(0x20_0000 / SNAPSHOT_SIZE);

/** Byte offsets inside a state block. */
export const SLOT = { x: 0, sp: 248, nzcv: 256, fpcr: 264, fpsr: 272, v: 288 } as const;

export interface VectorValue {
  lo: bigint;
  hi: bigint;
}

export interface CpuState {
  /** X0..X30. */
  x: bigint[];
  sp: bigint;
  /** NZCV in bits 31:28, as MRS NZCV reads it. */
  nzcv: number;
  fpcr: number;
  fpsr: number;
  v: VectorValue[];
  scratch: Uint8Array;
}

const INTEGER_EDGES = [
  0n,
  1n,
  2n,
  0xffffffffffffffffn,
  0x7fffffffffffffffn,
  0x8000000000000000n,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x100000000n,
  0xffffffff80000000n,
  0xffffffff7fffffffn,
  0x8000n,
  0xffffn,
  0x80n,
  0xffn,
  63n,
  64n,
  32n,
];

export const DOUBLE_EDGES = [
  0n,
  0x8000000000000000n,
  0x3ff0000000000000n,
  0xbff0000000000000n,
  0x7ff0000000000000n,
  0xfff0000000000000n,
  0x7ff8000000000000n,
  0x7ff4000000000000n,
  0xfff8000000000123n,
  0x0000000000000001n,
  0x000fffffffffffffn,
  0x7fefffffffffffffn,
  0x0010000000000000n,
  0x3fe0000000000000n,
  0x43e0000000000000n,
  0xc3e0000000000000n,
  0x41e0000000000000n,
  0xc1e0000000000000n,
  0x3ff8000000000000n,
  0x4004000000000000n,
  0x4330000000000000n,
  0x43f0000000000000n,
  0x41dfffffffc00000n,
];

export const FLOAT_EDGES = [
  0, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7fa00000, 0xffc00123,
  0x00000001, 0x007fffff, 0x7f7fffff, 0x00800000, 0x3f000000, 0x4f000000, 0xcf000000, 0x5f000000, 0x3fc00000,
  0x40200000, 0x4effffff, 0x3c00, 0x7c00, 0x7e00, 0x0001, 0x7bff, 0x8000,
];

function integerValue(rng: Random): bigint {
  switch (rng.below(4)) {
    case 0:
      return rng.pick(INTEGER_EDGES);
    case 1:
      return BigInt(rng.range(0, 300));
    case 2:
      return BigInt.asUintN(64, BigInt(rng.u32() | 0));
    default:
      return rng.u64();
  }
}

/** A float of moderate magnitude, so arithmetic produces ordinary results too, not only overflow. */
function moderateFloat(rng: Random, double: boolean): bigint {
  const sign = rng.chance(0.5) ? 1 : 0;
  if (double) {
    const exponent = 1023 + rng.range(-40, 70);
    return (BigInt(sign) << 63n) | (BigInt(exponent) << 52n) | (rng.u64() & 0xfffffffffffffn);
  }
  const exponent = 127 + rng.range(-20, 40);
  return BigInt(((sign << 31) | (exponent << 23) | (rng.u32() & 0x7fffff)) >>> 0);
}

function vectorHalf(rng: Random): bigint {
  switch (rng.below(6)) {
    case 0:
      return rng.pick(DOUBLE_EDGES);
    case 1:
      return moderateFloat(rng, true);
    case 2:
      return (BigInt(rng.pick(FLOAT_EDGES)) << 32n) | BigInt(rng.pick(FLOAT_EDGES));
    case 3:
      return (moderateFloat(rng, false) << 32n) | moderateFloat(rng, false);
    case 4:
      return integerValue(rng);
    default:
      return rng.u64();
  }
}

/** A random initial state rich in edge values; x28 points at scratch, SP into its middle. */
export function randomState(rng: Random): CpuState {
  const x = Array.from({ length: 31 }, () => integerValue(rng));
  x[SCRATCH_BASE_REGISTER] = BigInt(SCRATCH_ADDRESS);
  x[SNAPSHOT_REGISTER] = BigInt(LOG_ADDRESS);
  const rounding = rng.chance(0.5) ? rng.below(4) : 0;
  const fpcr =
    (rounding << 22) |
    (rng.chance(0.2) ? 1 << 24 : 0) |
    (rng.chance(0.2) ? 1 << 25 : 0) |
    (rng.chance(0.1) ? 1 << 26 : 0);
  return {
    x,
    sp: BigInt(STACK_ADDRESS),
    nzcv: (rng.below(16) << 28) >>> 0,
    fpcr,
    fpsr: rng.chance(0.2) ? rng.u32() & 0x0800009f : 0,
    v: Array.from({ length: 32 }, () => ({ lo: vectorHalf(rng), hi: vectorHalf(rng) })),
    scratch: rng.bytes(SCRATCH_SIZE),
  };
}

/** The state block the prologue loads (or the epilogue stores). */
export function encodeBlock(state: CpuState): Uint8Array {
  const bytes = new Uint8Array(BLOCK_SIZE);
  const view = new DataView(bytes.buffer);
  state.x.forEach((v, i) => view.setBigUint64(SLOT.x + 8 * i, v, true));
  view.setBigUint64(SLOT.sp, state.sp, true);
  view.setBigUint64(SLOT.nzcv, BigInt(state.nzcv >>> 0), true);
  view.setBigUint64(SLOT.fpcr, BigInt(state.fpcr >>> 0), true);
  view.setBigUint64(SLOT.fpsr, BigInt(state.fpsr >>> 0), true);
  state.v.forEach((v, i) => {
    view.setBigUint64(SLOT.v + 16 * i, v.lo, true);
    view.setBigUint64(SLOT.v + 16 * i + 8, v.hi, true);
  });
  return bytes;
}

/** Reads a report (result block + scratch) back into a state. */
export function decodeReport(report: Uint8Array): CpuState {
  if (report.length !== REPORT_SIZE) {
    throw new Error(`a test program report is ${REPORT_SIZE} bytes, got ${report.length}`);
  }
  const view = new DataView(report.buffer, report.byteOffset, report.byteLength);
  const u64 = (offset: number) => view.getBigUint64(offset, true);
  return {
    x: Array.from({ length: 31 }, (_, i) => u64(SLOT.x + 8 * i)),
    sp: u64(SLOT.sp),
    nzcv: Number(u64(SLOT.nzcv)),
    fpcr: Number(u64(SLOT.fpcr)),
    fpsr: Number(u64(SLOT.fpsr)),
    v: Array.from({ length: 32 }, (_, i) => ({ lo: u64(SLOT.v + 16 * i), hi: u64(SLOT.v + 16 * i + 8) })),
    scratch: report.slice(BLOCK_SIZE, REPORT_SIZE),
  };
}

/** Registers, flags and the scratch area's hash after one item, as its snapshot stored them. */
export interface Snapshot {
  /** X0-X30, X27 (the log pointer) as 0. */
  x: bigint[];
  sp: bigint;
  nzcv: number;
  fpsr: number;
  scratchHash: bigint;
  v: VectorValue[];
}

export function decodeSnapshot(log: Uint8Array, index: number): Snapshot {
  const view = new DataView(log.buffer, log.byteOffset + index * SNAPSHOT_SIZE, SNAPSHOT_SIZE);
  const u64 = (offset: number) => view.getBigUint64(offset, true);
  return {
    x: Array.from({ length: 31 }, (_, i) => (i === SNAPSHOT_REGISTER ? 0n : u64(SNAPSHOT_SLOT.x + 8 * i))),
    sp: u64(SNAPSHOT_SLOT.sp),
    nzcv: Number(u64(SNAPSHOT_SLOT.nzcv)),
    fpsr: Number(u64(SNAPSHOT_SLOT.fpsr)),
    scratchHash: u64(SNAPSHOT_SLOT.scratchHash),
    v: Array.from({ length: 32 }, (_, i) => ({
      lo: u64(SNAPSHOT_SLOT.v + 16 * i),
      hi: u64(SNAPSHOT_SLOT.v + 16 * i + 8),
    })),
  };
}

/** The scratch hash a snapshot holds, computed here (for tests of the harness itself). */
export function scratchHash(scratch: Uint8Array): bigint {
  const view = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength);
  const mask = (1n << 64n) - 1n;
  let hash = 0n;
  for (let i = 0; i < scratch.length; i += 8) {
    const rotated = ((hash >> 13n) | (hash << 51n)) & mask;
    hash = view.getBigUint64(i, true) ^ rotated;
  }
  return hash;
}
