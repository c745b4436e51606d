// A64 loads and stores (ARM ARM C4.1.66): GPR and SIMD&FP, every addressing mode, pairs, exclusives, atomics.
import { EXTENDS, address, bit, bits, gpr, immDec, signExtend, x } from "./operands.ts";

const SIMD_PREFIX = ["b", "h", "s", "d", "q"];

function simdRegister(n: number, log2Size: number): string {
  return `${SIMD_PREFIX[log2Size]}${n}`;
}

function base(rn: number): string {
  return x(rn, true);
}

function offsetAddress(rn: number, offset: number): string {
  return offset === 0 ? `[${base(rn)}]` : `[${base(rn)}, ${immDec(offset)}]`;
}

const PREFETCH_TYPES = ["pld", "pli", "pst"];

function prefetchOperation(rt: number): string {
  const type = PREFETCH_TYPES[rt >> 3];
  const target = (rt >> 1) & 3;
  if (!type || target === 3) return `#0x${rt.toString(16).padStart(2, "0")}`;
  return `${type}l${target + 1}${rt & 1 ? "strm" : "keep"}`;
}

export function disassembleLoadStore(insn: number, pc: bigint): string | undefined {
  if ((insn & 0x3f00_0000) >>> 0 === 0x0800_0000) return exclusive(insn);
  if ((insn & 0x3b00_0000) >>> 0 === 0x1800_0000) return literal(insn, pc);
  if ((insn & 0x3a00_0000) >>> 0 === 0x2800_0000) return pair(insn);
  if ((insn & 0x3b00_0000) >>> 0 === 0x3800_0000 || (insn & 0x3b00_0000) === 0x3900_0000)
    return register(insn);
  if ((insn & 0x3f20_0c00) >>> 0 === 0x1900_0000) return releaseConsistentUnscaled(insn);
  if ((insn & 0xbf80_0000) >>> 0 === 0x0c00_0000 || (insn & 0xbf80_0000) === 0x0c80_0000)
    return structures(insn);
  if ((insn & 0xbf80_0000) >>> 0 === 0x0d00_0000 || (insn & 0xbf80_0000) === 0x0d80_0000)
    return singleStructure(insn);
  return undefined;
}

/** STLUR/LDAPUR (RCpc, unscaled 9-bit offset). */
function releaseConsistentUnscaled(insn: number): string | undefined {
  const size = bits(insn, 31, 30);
  const opc = bits(insn, 23, 22);
  if ((size === 3 && opc >= 2) || (size === 2 && opc === 3)) return undefined;
  const width = ["b", "h", "", ""][size];
  const name = opc === 0 ? `stlur${width}` : opc === 1 ? `ldapur${width}` : `ldapurs${["b", "h", "w"][size]}`;
  const wide = opc === 2 || (opc < 2 && size === 3);
  return `${name} ${gpr(bits(insn, 4, 0), wide)}, ${offsetAddress(bits(insn, 9, 5), signExtend(bits(insn, 20, 12), 9))}`;
}

/** Exclusive, load-acquire/store-release and compare-and-swap. */
function exclusive(insn: number): string | undefined {
  const size = bits(insn, 31, 30);
  const o2 = bit(insn, 23);
  const load = bit(insn, 22);
  const o1 = bit(insn, 21);
  const rs = bits(insn, 20, 16);
  const o0 = bit(insn, 15);
  const rt2 = bits(insn, 14, 10);
  const rn = bits(insn, 9, 5);
  const rt = bits(insn, 4, 0);
  const suffix = size === 0 ? "b" : size === 1 ? "h" : "";
  const wide = size === 3;
  const addr = `[${base(rn)}]`;
  // Rs and Rt2 are should-be-ones where unused. Like objdump we ignore them, except where later
  // architecture versions allocate other instructions to those encodings (LDAR, CAS, CASP).
  if (o2 === 0 && o1 === 0) {
    const name = load ? (o0 ? "ldaxr" : "ldxr") : o0 ? "stlxr" : "stxr";
    return load
      ? `${name}${suffix} ${gpr(rt, wide)}, ${addr}`
      : `${name}${suffix} ${gpr(rs, false)}, ${gpr(rt, wide)}, ${addr}`;
  }
  if (o2 === 0 && o1 === 1) {
    if (size < 2) {
      if (rs % 2 || rt % 2 || rt2 !== 31) return undefined;
      const name = `casp${load ? "a" : ""}${o0 ? "l" : ""}`;
      const w = size === 1;
      return `${name} ${gpr(rs, w)}, ${gpr(rs + 1, w)}, ${gpr(rt, w)}, ${gpr(rt + 1, w)}, ${addr}`;
    }
    const pairWide = size === 3;
    const name = load ? (o0 ? "ldaxp" : "ldxp") : o0 ? "stlxp" : "stxp";
    const regs = `${gpr(rt, pairWide)}, ${gpr(rt2, pairWide)}`;
    return load ? `${name} ${regs}, ${addr}` : `${name} ${gpr(rs, false)}, ${regs}, ${addr}`;
  }
  if (o2 === 1 && o1 === 0) {
    if (load && o0 && (rs !== 31 || rt2 !== 31)) return undefined;
    const name = load ? (o0 ? "ldar" : "ldlar") : o0 ? "stlr" : "stllr";
    return `${name}${suffix} ${gpr(rt, wide)}, ${addr}`;
  }
  if (rt2 !== 31) return undefined;
  const name = `cas${load ? "a" : ""}${o0 ? "l" : ""}${suffix}`;
  return `${name} ${gpr(rs, wide)}, ${gpr(rt, wide)}, ${addr}`;
}

