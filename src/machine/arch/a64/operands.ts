// Operand spelling for the A64 disassembler, in GNU objdump's conventions, so reports read like its listings.

export function bits(insn: number, high: number, low: number): number {
  return (insn >>> low) & ((1 << (high - low + 1)) - 1);
}

export function bit(insn: number, n: number): number {
  return (insn >>> n) & 1;
}

export function signExtend(value: number, width: number): number {
  const shift = 32 - width;
  return (value << shift) >> shift;
}

/** A general-purpose register; register 31 is the zero register unless `sp` says it is the stack pointer. */
export function gpr(n: number, sixtyFour: boolean | number, sp = false): string {
  if (n === 31) return sp ? (sixtyFour ? "sp" : "wsp") : sixtyFour ? "xzr" : "wzr";
  return `${sixtyFour ? "x" : "w"}${n}`;
}

export const x = (n: number, sp = false) => gpr(n, true, sp);

/** An immediate in hexadecimal, as objdump prints data-processing immediates. */
export function immHex(value: number | bigint): string {
  const v = BigInt(value);
  return v < 0n ? `#-0x${(-v).toString(16)}` : `#0x${v.toString(16)}`;
}

/** An immediate in decimal (addressing offsets, shift amounts, bit positions). */
export function immDec(value: number): string {
  return `#${value}`;
}

export function address(value: bigint): string {
  return `0x${BigInt.asUintN(64, value).toString(16)}`;
}

const CONDITIONS = [
  "eq",
  "ne",
  "cs",
  "cc",
  "mi",
  "pl",
  "vs",
  "vc",
  "hi",
  "ls",
  "ge",
  "lt",
  "gt",
  "le",
  "al",
  "nv",
];

export function condition(code: number): string {
  return CONDITIONS[code & 15]!;
}

export const SHIFTS = ["lsl", "lsr", "asr", "ror"];

export const EXTENDS = ["uxtb", "uxth", "uxtw", "uxtx", "sxtb", "sxth", "sxtw", "sxtx"];

/** `, <shift> #<amount>`, or nothing for LSL #0. */
export function shiftSuffix(type: number, amount: number): string {
  return type === 0 && amount === 0 ? "" : `, ${SHIFTS[type]} #${amount}`;
}

/** ARM ARM DecodeBitMasks for logical immediates; undefined for a reserved encoding. */
export function decodeBitMask(n: number, imms: number, immr: number, sixtyFour: boolean): bigint | undefined {
  const combined = (n << 6) | (~imms & 0x3f);
  if (combined === 0) return undefined;
  const len = 31 - Math.clz32(combined);
  if (len < 1 || (!sixtyFour && len > 5)) return undefined;
  const levels = (1 << len) - 1;
  const s = imms & levels;
  const r = immr & levels;
  if (s === levels) return undefined;
  const esize = 1 << len;
  const ones = (1n << BigInt(s + 1)) - 1n;
  const emask = (1n << BigInt(esize)) - 1n;
  const element = r === 0 ? ones : ((ones >> BigInt(r)) | (ones << BigInt(esize - r))) & emask;
  const width = sixtyFour ? 64 : 32;
  let value = 0n;
  for (let i = 0; i < width; i += esize) value |= element << BigInt(i);
  return value;
}
