// Encoding-class templates for generated FP/SIMD instructions: a fixed base plus fields filled
// with random bits, so decoding (UNDEFINED or not) is exercised along with the results.
// General-purpose register operands are limited to X0–X15 (the harness uses X16 and up).
import type { Rng } from "./cases.ts";

export type Field = readonly [shift: number, width: number];

export interface Template {
  base: number;
  fields: readonly Field[];
  /** Rejects encodings that must not be generated. */
  skip?: (insn: number) => boolean;
}

export const bits = (insn: number, shift: number, width: number): number =>
  (insn >>> shift) & ((1 << width) - 1);

export function instructionFrom(rng: Rng, template: Template): number {
  for (;;) {
    let insn = template.base;
    for (const [shift, width] of template.fields) insn |= (rng.u32() & ((1 << width) - 1)) << shift;
    insn >>>= 0;
    if (!template.skip?.(insn)) return insn;
  }
}

const Q: Field = [30, 1];
const U: Field = [29, 1];
const SIZE: Field = [22, 2];
const RM: Field = [16, 5];
const RN: Field = [5, 5];
const RD: Field = [0, 5];

// Shift by immediate: mostly allocated opcodes, some random ones for the decoder.
const SHIFT_OPCODES = [0, 2, 4, 6, 8, 10, 12, 14, 16, 17, 18, 19, 20, 28, 31];
const shiftSkip = (insn: number): boolean =>
  bits(insn, 19, 4) === 0 || (!SHIFT_OPCODES.includes(bits(insn, 11, 5)) && insn % 4 !== 0);
const ACROSS_OPCODES = [0b00011, 0b01010, 0b11010, 0b11011, 0b01100, 0b01111];
const BY_ELEMENT_FIELDS: readonly Field[] = [U, SIZE, [21, 1], RM, [12, 4], [11, 1], RN, RD];

/** The Advanced SIMD classes (the cryptographic extension, absent from virtkit, is not generated). */
export const SIMD = {
  threeSame: { base: 0x0e200400, fields: [Q, U, SIZE, RM, [11, 5], RN, RD] },
  threeDifferent: {
    base: 0x0e200000,
    fields: [Q, U, SIZE, RM, [12, 4], RN, RD],
    skip: (insn) => bits(insn, 12, 4) === 0b1110 && bits(insn, 22, 2) === 3, // PMULL.1Q
  },
  twoRegMisc: { base: 0x0e200800, fields: [Q, U, SIZE, [12, 5], RN, RD] },
  acrossLanes: {
    base: 0x0e300800,
    fields: [Q, U, SIZE, [12, 5], RN, RD],
    skip: (insn) => !ACROSS_OPCODES.includes(bits(insn, 12, 5)),
  },
  copy: { base: 0x0e000400, fields: [Q, U, RM, [11, 4], [5, 4], [0, 4]] },
  permute: { base: 0x0e000800, fields: [Q, SIZE, RM, [12, 3], RN, RD] },
  extract: { base: 0x2e000000, fields: [Q, RM, [11, 4], RN, RD] },
  tableLookup: { base: 0x0e000000, fields: [Q, RM, [12, 3], RN, RD] },
  modifiedImmediate: { base: 0x0f000400, fields: [Q, U, [16, 3], [11, 5], RN, RD] },
  shiftImmediate: { base: 0x0f000400, fields: [Q, U, [16, 7], [11, 5], RN, RD], skip: shiftSkip },
  scalarShiftImmediate: { base: 0x5f000400, fields: [U, [16, 7], [11, 5], RN, RD], skip: shiftSkip },
  byElement: { base: 0x0f000000, fields: [Q, ...BY_ELEMENT_FIELDS] },
  scalarByElement: {
    base: 0x5f000000,
    fields: BY_ELEMENT_FIELDS,
    // SQRDMLAH/SQRDMLSH by element are FEAT_RDM, absent from both.
    skip: (insn) => bits(insn, 12, 4) === 0b1101 && bits(insn, 29, 1) === 1,
  },
  scalarThreeSame: { base: 0x5e200400, fields: [U, SIZE, RM, [11, 5], RN, RD] },
  scalarTwoRegMisc: { base: 0x5e200800, fields: [U, SIZE, [12, 5], RN, RD] },
  scalarPairwise: { base: 0x5e300800, fields: [U, SIZE, [12, 5], RN, RD] },
  scalarCopy: { base: 0x5e000400, fields: [RM, RN, RD] },
  scalarThreeDifferent: { base: 0x5e200000, fields: [U, SIZE, RM, [12, 4], RN, RD] },
} satisfies Record<string, Template>;

const FTYPE: Field = [22, 1]; // single or double

/** Scalar floating point that reads and writes only SIMD&FP registers and NZCV. */
export const FP_SCALAR = {
  dataProcessing2: {
    base: 0x1e200800,
    fields: [FTYPE, RM, [12, 4], RN, RD],
    skip: (i) => bits(i, 12, 4) > 8,
  },
  dataProcessing3: { base: 0x1f000000, fields: [FTYPE, [21, 1], RM, [15, 1], [10, 5], RN, RD] },
  dataProcessing1: { base: 0x1e204000, fields: [[22, 2], [15, 4], RN, RD] },
  compare: { base: 0x1e202000, fields: [FTYPE, RM, RN, [3, 2]] },
  conditionalCompare: { base: 0x1e200400, fields: [FTYPE, RM, [12, 4], RN, [4, 1], [0, 4]] },
  conditionalSelect: { base: 0x1e200c00, fields: [FTYPE, RM, [12, 4], RN, RD] },
} satisfies Record<string, Template>;