function literal(insn: number, pc: bigint): string | undefined {
  const opc = bits(insn, 31, 30);
  const target = address(pc + BigInt(signExtend(bits(insn, 23, 5), 19) * 4));
  const rt = bits(insn, 4, 0);
  if (bit(insn, 26)) return opc === 3 ? undefined : `ldr ${simdRegister(rt, opc + 2)}, ${target}`;
  if (opc === 3) return `prfm ${prefetchOperation(rt)}, ${target}`;
  if (opc === 2) return `ldrsw ${x(rt)}, ${target}`;
  return `ldr ${gpr(rt, opc === 1)}, ${target}`;
}

function pair(insn: number): string | undefined {
  const opc = bits(insn, 31, 30);
  const simd = bit(insn, 26) === 1;
  const mode = bits(insn, 24, 23);
  const load = bit(insn, 22) === 1;
  const rt2 = bits(insn, 14, 10);
  const rn = bits(insn, 9, 5);
  const rt = bits(insn, 4, 0);
  if (opc === 3 || (!simd && opc === 1 && (!load || mode === 0))) return undefined;
  const signedWords = !simd && opc === 1;
  // objdump declines the CONSTRAINED UNPREDICTABLE LDPSW forms (same registers, or write-back into one).
  if (signedWords && (rt === rt2 || (mode !== 2 && rn !== 31 && (rn === rt || rn === rt2)))) return undefined;
  const scale = simd ? 2 + opc : opc === 2 ? 3 : 2;
  const offset = signExtend(bits(insn, 21, 15), 7) << scale;
  const reg = (n: number) => (simd ? simdRegister(n, scale) : gpr(n, opc === 2 || opc === 1));
  const name = mode === 0 ? (load ? "ldnp" : "stnp") : !simd && opc === 1 ? "ldpsw" : load ? "ldp" : "stp";
  const regs = `${reg(rt)}, ${reg(rt2)}`;
  switch (mode) {
    case 1:
      return `${name} ${regs}, [${base(rn)}], ${immDec(offset)}`;
    case 3:
      return `${name} ${regs}, [${base(rn)}, ${immDec(offset)}]!`;
    default:
      return `${name} ${regs}, ${offsetAddress(rn, offset)}`;
  }
}

