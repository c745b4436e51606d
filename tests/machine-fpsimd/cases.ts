// Deterministic generators of FP/SIMD test inputs: edge-heavy floating-point values, integers
// and FPCR settings, packed into the input records of reference.ts.
import { OFF_FPCR_FPSR, OFF_NZCV, OFF_V, OFF_X, newInput, type FpSimdCase } from "./reference.ts";

/** A small seeded PRNG (mulberry32) so every run generates the same cases. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  below(n: number): number {
    return this.u32() % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }
}

export const FMT_SINGLE = 0;
export const FMT_DOUBLE = 1;

const DOUBLE_EDGES: readonly bigint[] = [
  0n,
  0x8000000000000000n,
  0x3ff0000000000000n, // 1
  0xbff0000000000000n, // -1
  0x3fe0000000000000n, // 0.5
  0x3ff8000000000000n, // 1.5
  0x4004000000000000n, // 2.5
  0xc004000000000000n, // -2.5
  0x7fefffffffffffffn, // largest normal
  0x0010000000000000n, // smallest normal
  0x8010000000000000n,
  0x0000000000000001n, // smallest denormal
  0x000fffffffffffffn, // largest denormal
  0x800ffffffffffff0n,
  0x7ff0000000000000n, // +inf
  0xfff0000000000000n, // -inf
  0x7ff8000000000000n, // default NaN
  0x7ff8000000000123n, // quiet NaN with payload
  0xfffc00000000abcdn,
  0x7ff0000000000001n, // signalling NaNs
  0xfff4000000000abcn,
  0x43e0000000000000n, // 2^63
  0x43f0000000000000n, // 2^64
  0x41e0000000000000n, // 2^31
  0x41f0000000000000n, // 2^32
  0xc1e0000000000000n, // -2^31
  0xc3e0000000000000n, // -2^63
  0x41efffffffe00000n, // 2^32 - 1
  0x41dfffffffffffffn, // just below 2^31
  0x3fefffffffffffffn, // just below 1
  0x4330000000000000n, // 2^52
  0x4330000000000001n,
  0x3fdfffffffffffffn, // just below 0.5
  0x36a0000000000000n, // 2^-149: a single-precision denormal
  0x3810000000000000n, // 2^-126: single's smallest normal
  0x380fffffffffffffn,
  0x47efffffe0000000n, // single's largest normal
  0x47effffff0000000n, // rounds to single infinity or largest normal
  0x40f0000000000000n, // 65536: beyond half precision
  0x3f10000000000000n, // 2^-14: half's smallest normal
];

const SINGLE_EDGES: readonly number[] = [
  0, 0x80000000, 0x3f800000, 0xbf800000, 0x3f000000, 0x3fc00000, 0x40200000, 0xc0200000, 0x7f7fffff,
  0x00800000, 0x80800000, 0x00000001, 0x007fffff, 0x807ffff0, 0x7f800000, 0xff800000, 0x7fc00000, 0x7fc00123,
  0xffe0abcd, 0x7f800001, 0xffa00abc, 0x5f000000, 0x5f800000, 0x4f000000, 0x4f800000, 0xcf000000, 0xdf000000,
  0x4f7fffff, 0x4b000000, 0x4b000001, 0x3effffff, 0x477fe000, 0x477ff000, 0x38800000, 0x387fc000, 0x33800000,
  0x3f7fffff,
];

/** A double-precision bit pattern: edges, random values in useful ranges, or random bits. */
export function randomDouble(rng: Rng): bigint {
  const r = rng.below(10);
  if (r < 3) return rng.pick(DOUBLE_EDGES);
  const sign = rng.chance(0.5) ? 1n : 0n;
  const frac = rng.u64() & 0xfffffffffffffn;
  let exp: number;
  if (r < 6)
    exp = 1023 - 40 + rng.below(110); // around 1, including integers up to 2^70
  else if (r < 7)
    exp = rng.below(60); // denormal and tiny
  else if (r < 8)
    exp = 2046 - rng.below(40); // near overflow
  else if (r < 9) return rng.u64();
  else {
    // Few significant bits, so sums and products are often exact or ties.
    exp = 1023 - 4 + rng.below(20);
    return (sign << 63n) | (BigInt(exp) << 52n) | ((frac >> 44n) << 44n);
  }
  return (sign << 63n) | (BigInt(exp) << 52n) | frac;
}

export function randomSingle(rng: Rng): number {
  const r = rng.below(10);
  if (r < 3) return rng.pick(SINGLE_EDGES) >>> 0;
  const sign = rng.chance(0.5) ? 1 : 0;
  const frac = rng.u32() & 0x7fffff;
  let exp: number;
  if (r < 6) exp = 127 - 30 + rng.below(70);
  else if (r < 7) exp = rng.below(30);
  else if (r < 8) exp = 254 - rng.below(30);
  else if (r < 9) return rng.u32();
  else {
    exp = 127 - 4 + rng.below(20);
    return ((sign << 31) | (exp << 23) | ((frac >> 16) << 16)) >>> 0;
  }
  return ((sign << 31) | (exp << 23) | frac) >>> 0;
}

