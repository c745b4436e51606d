// The interpreter's decoded-instruction cache (src/machine/cpu/execute.ts): an entry is found by the
// instruction's host address and used only while the word there is the one it was decoded from, so
// code the guest or the host rewrites, and two instructions sharing an entry, run as what they are now;
// and the cached forms compute what the architecture says when they hit, iteration after iteration.
import { describe, expect, it } from "vitest";
import { createCpuCore, type CpuTier, type Vcpu, type VcpuExit } from "../../src/machine/cpu.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";

const RAM = 0x4000_0000;
const DATA = 0x8_0000;
/** Code this many bytes apart shares a cache entry (32768 entries, one per 4-byte word). */
const CACHE_SPAN = 0x2_0000;

// ---- A64 encodings ----
const movz = (rd: number, imm: number): number => 0xd280_0000 | (imm << 5) | rd;
const addImm = (rd: number, rn: number, imm: number): number => 0x9100_0000 | (imm << 10) | (rn << 5) | rd;
const subImm = (rd: number, rn: number, imm: number): number => 0xd100_0000 | (imm << 10) | (rn << 5) | rd;
const subsImm = (rd: number, rn: number, imm: number): number => 0xf100_0000 | (imm << 10) | (rn << 5) | rd;
const subsImmW = (rd: number, rn: number, imm: number): number => 0x7100_0000 | (imm << 10) | (rn << 5) | rd;
const addLsl = (rd: number, rn: number, rm: number, amount: number): number =>
  0x8b00_0000 | (rm << 16) | (amount << 10) | (rn << 5) | rd;
const subW = (rd: number, rn: number, rm: number): number => 0x4b00_0000 | (rm << 16) | (rn << 5) | rd;
const eor = (rd: number, rn: number, rm: number): number => 0xca00_0000 | (rm << 16) | (rn << 5) | rd;
const movW = (rd: number, rm: number): number => 0x2a00_03e0 | (rm << 16) | rd;
const strX = (rt: number, rn: number, offset: number): number =>
  0xf900_0000 | ((offset / 8) << 10) | (rn << 5) | rt;
const ldrW = (rt: number, rn: number, offset: number): number =>
  0xb940_0000 | ((offset / 4) << 10) | (rn << 5) | rt;
const strbReg = (rt: number, rn: number, rm: number): number => 0x3820_6800 | (rm << 16) | (rn << 5) | rt;
const ldrbReg = (rt: number, rn: number, rm: number): number => 0x3860_6800 | (rm << 16) | (rn << 5) | rt;
const strWRegLsl2 = (rt: number, rn: number, rm: number): number => 0xb820_7800 | (rm << 16) | (rn << 5) | rt;
const ldrWRegLsl2 = (rt: number, rn: number, rm: number): number => 0xb860_7800 | (rm << 16) | (rn << 5) | rt;
const cbz = (rt: number, words: number): number => 0xb400_0000 | ((words & 0x7ffff) << 5) | rt;
const tbnz = (rt: number, bit: number, words: number): number =>
  0x3700_0000 | (bit << 19) | ((words & 0x3fff) << 5) | rt;
const bNe = (words: number): number => 0x5400_0001 | ((words & 0x7ffff) << 5);
const b = (words: number): number => 0x1400_0000 | (words & 0x3ff_ffff);
const adr = (rd: number, bytes: number): number =>
  0x1000_0000 | ((bytes & 3) << 29) | ((bytes >> 2) << 5) | rd;
const strW = (rt: number, rn: number): number => 0xb900_0000 | (rn << 5) | rt;
const hvc = 0xd400_0002;

const MASK64 = (1n << 64n) - 1n;
const MASK32 = (1n << 32n) - 1n;

interface Machine {
  memory: PhysicalMemory;
  vcpu: Vcpu;
  code: DataView;
}

async function machine(tier: CpuTier, words: number[], at = 0): Promise<Machine> {
  const memory = new PhysicalMemory({ ramBase: RAM, ramSize: 1 << 20 });
  const view = memory.view(RAM, 1 << 20);
  const code = new DataView(view.buffer, view.byteOffset, view.byteLength);
  words.forEach((w, i) => code.setUint32(at + i * 4, w >>> 0, true));
  const core = await createCpuCore(memory, { tier });
  const vcpu = core.createVcpu();
  vcpu.mapStage2(RAM, RAM, 1 << 20, { read: true, write: true, execute: true }, false);
  vcpu.pstate = 0x3c5;
  vcpu.pc = BigInt(RAM + at);
  vcpu.setSp(1, BigInt(RAM + 0x8000));
  return { memory, vcpu, code };
}

/** Runs until the first exit other than a slice end, which must be the program's HVC. */
function runToHvc(vcpu: Vcpu): void {
  for (let slices = 0; slices < 1000; slices++) {
    const exit: VcpuExit = vcpu.run(10_000);
    if (exit.kind === "slice-end") continue;
    expect(exit.kind).toBe("hvc");
    return;
  }
  throw new Error("the program did not reach its HVC");
}