/** Single-register loads and stores: immediate (any index mode), unprivileged, register offset, atomics. */
function register(insn: number): string | undefined {
  const size = bits(insn, 31, 30);
  const simd = bit(insn, 26) === 1;
  const opc = bits(insn, 23, 22);
  const rn = bits(insn, 9, 5);
  const rt = bits(insn, 4, 0);
  const unsignedOffset = bit(insn, 24) === 1;
  const kind = unsignedOffset
    ? "unsigned"
    : bit(insn, 21)
      ? ["atomic", "", "register", ""][bits(insn, 11, 10)]
      : ["unscaled", "post", "unprivileged", "pre"][bits(insn, 11, 10)];
  if (kind === "atomic") return simd ? undefined : atomic(insn);
  if (!unsignedOffset && bit(insn, 21) && bit(insn, 10))
    return simd || size !== 3 ? undefined : pointerAuthLoad(insn);
  if (!kind) return undefined;

  let name: string;
  let target: string;
  let log2Size = size;
  if (simd) {
    if (opc >= 2) {
      if (size !== 0) return undefined;
      log2Size = 4;
    }
    if (kind === "unprivileged") return undefined;
    const store = (opc & 1) === 0;
    name = kind === "unscaled" ? (store ? "stur" : "ldur") : store ? "str" : "ldr";
    target = simdRegister(rt, log2Size);
  } else {
    const prefetch = size === 3 && opc === 2;
    if ((size === 2 && opc === 3) || (size === 3 && opc === 3)) return undefined;
    if (prefetch && (kind === "post" || kind === "pre" || kind === "unprivileged")) return undefined;
    const stem = kind === "unscaled" ? "ur" : kind === "unprivileged" ? "tr" : "r";
    const width = ["b", "h", "", ""][size];
    if (prefetch) {
      name = kind === "unscaled" ? "prfum" : "prfm";
      target = prefetchOperation(rt);
    } else if (opc === 0) {
      name = `st${stem}${width}`;
      target = gpr(rt, size === 3);
    } else if (opc === 1) {
      name = `ld${stem}${width}`;
      target = gpr(rt, size === 3);
    } else {
      name = `ld${stem}s${["b", "h", "w"][size]}`;
      target = gpr(rt, opc === 2);
    }
  }
  switch (kind) {
    case "unsigned":
      return `${name} ${target}, ${offsetAddress(rn, bits(insn, 21, 10) << log2Size)}`;
    case "unscaled":
    case "unprivileged":
      return `${name} ${target}, ${offsetAddress(rn, signExtend(bits(insn, 20, 12), 9))}`;
    case "post":
      return `${name} ${target}, [${base(rn)}], ${immDec(signExtend(bits(insn, 20, 12), 9))}`;
    case "pre":
      return `${name} ${target}, [${base(rn)}, ${immDec(signExtend(bits(insn, 20, 12), 9))}]!`;
  }
  const option = bits(insn, 15, 13);
  if ((option & 2) === 0) return undefined;
  const rm = gpr(bits(insn, 20, 16), option & 1);
  const shifted = bit(insn, 12) === 1;
  const extend = option === 3 ? "lsl" : EXTENDS[option]!;
  const amount = shifted ? ` #${log2Size}` : "";
  const suffix = option === 3 && !shifted ? "" : `, ${extend}${amount}`;
  return `${name} ${target}, [${base(rn)}, ${rm}${suffix}]`;
}

/** LDRAA/LDRAB: a 64-bit load from an authenticated base, 10-bit signed offset scaled by 8. */
function pointerAuthLoad(insn: number): string {
  const name = bit(insn, 23) ? "ldrab" : "ldraa";
  const offset = signExtend((bit(insn, 22) << 9) | bits(insn, 20, 12), 10) * 8;
  const rn = bits(insn, 9, 5);
  const target = bit(insn, 11) ? `[${base(rn)}, ${immDec(offset)}]!` : offsetAddress(rn, offset);
  return `${name} ${x(bits(insn, 4, 0))}, ${target}`;
}

const ATOMIC_OPS = ["add", "clr", "eor", "set", "smax", "smin", "umax", "umin"];

function atomic(insn: number): string | undefined {
  const size = bits(insn, 31, 30);
  const acquire = bit(insn, 23);
  const release = bit(insn, 22);
  const rs = bits(insn, 20, 16);
  const o3 = bit(insn, 15);
  const opc = bits(insn, 14, 12);
  const rn = bits(insn, 9, 5);
  const rt = bits(insn, 4, 0);
  const order = `${acquire ? "a" : ""}${release ? "l" : ""}`;
  const width = ["b", "h", "", ""][size];
  const wide = size === 3;
  const addr = `[${base(rn)}]`;
  if (o3 === 1) {
    if (opc === 0) return `swp${order}${width} ${gpr(rs, wide)}, ${gpr(rt, wide)}, ${addr}`;
    if (opc === 4 && acquire && !release && rs === 31) return `ldapr${width} ${gpr(rt, wide)}, ${addr}`;
    return undefined;
  }
  // With no destination and no acquire, the ST<op> alias is preferred.
  if (rt === 31 && !acquire)
    return `st${ATOMIC_OPS[opc]}${release ? "l" : ""}${width} ${gpr(rs, wide)}, ${addr}`;
  return `ld${ATOMIC_OPS[opc]}${order}${width} ${gpr(rs, wide)}, ${gpr(rt, wide)}, ${addr}`;
}