/** 64 bits made of values of one FP size (8 = double, 4 = single, 2 = half-ish random bits). */
export function randomFpLane64(rng: Rng, bytes: number): bigint {
  if (bytes === 8) return randomDouble(rng);
  if (bytes === 4) return (BigInt(randomSingle(rng)) << 32n) | BigInt(randomSingle(rng));
  return rng.u64();
}

const INTEGER_EDGES: readonly bigint[] = [
  0n,
  1n,
  0xffffffffffffffffn,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x7fffffffffffffffn,
  0x8000000000000000n,
  0xffffffff80000000n,
  0x1000001n, // 2^24 + 1: inexact in single
  0x20000000000001n, // 2^53 + 1: inexact in double
  0x7fffff80n,
  0xfffffffffffffc00n,
];

export function randomInteger(rng: Rng): bigint {
  const r = rng.below(6);
  if (r < 2) return rng.pick(INTEGER_EDGES);
  if (r < 3) return BigInt(rng.u32());
  if (r < 4) return BigInt.asUintN(64, BigInt(rng.u32() | 0));
  if (r < 5) return rng.u64() >> BigInt(rng.below(64));
  return rng.u64();
}

/** FPCR with a random rounding mode and, sometimes, FZ, DN and AHP. */
export function randomFpcr(rng: Rng): bigint {
  let v = BigInt(rng.below(4)) << 22n;
  if (rng.chance(0.3)) v |= 1n << 24n;
  if (rng.chance(0.3)) v |= 1n << 25n;
  if (rng.chance(0.1)) v |= 1n << 26n;
  return v;
}

/** An input record whose V registers hold FP values of `bytes` per lane and X registers integers. */
export function randomFpInput(rng: Rng, bytes: number): Buffer {
  const input = newInput();
  for (let n = 0; n < 32; n++) {
    const laneBytes = rng.chance(0.85) ? bytes : rng.pick([2, 4, 8]);
    input.writeBigUInt64LE(randomFpLane64(rng, laneBytes), OFF_V + 16 * n);
    input.writeBigUInt64LE(randomFpLane64(rng, laneBytes), OFF_V + 16 * n + 8);
  }
  for (let n = 0; n < 16; n++) input.writeBigUInt64LE(randomInteger(rng), OFF_X + 8 * n);
  input.writeBigUInt64LE(randomFpcr(rng), OFF_FPCR_FPSR);
  input.writeBigUInt64LE(BigInt(rng.below(16)) << 28n, OFF_NZCV);
  return input;
}

/** An input record of random integer vector data, with duplicated lanes so compares hit equality. */
export function randomVectorInput(rng: Rng): Buffer {
  const input = newInput();
  const pool = Array.from({ length: 4 }, () => rng.u64());
  for (let n = 0; n < 32; n++) {
    for (let half = 0; half < 2; half++) {
      let v = rng.chance(0.5) ? rng.u64() : rng.pick(pool);
      if (rng.chance(0.2)) v = rng.pick([0n, 0xffffffffffffffffn, 0x8080808080808080n, 0x7f7f7f7f7f7f7f7fn]);
      if (rng.chance(0.1)) v = randomFpLane64(rng, rng.pick([4, 8]));
      input.writeBigUInt64LE(v, OFF_V + 16 * n + 8 * half);
    }
  }
  for (let n = 0; n < 16; n++) input.writeBigUInt64LE(randomInteger(rng), OFF_X + 8 * n);
  input.writeBigUInt64LE(randomFpcr(rng), OFF_FPCR_FPSR);
  input.writeBigUInt64LE(BigInt(rng.below(16)) << 28n, OFF_NZCV);
  return input;
}

/** Integer-flavoured or FP-flavoured vector data, half and half. */
export function mixedInput(rng: Rng): Buffer {
  return rng.chance(0.5) ? randomVectorInput(rng) : randomFpInput(rng, rng.pick([4, 8]));
}

/**
 * Soak runs: VIRTKIT_FPSIMD_SCALE multiplies every case count and VIRTKIT_FPSIMD_SEED shifts every
 * seed, e.g. `VIRTKIT_FPSIMD_SCALE=20 VIRTKIT_FPSIMD_SEED=7 npx vitest run tests/machine-fpsimd`.
 */
const scale = Number(process.env.VIRTKIT_FPSIMD_SCALE ?? "1");
const seedOffset = Number(process.env.VIRTKIT_FPSIMD_SEED ?? "0");

export function makeCases(count: number, seed: number, make: (rng: Rng) => FpSimdCase): FpSimdCase[] {
  const rng = new Rng(seed + seedOffset * 0x9e3779b1);
  return Array.from({ length: Math.round(count * scale) }, () => make(rng));
}