describe("the decoded-instruction cache", () => {
  it("runs an instruction the guest rewrites with one of another form as the new instruction", async () => {
    // Each iteration runs the instruction at index 5, then stores the next word of a table over it:
    // add (cached form), sub (another cached form), eor (a logical form), movz (decoded each time).
    const variants = [addImm(0, 0, 5), subImm(0, 0, 2), eor(0, 0, 1), movz(0, 100)];
    const loop = 4;
    const words = [
      movz(4, 8), // iterations
      adr(6, 4 * 4), // x6 = the instruction at index 5
      movz(1, 0x33),
      adr(9, 13 * 4), // x9 = the table of variants at index 16
      // loop:
      movz(10, 0), // index 4
      0, // index 5: rewritten before its first run and after every run
      ldrW(7, 9, 0),
      strW(7, 6),
      addImm(9, 9, 4),
      subsImm(4, 4, 1),
      bNe(loop - 10),
      hvc,
    ];
    while (words.length < 16) words.push(0);
    words.push(...variants, ...variants);
    words[5] = variants[variants.length - 1]!; // the table's last word precedes its first
    const { vcpu } = await machine("interp", words);
    runToHvc(vcpu);
    let x0 = 0n;
    for (let i = 0; i < 8; i++) {
      const word = i === 0 ? words[5]! : variants[(i - 1) % 4]!;
      if (word === variants[0]) x0 = (x0 + 5n) & MASK64;
      else if (word === variants[1]) x0 = (x0 - 2n) & MASK64;
      else if (word === variants[2]) x0 ^= 0x33n;
      else x0 = 100n;
    }
    expect(vcpu.getX(0)).toBe(x0);
    expect(vcpu.instructionsRetired).toBe(4 + 8 * 7 + 1);
  });

  it("runs a word the host writes into guest RAM between slices, as it would DMA", async () => {
    // loop: add x0, x0, #1; b loop — then the host turns the add into sub x0, x0, #3.
    const { vcpu, code } = await machine("interp", [addImm(0, 0, 1), b(-1)]);
    expect(vcpu.run(1000).kind).toBe("slice-end");
    expect(vcpu.getX(0)).toBe(500n);
    code.setUint32(0, subImm(0, 0, 3) >>> 0, true);
    expect(vcpu.run(1000).kind).toBe("slice-end");
    expect(vcpu.getX(0)).toBe((500n - 3n * 500n) & MASK64);
    code.setUint32(0, movz(0, 7) >>> 0, true);
    expect(vcpu.run(10).kind).toBe("slice-end");
    expect(vcpu.getX(0)).toBe(7n);
  });

  it("keeps two instructions whose addresses share an entry apart", async () => {
    // Two routines CACHE_SPAN bytes apart, their first instructions in the same entry, called in turn.
    const near = 0x1000;
    const far = near + CACHE_SPAN;
    const { vcpu, code } = await machine("interp", [
      movz(4, 50),
      adr(20, near - 4),
      adr(21, far - 8),
      // loop: blr x20; blr x21; subs; b.ne
      0xd63f_0280, // blr x20
      0xd63f_02a0, // blr x21
      subsImm(4, 4, 1),
      bNe(-3),
      hvc,
    ]);
    [addImm(0, 0, 3), 0xd65f_03c0].forEach((w, i) => code.setUint32(near + i * 4, w >>> 0, true));
    [subImm(1, 1, 1), 0xd65f_03c0].forEach((w, i) => code.setUint32(far + i * 4, w >>> 0, true));
    runToHvc(vcpu);
    expect(vcpu.getX(0)).toBe(150n);
    expect(vcpu.getX(1)).toBe((0n - 50n) & MASK64);
  });

  it("gives every iteration of a loop of cached forms the architecture's results", async () => {
    const base = BigInt(RAM + DATA);
    const loop = 1;
    const words = [
      movz(4, 3),
      // loop (index 1):
      addImm(0, 0, 7),
      subsImmW(3, 0, 2),
      addLsl(5, 0, 1, 2),
      subW(6, 5, 2),
      eor(7, 7, 5),
      movW(8, 6),
      strX(7, 9, 8),
      ldrW(10, 9, 8),
      strbReg(6, 9, 2),
      ldrbReg(11, 9, 2),
      strWRegLsl2(5, 9, 1),
      ldrWRegLsl2(12, 9, 1),
      addLsl(13, 13, 12, 0),
      cbz(14, 2),
      addImm(13, 13, 1000), // skipped: x14 is 0
      tbnz(0, 0, 2),
      addImm(15, 15, 1), // even x0 only
      subsImm(4, 4, 1),
      bNe(loop - 19),
      hvc,
    ];
    const { vcpu } = await machine("interp", words);
    vcpu.setX(1, 5n);
    vcpu.setX(2, 3n);
    vcpu.setX(9, base);
    runToHvc(vcpu);

    // The same three iterations, by the ARM ARM's definitions.
    const x = new Map<number, bigint>([
      [1, 5n],
      [2, 3n],
    ]);
    const get = (n: number): bigint => x.get(n) ?? 0n;
    let nzcv = 0;
    let instructions = 2; // the first MOVZ and the HVC
    for (let i = 0; i < 3; i++) {
      x.set(0, (get(0) + 7n) & MASK64);
      x.set(3, ((get(0) & MASK32) - 2n) & MASK32);
      x.set(5, (get(0) + (get(1) << 2n)) & MASK64);
      x.set(6, (get(5) - get(2)) & MASK32);
      x.set(7, get(7) ^ get(5));
      x.set(8, get(6));
      x.set(10, get(7) & MASK32);
      x.set(11, get(6) & 0xffn);
      x.set(12, get(5) & MASK32);
      x.set(13, (get(13) + get(12)) & MASK64);
      if ((get(0) & 1n) === 0n) x.set(15, get(15) + 1n);
      x.set(4, 3n - BigInt(i) - 1n);
      instructions += 18 - ((get(0) & 1n) === 0n ? 0 : 1);
      nzcv = x.get(4) === 0n ? 0x6 : 0x2; // Z and C after subs x4, x4, #1 (no borrow)
    }
    for (const n of [0, 3, 5, 6, 7, 8, 10, 11, 12, 13, 15]) expect(vcpu.getX(n), `X${n}`).toBe(get(n));
    expect(vcpu.pstate >>> 28).toBe(nzcv);
    expect(vcpu.instructionsRetired).toBe(instructions);
  });
});