/** `{v0.4s, v1.4s}`, or objdump's range form `{v0.4s-v2.4s}` for three or four registers that do not wrap. */
function registerList(regs: string[], first: number): string {
  return regs.length > 2 && first + regs.length <= 32
    ? `{${regs[0]}-${regs.at(-1)}}`
    : `{${regs.join(", ")}}`;
}

/** LD1–LD4 / ST1–ST4 (multiple structures), with and without post-index. */
function structures(insn: number): string | undefined {
  const q = bit(insn, 30);
  const postIndex = bit(insn, 23) === 1;
  const load = bit(insn, 22) === 1;
  if (bit(insn, 21)) return undefined;
  const rm = bits(insn, 20, 16);
  const opcode = bits(insn, 15, 12);
  const size = bits(insn, 11, 10);
  const rn = bits(insn, 9, 5);
  const rt = bits(insn, 4, 0);
  const layout: Record<number, [number, number]> = {
    0b0000: [4, 4],
    0b0010: [1, 4],
    0b0100: [3, 3],
    0b0110: [1, 3],
    0b0111: [1, 1],
    0b1000: [2, 2],
    0b1010: [1, 2],
  };
  const entry = layout[opcode];
  if (!entry || (size === 3 && q === 0 && entry[0] !== 1)) return undefined;
  const [elements, count] = entry;
  const arrangement = `${(q ? 16 : 8) >> size}${["b", "h", "s", "d"][size]}`;
  const regs = Array.from({ length: count }, (_, i) => `v${(rt + i) % 32}.${arrangement}`);
  const list = registerList(regs, rt);
  const name = `${load ? "ld" : "st"}${elements}`;
  if (!postIndex) return rm === 0 ? `${name} ${list}, [${base(rn)}]` : undefined;
  const step = rm === 31 ? immDec(count * (q ? 16 : 8)) : x(rm);
  return `${name} ${list}, [${base(rn)}], ${step}`;
}

/** LD1–LD4 / ST1–ST4 of a single lane, and LD1R–LD4R (load and replicate). */
function singleStructure(insn: number): string | undefined {
  const q = bit(insn, 30);
  const postIndex = bit(insn, 23) === 1;
  const load = bit(insn, 22) === 1;
  const rm = bits(insn, 20, 16);
  const opcode = bits(insn, 15, 13);
  const s = bit(insn, 12);
  const size = bits(insn, 11, 10);
  const rn = bits(insn, 9, 5);
  const rt = bits(insn, 4, 0);
  const count = ((opcode & 1) << 1) + bit(insn, 21) + 1;
  if (!postIndex && rm !== 0) return undefined;
  const regsOf = (suffix: string) => Array.from({ length: count }, (_, i) => `v${(rt + i) % 32}.${suffix}`);
  let list: string;
  let bytes: number;
  switch (opcode >> 1) {
    case 0:
      list = `${registerList(regsOf("b"), rt)}[${(q << 3) | (s << 2) | size}]`;
      bytes = 1;
      break;
    case 1:
      if (size & 1) return undefined;
      list = `${registerList(regsOf("h"), rt)}[${(q << 2) | (s << 1) | (size >> 1)}]`;
      bytes = 2;
      break;
    case 2:
      if (size === 0) {
        list = `${registerList(regsOf("s"), rt)}[${(q << 1) | s}]`;
        bytes = 4;
      } else if (size === 1 && s === 0) {
        list = `${registerList(regsOf("d"), rt)}[${q}]`;
        bytes = 8;
      } else {
        return undefined;
      }
      break;
    default: {
      if (!load || s) return undefined;
      const arrangement = `${(q ? 16 : 8) >> size}${["b", "h", "s", "d"][size]}`;
      list = registerList(regsOf(arrangement), rt);
      bytes = 1 << size;
    }
  }
  const name = `${load ? "ld" : "st"}${count}${opcode >> 1 === 3 ? "r" : ""}`;
  if (!postIndex) return `${name} ${list}, [${base(rn)}]`;
  return `${name} ${list}, [${base(rn)}], ${rm === 31 ? immDec(count * bytes) : x(rm)}`;
}
