// The JIT tier against the interpreter: the same programs must end in the same state (registers, PC,
// PSTATE, memory, exits) after the same number of retired instructions, with blocks really translated
// and run (a threshold of 1 translates every block start seen twice). Covers compiled C (the CPU
// benchmark's workload, MMU on), the bare-metal guests, self-modifying code, exceptions mid-block and
// a deterministic Linux boot.
import { describe, expect, it } from "vitest";
import {
  createCpuCore,
  type CpuCore,
  type CpuTier,
  type JitStats,
  type Vcpu,
  type VcpuExit,
} from "../../src/machine/cpu.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";
import { bootSystemFile } from "../../src/microkit/index.ts";
import { HarnessConsole } from "../../src/machine/backends/harness-console.ts";
import { WORKLOADS, buildWorkload, type WorkloadName } from "../../bench/cpu/workload.ts";
import { runGuest, runGuestImage, type GuestResult } from "../guests/run-guest.ts";
import { SIMPLE_SYSTEM } from "../system/linux-session.ts";
import { ensureCpuTestTools } from "./toolchain.ts";
import { decodeBitMask } from "../../src/machine/arch/a64/operands.ts";
import { CORE_SYSTEM_REGISTER_KEYS } from "../../src/machine/arch/system-registers.ts";

const TIERS: readonly CpuTier[] = ["interp", "jit"];
const EAGER = { jitThreshold: 1 };

const toolsProblem = ensureCpuTestTools();
if (toolsProblem && process.env.CI) throw new Error(toolsProblem);
const withTools = toolsProblem ? describe.skip : describe;

// ---- hand-assembled programs (A64 encodings) ----
const RAM = 0x4000_0000;
const movz = (rd: number, imm: number): number => 0xd280_0000 | (imm << 5) | rd;
const addImm = (rd: number, rn: number, imm: number): number => 0x9100_0000 | (imm << 10) | (rn << 5) | rd;
const subsImm = (rd: number, rn: number, imm: number): number => 0xf100_0000 | (imm << 10) | (rn << 5) | rd;
const bNe = (fromIndex: number, toIndex: number): number =>
  0x5400_0001 | (((toIndex - fromIndex) & 0x7ffff) << 5);
const b = (fromIndex: number, toIndex: number): number => 0x1400_0000 | ((toIndex - fromIndex) & 0x3ff_ffff);
const adr = (rd: number, bytes: number): number =>
  0x1000_0000 | ((bytes & 3) << 29) | (((bytes >> 2) & 0x7ffff) << 5) | rd;
const strW = (rt: number, rn: number): number => 0xb900_0000 | (rn << 5) | rt;
const ldrX = (rt: number, rn: number): number => 0xf940_0000 | (rn << 5) | rt;
const ldrXPost = (rt: number, rn: number, imm: number): number =>
  0xf840_0400 | ((imm & 0x1ff) << 12) | (rn << 5) | rt;
const addReg = (rd: number, rn: number, rm: number): number => 0x8b00_0000 | (rm << 16) | (rn << 5) | rd;
const hvc = (imm: number): number => 0xd400_0002 | (imm << 5);
/** TST Xn, #1 (ANDS XZR, Xn, #1). */
const tstImm1 = (rn: number): number => 0xf240_001f | (rn << 5);
const br = (rn: number): number => 0xd61f_0000 | (rn << 5);
const bl = (fromIndex: number, toIndex: number): number => 0x9400_0000 | ((toIndex - fromIndex) & 0x3ff_ffff);
const ret = 0xd65f_03c0;
const bEq = (fromIndex: number, toIndex: number): number =>
  0x5400_0000 | (((toIndex - fromIndex) & 0x7ffff) << 5);

interface Snapshot {
  /** X0-X30 and PSTATE after every slice: both tiers end slices at the same instruction counts. */
  trace: string[];
  exits: string[];
  x: bigint[];
  pc: bigint;
  pstate: number;
  sp: bigint;
  sysregs: Record<string, bigint>;
  instructions: number;
  /** RAM's first 128 KiB (code and data), as hex. */
  memory: string;
}

interface ProgramRun extends Snapshot {
  jit: JitStats | undefined;
}

/**
 * Runs `words` at RAM with the MMU off (stage 2 maps `mappedBytes` of RAM) until its first exit other
 * than a slice end, in slices of `slice` instructions.
 */
async function runProgram(
  tier: CpuTier,
  words: number[],
  setup: (x: (n: number, v: bigint) => void, write: (name: string, v: bigint) => void) => void,
  options: {
    mappedBytes?: number;
    slice?: number;
    mmu?: boolean;
    data?: Uint8Array;
    /** A page of RAM unmapped at stage 2: its aborts are recorded and the access skipped. */
    hole?: number;
    gicVersion?: 2 | 3;
    /** Called before each slice (numbered from 0), e.g. to make an interrupt pending. */
    beforeSlice?: (vcpu: Vcpu, slice: number) => void;
    /** Executions before a block is translated (default 1). */
    jitThreshold?: number;
  } = {},
): Promise<ProgramRun> {
  const memory = new PhysicalMemory({ ramBase: RAM, ramSize: 1 << 20 });
  const view = memory.view(RAM, words.length * 4);
  const code = new DataView(view.buffer, view.byteOffset, view.byteLength);
  words.forEach((w, i) => code.setUint32(i * 4, w >>> 0, true));
  if (options.data) memory.view(RAM + DATA, options.data.length).set(options.data);
  const core = await createCpuCore(memory, { tier, ...EAGER, jitThreshold: options.jitThreshold ?? 1 });
  const vcpu = core.createVcpu({ gicVersion: options.gicVersion ?? 2 });
  vcpu.mapStage2(RAM, RAM, options.mappedBytes ?? 1 << 20, { read: true, write: true, execute: true }, false);
  if (options.hole !== undefined) vcpu.unmapStage2(options.hole, 0x1000);
  vcpu.pstate = 0x3c5;
  vcpu.pc = BigInt(RAM);
  vcpu.setSp(1, BigInt(RAM + 0x8000));
  if (options.mmu) identityMap(memory, (name, v) => vcpu.writeSysreg(name, v));
  setup(
    (n, v) => vcpu.setX(n, v),
    (name, v) => vcpu.writeSysreg(name, v),
  );
  const exits: string[] = [];
  const trace: string[] = [];
  for (let slices = 0; slices < 10_000; slices++) {
    options.beforeSlice?.(vcpu, slices);
    const exit: VcpuExit = vcpu.run(options.slice ?? 1000);
    trace.push(
      `${Array.from({ length: 31 }, (_, n) => vcpu.getX(n).toString(16))} ${vcpu.pstate.toString(16)}`,
    );
    if (exit.kind === "slice-end") continue;
    exits.push(JSON.stringify(exit, (_k, v) => (typeof v === "bigint" ? v.toString(16) : v)));
    if (exit.kind !== "stage2-abort" || options.hole === undefined) break;
    vcpu.pc += 4n;
  }
  return {
    trace,
    exits,
    x: Array.from({ length: 31 }, (_, n) => vcpu.getX(n)),
    pc: vcpu.pc,
    pstate: vcpu.pstate,
    sp: vcpu.getSp(1),
    sysregs: Object.fromEntries(
      ["ESR_EL1", "ELR_EL1", "FAR_EL1", "SPSR_EL1"].map((name) => [name, vcpu.readSysreg(name)]),
    ),
    instructions: vcpu.instructionsRetired,
    memory: Buffer.from(memory.view(RAM, 0x2_0000)).toString("hex"),
    jit: core.jitStatistics,
  };
}

/** Where the programs' data lives (RAM + DATA, 64 KiB) and the level-1 table of identityMap. */
const DATA = 0x1_0000;
const TABLE = 0x2_0000;

/**
 * Turns the MMU on with VA = PA for the 1 GiB holding RAM (one level-1 block, Normal write-back,
 * 39-bit VAs from TTBR0), so loads and stores take the translation cache's fast path.
 */
function identityMap(memory: PhysicalMemory, write: (name: string, v: bigint) => void): void {
  const table = memory.view(RAM + TABLE, 0x1000);
  const block = BigInt(RAM) | (1n << 10n) | (3n << 8n) | 1n; // AF, inner shareable, AttrIndx 0, block
  new DataView(table.buffer, table.byteOffset).setBigUint64((RAM >>> 30) * 8, block, true);
  write("MAIR_EL1", 0xffn);
  write("TCR_EL1", 25n | (1n << 8n) | (1n << 10n) | (3n << 12n) | (1n << 23n)); // T0SZ 25, WB, IS, EPD1
  write("TTBR0_EL1", BigInt(RAM + TABLE));
  write("SCTLR_EL1", 1n | (1n << 2n) | (1n << 12n)); // M, C, I
}

async function bothTiers(...args: Parameters<typeof runProgram> extends [unknown, ...infer R] ? R : never) {
  const [interp, jit] = await Promise.all(TIERS.map((tier) => runProgram(tier, ...args)));
  const { jit: stats, ...jitState } = jit!;
  const { jit: none, ...interpState } = interp!;
  expect(none).toBeUndefined();
  expect(stats!.translationErrors, stats!.firstError).toBe(0);
  expect(jitState).toEqual(interpState);
  return { state: jitState as Snapshot, stats: stats! };
}

describe("choosing the tier", () => {
  it("refuses a tier that does not exist, naming the ones that do", async () => {
    const memory = new PhysicalMemory({ ramBase: RAM, ramSize: 1 << 20 });
    await expect(createCpuCore(memory, { tier: "turbo" as CpuTier })).rejects.toThrow(
      'CPU tier "turbo" does not exist: use interp or jit',
    );
  });

  it("keeps JIT counters only on a JIT core", async () => {
    const memory = () => new PhysicalMemory({ ramBase: RAM, ramSize: 1 << 20 });
    const interp = await createCpuCore(memory(), { tier: "interp" });
    const jit = await createCpuCore(memory(), { tier: "jit" });
    expect([interp.tier, interp.jitStatistics]).toEqual(["interp", undefined]);
    expect(jit.tier).toBe("jit");
    expect(jit.jitStatistics).toMatchObject({ blocksTranslated: 0, instructionsInBlocks: 0 });
  });

  it("takes the tier of a core created without one from VIRTKIT_CPU, and refuses a tier that does not exist", async () => {
    const memory = () => new PhysicalMemory({ ramBase: RAM, ramSize: 1 << 20 });
    const saved = process.env.VIRTKIT_CPU;
    try {
      for (const tier of TIERS) {
        process.env.VIRTKIT_CPU = tier;
        expect((await createCpuCore(memory())).tier).toBe(tier);
      }
      process.env.VIRTKIT_CPU = "turbo";
      await expect(createCpuCore(memory())).rejects.toThrow(
        "VIRTKIT_CPU=turbo names no CPU tier: use interp or jit",
      );
    } finally {
      if (saved === undefined) delete process.env.VIRTKIT_CPU;
      else process.env.VIRTKIT_CPU = saved;
    }
  });
});

describe("the JIT tier on hand-written programs", () => {
  it("loops inside a translated block and retires exactly the interpreter's instructions", async () => {
    // x0 += 3 for 1000 iterations, in slices that end mid-loop.
    const { state, stats } = await bothTiers(
      [movz(0, 0), movz(4, 1000), addImm(0, 0, 3), subsImm(4, 4, 1), bNe(4, 2), hvc(0)],
      () => {},
      { slice: 777 },
    );
    expect(state.x[0]).toBe(3000n);
    expect(state.instructions).toBe(2 + 3 * 1000 + 1);
    expect(stats.blocksTranslated).toBeGreaterThan(0);
    expect(stats.instructionsInBlocks).toBeGreaterThan(2500);
  });

  it("loops back from the middle of a block and still ends every slice where the interpreter does", async () => {
    // The block's conditional back edge (4 instructions in) comes before its final one (6 in): after
    // the short way round the next iteration may go the long way, so the back edge checks the event
    // deadline against the whole block, as its entry does. Slices of 61 end in every position.
    const loop = 1;
    const words = [
      movz(4, 200),
      subsImm(4, 4, 1),
      bEq(2, 7),
      tstImm1(4),
      bNe(4, loop),
      addImm(5, 5, 1),
      b(6, loop),
      hvc(0),
    ];
    const { state } = await bothTiers(words, () => {}, { slice: 61 });
    expect(state.x[5]).toBe(99n);
    expect(state.trace.length).toBeGreaterThan(10);
  });

  it("detects code a block changes ahead of itself, and a translated block whose code changed", async () => {
    // Each iteration stores `movz x1, #k` over the instruction two ahead of the store (k = 1..20),
    // then adds x1 to x0: the sum is 210 only if every new instruction is the one executed.
    const loop = 2;
    const words = [
      movz(4, 20),
      adr(6, 3 * 4), // x6 = the instruction at index 4
      strW(7, 6), // index 2: loop
      addReg(7, 7, 8), // next immediate
      movz(1, 0), // index 4: overwritten
      addReg(0, 0, 1),
      subsImm(4, 4, 1),
      bNe(7, loop),
      hvc(0),
    ];
    const { state, stats } = await bothTiers(words, (x) => {
      x(7, BigInt(movz(1, 1)));
      x(8, 1n << 5n);
    });
    expect(state.x[0]).toBe(210n);
    expect(stats.invalidations).toBeGreaterThan(0);
  });

  it("drops a block whose code another block rewrote before it runs again", async () => {
    // Inner loop adds 1, 200 times; then the outer code patches the inner add to add 3 and runs it
    // again: 200 + 600.
    const inner = 4;
    const words = [
      movz(0, 0),
      movz(5, 2),
      adr(6, inner * 4 - 8), // x6 = &words[inner]
      movz(4, 200), // index 3: outer
      addImm(0, 0, 1), // index 4: inner, patched
      subsImm(4, 4, 1),
      bNe(6, inner),
      strW(7, 6),
      subsImm(5, 5, 1),
      bNe(9, 3),
      hvc(0),
    ];
    const { state, stats } = await bothTiers(words, (x) => x(7, BigInt(addImm(0, 0, 3))));
    expect(state.x[0]).toBe(800n);
    expect(stats.invalidations).toBeGreaterThan(0);
  });

  for (const [where, f] of [
    ["on its page", 8],
    ["on another page", 0x400],
  ] as const) {
    it(`returns from a function ${where} into a translated block only while its code is unchanged`, async () => {
      // The function stores `movz x1, #k` (k = 1..20) over the instruction its RET returns to, whose
      // block was translated on the previous iteration: the RET looks the block up and enters it,
      // which finds its code changed; the sum is 210 only if every new instruction is the one run.
      const words = [movz(4, 20), adr(6, 2 * 4), bl(2, f), movz(1, 0), addReg(0, 0, 1), subsImm(4, 4, 1)];
      words.push(bNe(6, 2), hvc(0));
      while (words.length < f) words.push(0);
      words.push(strW(7, 6), addReg(7, 7, 8), ret);
      const { state, stats } = await bothTiers(words, (x) => {
        x(7, BigInt(movz(1, 1)));
        x(8, 1n << 5n);
      });
      expect(state.x[0]).toBe(210n);
      expect(stats.invalidations).toBeGreaterThanOrEqual(10);
    });
  }

  it("drops the last blocks of a module whose other blocks' code changed, and translates them again", async () => {
    // Blocks B1..B8 (each: x13 = next, x0 += k, BR x13, and a word never run, so that no branch goes to
    // the next instruction, which the run loop would take for falling through) and a tail T, all
    // entered through the run loop. At threshold 4 all are warm when B1 turns hot, so one module holds
    // them with the entry block. After 30 of 60 passes the program patches all eight adds to add 100:
    // B1..B8 are dropped as stale, and then the entry block and T, the module's last two of ten, leave
    // with them; T is translated again.
    const block = (k: number): number => 4 + 4 * k;
    const tail = block(8);
    const patch = tail + 6;
    const done = patch + 18;
    const words = [movz(4, 60), movz(0, 0), adr(13, (block(0) - 2) * 4), br(13)];
    for (let k = 0; k < 8; k++) {
      const next = k < 7 ? block(k + 1) : tail;
      words.push(adr(13, (next - block(k)) * 4), addImm(0, 0, k + 1), br(13), hvc(1));
    }
    words.push(subsImm(4, 4, 1), bEq(tail + 1, done), subsImm(31, 4, 30), bEq(tail + 3, patch));
    words.push(adr(13, (block(0) - (tail + 4)) * 4), br(13));
    for (let k = 0; k < 8; k++) words.push(adr(6, (block(k) + 1 - words.length) * 4), strW(7, 6));
    words.push(adr(13, (block(0) - words.length) * 4), br(13), hvc(0));
    expect(words).toHaveLength(done + 1);
    const { state, stats } = await bothTiers(words, (x) => x(7, BigInt(addImm(0, 0, 100))), {
      jitThreshold: 4,
    });
    expect(state.x[0]).toBe(30n * 36n + 30n * 800n);
    expect(stats.invalidations).toBe(8);
    expect(stats.dropped).toBe(2);
  });

  it("gives an SP alignment exception mid-block the interpreter's PC, syndrome and registers", async () => {
    // A hot loop loads through SP; then SP is misaligned and the loop entered again: the load faults
    // (SCTLR_EL1.SA) after the block's first instruction, to the vector at VBAR_EL1 + 0x200 (hvc #1).
    const loop = 1;
    const words = [
      movz(4, 30),
      addImm(0, 0, 3), // loop
      ldrX(2, 31),
      addImm(31, 31, 16),
      subsImm(4, 4, 1),
      bNe(5, loop),
      addImm(31, 31, 8),
      movz(4, 30),
      b(8, loop),
    ];
    const vectors = new Array<number>(0x200 / 4 + 1).fill(0xd503_201f); // NOP
    vectors[0x200 / 4] = hvc(1);
    const program = [...words, ...new Array<number>(0x800 / 4 - words.length).fill(0), ...vectors];
    const { state } = await bothTiers(program, (_x, write) => {
      write("VBAR_EL1", BigInt(RAM + 0x800));
      write("SCTLR_EL1", 1n << 3n);
    });
    expect(state.sysregs.ESR_EL1! >> 26n).toBe(0x26n);
    expect(state.sysregs.ELR_EL1).toBe(BigInt(RAM + 2 * 4));
    expect(state.x[0]).toBe(3n * 31n);
  });

  it("moves NZCV, TPIDR_EL1, SP_EL0 and DAIF in blocks, and leaves SP_EL0's UNDEFINED case to the interpreter", async () => {
    // A hot loop writes and reads back the three registers; then SPSel is cleared, which makes the
    // loop's MSR SP_EL0 UNDEFINED at EL1: the exception goes to VBAR_EL1 + 0x200 (hvc #1).
    const msr = (name: string, rt: number): number =>
      0xd500_0000 | (CORE_SYSTEM_REGISTER_KEYS[name]! << 5) | rt;
    const mrs = (name: string, rt: number): number =>
      0xd520_0000 | (CORE_SYSTEM_REGISTER_KEYS[name]! << 5) | rt;
    const loop = 1;
    const words = [
      movz(4, 40),
      msr("NZCV", 5), // loop
      mrs("NZCV", 6),
      msr("TPIDR_EL1", 4),
      mrs("TPIDR_EL1", 7),
      msr("SP_EL0", 7),
      mrs("SP_EL0", 8),
      msr("DAIF", 5),
      mrs("DAIF", 9),
      addReg(2, 2, 9),
      addReg(0, 0, 6),
      addReg(1, 1, 8),
      subsImm(4, 4, 1),
      bNe(13, loop),
      0xd500_40bf, // MSR SPSel, #0
      movz(4, 40),
      b(16, loop),
    ];
    const vectors = new Array<number>(0x200 / 4 + 1).fill(0xd503_201f); // NOP
    vectors[0x200 / 4] = hvc(1);
    const program = [...words, ...new Array<number>(0x800 / 4 - words.length).fill(0), ...vectors];
    const { state, stats } = await bothTiers(
      program,
      (x, write) => {
        x(5, (1n << 64n) - 1n);
        write("VBAR_EL1", BigInt(RAM + 0x800));
      },
      { slice: 97 },
    );
    expect(state.x[0]).toBe(40n * 0xf000_0000n);
    expect(state.x[1]).toBe((40n * 41n) / 2n);
    expect(state.x[2]).toBe(40n * 0x3c0n);
    expect(state.sysregs.ESR_EL1! >> 26n).toBe(0n);
    expect(state.sysregs.ELR_EL1).toBe(BigInt(RAM + 5 * 4));
    expect(stats.instructionsInBlocks).toBeGreaterThan(300);
  });

  it("increments a word with LDAXR/STLXR in a block, and leaves a misaligned exclusive's fault to the interpreter", async () => {
    // 20 exclusive increments (x0 counts failed stores); then the base moves by 4, so the translated
    // loop's LDAXR is misaligned: an alignment fault to VBAR_EL1 + 0x200 (hvc #1).
    const loop = 1;
    const words = [
      movz(4, 20),
      0xc85f_fc22, // loop: LDAXR x2, [x1]
      addImm(2, 2, 1),
      0xc805_fc22, // STLXR w5, x2, [x1]
      addReg(0, 0, 5),
      subsImm(4, 4, 1),
      bNe(6, loop),
      addImm(1, 1, 4),
      movz(4, 20),
      b(9, loop),
    ];
    const vectors = new Array<number>(0x200 / 4 + 1).fill(0xd503_201f); // NOP
    vectors[0x200 / 4] = hvc(1);
    const program = [...words, ...new Array<number>(0x800 / 4 - words.length).fill(0), ...vectors];
    const { state, stats } = await bothTiers(
      program,
      (x, write) => {
        x(1, BigInt(RAM + DATA));
        write("VBAR_EL1", BigInt(RAM + 0x800));
      },
      { mmu: true },
    );
    expect(state.x[0]).toBe(0n);
    expect(state.x[2]).toBe(20n);
    expect(state.sysregs.ESR_EL1! >> 26n).toBe(0x25n);
    expect(state.sysregs.ESR_EL1! & 0x3fn).toBe(0x21n);
    expect(state.sysregs.ELR_EL1).toBe(BigInt(RAM + loop * 4));
    expect(stats.instructionsInBlocks).toBeGreaterThan(60);
  });

  it("takes an interrupt right after a translated MSR DAIFClr unmasks it, at the interpreter's instruction", async () => {
    // The loop unmasks IRQs for one instruction per iteration; before the third slice (while they
    // are masked, near the end of an iteration) an interrupt becomes pending (list register 0, group
    // 1), and the next DAIFClr, in the translated block at the loop's start, must stop the block so
    // that it is taken before the following instruction (VBAR_EL1 + 0x280: hvc #1).
    const loop = 1;
    const words = [
      movz(4, 200),
      addImm(0, 0, 1), // loop
      addImm(1, 1, 2),
      0xd503_42ff, // MSR DAIFClr, #2
      0xd503_42df, // MSR DAIFSet, #2
      addImm(2, 2, 3),
      addImm(3, 3, 4),
      subsImm(4, 4, 1),
      bNe(8, loop),
      hvc(0),
    ];
    const vectors = new Array<number>(0x280 / 4 + 1).fill(0xd503_201f); // NOP
    vectors[0x280 / 4] = hvc(1);
    const program = [...words, ...new Array<number>(0x800 / 4 - words.length).fill(0), ...vectors];
    const { state, stats } = await bothTiers(
      program,
      (_x, write) => {
        write("VBAR_EL1", BigInt(RAM + 0x800));
        write("ICC_IGRPEN1_EL1", 1n);
        write("ICC_PMR_EL1", 0xf0n);
      },
      {
        slice: 52,
        gicVersion: 3,
        beforeSlice: (vcpu, slice) => {
          if (slice === 2) vcpu.setListRegister(0, (1n << 28n) | (1n << 30n) | (0x10n << 23n) | 40n);
        },
      },
    );
    expect(state.exits.at(-1)).toBe(JSON.stringify({ kind: "hvc", imm: 1 }));
    expect(state.sysregs.ELR_EL1).toBe(BigInt(RAM + 4 * 4));
    expect(state.instructions).toBeGreaterThan(2 * 52);
    expect(stats.instructionsInBlocks).toBeGreaterThan(50);
  });

  it("leaves a load that crosses into the next page to the interpreter, which finds that page unmapped", async () => {
    // A loop loads 8 bytes at x1 and moves x1 on by one byte, from 64 bytes before a page unmapped
    // at stage 2 (MMU on, so that the loads take the translation cache's fast path): the last 7
    // loads before the page cross into it and abort like the loads inside it (the host skips them).
    const words = [ldrX(2, 1), addReg(0, 0, 2), addImm(1, 1, 1), subsImm(4, 4, 1), bNe(4, 0), hvc(0)];
    const data = Uint8Array.from({ length: 0x2000 }, (_, i) => (i * 37) & 0xff);
    const { state, stats } = await bothTiers(
      words,
      (x) => {
        x(1, BigInt(RAM + DATA + 0x1000 - 64));
        x(4, 72n);
      },
      { mmu: true, data, hole: RAM + DATA + 0x1000 },
    );
    expect(state.exits.filter((exit) => exit.includes("stage2-abort"))).toHaveLength(15);
    expect(stats.instructionsInBlocks).toBeGreaterThan(200);
  });

  it("stops a block at a stage-2 abort with the interpreter's exit, PC and registers", async () => {
    // Walks x1 through RAM 8 bytes at a time until it leaves the 8 KiB mapped at stage 2.
    const loop = 2;
    const words = [
      adr(1, 0x1000),
      movz(3, 0),
      addImm(3, 3, 1),
      ldrXPost(2, 1, 8),
      addReg(0, 0, 2),
      b(5, loop),
    ];
    const { state } = await bothTiers(words, () => {}, { mappedBytes: 0x2000 });
    expect(state.exits).toHaveLength(1);
    expect(JSON.parse(state.exits[0]!)).toMatchObject({ kind: "stage2-abort", ipa: RAM + 0x2000 });
    expect(state.pc).toBe(BigInt(RAM + 3 * 4));
    expect(state.x[3]).toBe(0x1000n / 8n + 1n);
  });
});

describe("the JIT tier's pending flags (NZCV computed only where it is read or leaves the block)", () => {
  const subImm = (rd: number, rn: number, imm: number): number => 0xd100_0000 | (imm << 10) | (rn << 5) | rd;
  const subsReg = (rd: number, rn: number, rm: number): number => 0xeb00_0000 | (rm << 16) | (rn << 5) | rd;
  const csinc = (rd: number, rn: number, rm: number, cond: number): number =>
    0x9a80_0400 | (rm << 16) | (cond << 12) | (rn << 5) | rd;
  const cbnz = (rt: number, fromIndex: number, toIndex: number): number =>
    0xb500_0000 | (((toIndex - fromIndex) & 0x7ffff) << 5) | rt;
  const bHi = (fromIndex: number, toIndex: number): number =>
    0x5400_0008 | (((toIndex - fromIndex) & 0x7ffff) << 5);
  const msrNzcv = (rt: number): number => 0xd500_0000 | (CORE_SYSTEM_REGISTER_KEYS.NZCV! << 5) | rt;
  const mrsNzcv = (rt: number): number => 0xd520_0000 | (CORE_SYSTEM_REGISTER_KEYS.NZCV! << 5) | rt;
  const EQ = 0;
  const C = 0x2000_0000n;
  const N = 0x8000_0000n;

  it("gives an exit at the loop head the flags a back edge left pending (a subtraction's, not an addition's)", async () => {
    // Each iteration loads (post-index) and then compares 5 with a count going down: x5 = 5 - x7 sets
    // N while x7 > 5 and, at x7 = 0 in the last iteration, C alone (an addition's formula would give
    // C = 0 there). The next iteration's load aborts at stage 2 at the loop head: the interpreter takes
    // the abort with NZCV of that last SUBS, which the block left pending over its back edge (the MMU
    // is on so that the loads take the translation cache's fast path and the block loops).
    const words = [ldrXPost(2, 1, 8), subImm(7, 7, 1), subsReg(5, 10, 7), b(3, 0)];
    const { state, stats } = await bothTiers(
      words,
      (x) => {
        x(1, BigInt(RAM + 0x2_ff00));
        x(7, 32n);
        x(10, 5n);
      },
      { mmu: true, mappedBytes: 0x3_0000 },
    );
    expect(JSON.parse(state.exits[0]!)).toMatchObject({ kind: "stage2-abort", ipa: RAM + 0x3_0000 });
    expect(state.x[7]).toBe(0n);
    expect(BigInt(state.pstate >>> 0) & 0xf000_0000n).toBe(C);
    expect(stats.instructionsInBlocks).toBeGreaterThan(60);
  });

  it("reads NZCV at the loop head from whichever back edge came last: pending flags or the global", async () => {
    // x5 counts iterations through CSINC on EQ at the loop head; Z is always clear there: after TST of
    // an odd count (back edge with flags pending) or after MSR NZCV of 0 (back edge with NZCV in its
    // global, which must not be taken for the earlier back edge's pending flags).
    const loop = 2;
    const words = [
      movz(4, 40),
      movz(5, 0),
      csinc(5, 5, 5, EQ), // loop: x5 += 1 unless Z
      subsImm(4, 4, 1),
      bEq(4, 9),
      tstImm1(4),
      bNe(6, loop),
      msrNzcv(6),
      b(8, loop),
      hvc(0),
    ];
    const { state } = await bothTiers(words, (x) => x(6, 0n), { slice: 61 });
    expect(state.x[5]).toBe(40n);
  });

  it("gives a block entered by a taken branch's tail call the branching block's pending flags", async () => {
    // L compares the count with 25 and branches to B unless equal; B reads NZCV whole (MRS) and sums
    // it, then decrements and goes back to L (blocks of one page, which enter each other directly).
    const [l, bBlock, m] = [3, 7, 9];
    const words = [
      movz(4, 50),
      movz(9, 25),
      movz(8, 0),
      subsReg(6, 4, 9), // L
      bNe(4, bBlock),
      addImm(8, 8, 1000),
      b(6, m),
      mrsNzcv(7), // B
      addReg(8, 8, 7),
      subImm(4, 4, 1), // M
      cbnz(4, 10, l),
      hvc(0),
    ];
    const { state, stats } = await bothTiers(words, () => {});
    expect(state.x[8]).toBe(25n * C + 24n * N + 1000n);
    expect(stats.instructionsInBlocks).toBeGreaterThan(200);
  });

  it("tests a pending unsigned comparison directly and leaves its flags for the interpreter after the block", async () => {
    // B.HI on CMP (unsigned): taken while x4 > 3 of a count from 8 down; the block ends at HVC #2,
    // which the interpreter runs with the CMP's NZCV (Z when x4 = 3, C otherwise).
    const loop = 1;
    const words = [movz(4, 8), subImm(4, 4, 1), subsImm(31, 4, 3), bHi(3, loop), hvc(0)];
    const { state } = await bothTiers(words, () => {});
    expect(state.x[4]).toBe(3n);
    expect(BigInt(state.pstate >>> 0) & 0xf000_0000n).toBe(0x6000_0000n);
  });
});

// ---- random programs ----

/** xorshift32: the same programs on every run. */
function random(seed: number): (n: number) => number {
  let state = seed >>> 0 || 1;
  return (n) => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % n;
  };
}

/**
 * A random instruction of the JIT's subset (and a few around it) with operands that keep programs
 * runnable: results go to x0-x15, x16-x19 point into the data area (bases only), x21 is a small index,
 * x22 an aligned base that never moves, x20 counts the loop; SP starts 16-byte aligned inside the data
 * area.
 */
/** An opc (bits 23:22) that makes a register load/store of this size allocated (classify()). */
function loadStoreOpc(r: (n: number) => number, size: number): number {
  return r(size === 3 ? 3 : size === 2 ? 3 : 4); // size 3: STR, LDR, PRFM; size 2: STR, LDR, LDRSW
}

function randomInstruction(r: (n: number) => number): number {
  const d = (): number => r(16); // destination / data register
  const any = (): number => (r(8) === 0 ? 31 : r(22)); // any source, XZR/SP included
  const base = (): number => (r(6) === 0 ? 31 : 16 + r(4));
  // x22 stays 16-byte aligned: the base of most exclusive and ordered accesses, which fault unaligned
  const ordered = (): number => (r(8) === 0 ? base() : 22);
  const sf = r(2);
  const top = (sf << 31) >>> 0;
  const or = (...fields: number[]): number => fields.reduce((acc, f) => acc | f, 0) >>> 0;
  switch (r(28)) {
    case 0: // ADD/SUB(S) immediate
      return or(top, r(4) << 29, 0x1100_0000, r(2) << 22, r(4096) << 10, any() << 5, d());
    case 1: {
      // logical immediate, with a valid bitmask
      let n: number, immr: number, imms: number;
      do [n, immr, imms] = [sf ? r(2) : 0, r(64), r(64)];
      while (decodeBitMask(n, imms, immr, sf === 1) === undefined);
      return or(top, r(4) << 29, 0x1200_0000, n << 22, immr << 16, imms << 10, any() << 5, d());
    }
    case 2: // MOVZ/MOVN/MOVK
      return or(top, [0, 2, 3][r(3)]! << 29, 0x1280_0000, r(sf ? 4 : 2) << 21, r(65536) << 5, d());
    case 3: {
      // SBFM/BFM/UBFM
      const w = sf ? 64 : 32;
      return or(top, r(3) << 29, 0x1300_0000, sf << 22, r(w) << 16, r(w) << 10, any() << 5, d());
    }
    case 4: // logical shifted register
      return or(
        top,
        r(4) << 29,
        0x0a00_0000,
        r(4) << 22,
        r(2) << 21,
        any() << 16,
        r(32 + 32 * sf) << 10,
        any() << 5,
        d(),
      );
    case 5: // ADD/SUB(S) shifted register
      return or(
        top,
        r(4) << 29,
        0x0b00_0000,
        r(3) << 22,
        any() << 16,
        r(32 + 32 * sf) << 10,
        any() << 5,
        d(),
      );
    case 6: // ADD/SUB(S) extended register
      return or(top, r(4) << 29, 0x0b20_0000, any() << 16, r(8) << 13, r(5) << 10, any() << 5, d());
    case 7: // CSEL/CSINC/CSINV/CSNEG
      return or(top, r(2) << 30, 0x1a80_0000, any() << 16, r(16) << 12, r(2) << 10, any() << 5, d());
    case 8: // CCMP/CCMN, register or immediate
      return or(top, r(2) << 30, 0x3a40_0000, any() << 16, r(16) << 12, r(2) << 11, any() << 5, r(16));
    case 9: {
      // MADD/MSUB, and with sf SMADDL/SMSUBL, SMULH, UMADDL/UMSUBL, UMULH
      const op31 = sf ? [0, 1, 2, 5, 6][r(5)]! : 0;
      const o0 = op31 === 2 || op31 === 6 ? 0 : r(2);
      return or(top, 0x1b00_0000, op31 << 21, any() << 16, o0 << 15, any() << 10, any() << 5, d());
    }
    case 10: {
      // UDIV, SDIV, LSLV, LSRV, ASRV, RORV, CRC32B (32-bit only)
      const opcode = [2, 3, 8, 9, 10, 11, 16][r(7)]!;
      return or(opcode === 16 ? 0 : top, 0x1ac0_0000, any() << 16, opcode << 10, any() << 5, d());
    }
    case 11: {
      // RBIT, REV16, REV32 (REV when 32-bit), REV (64-bit only), CLZ, CLS
      const opcode = r(6);
      return or(opcode === 3 ? 1 << 31 : top, 0x5ac0_0000, opcode << 10, any() << 5, d());
    }
    case 12: // ADC/ADCS/SBC/SBCS
      return or(top, r(4) << 29, 0x1a00_0000, any() << 16, any() << 5, d());
    case 13:
    case 14: {
      // load/store, unsigned offset
      const size = r(4);
      return or(size << 30, 0x3900_0000, loadStoreOpc(r, size) << 22, r(64) << 10, base() << 5, d());
    }
    case 15: {
      // unscaled, post-index, pre-index (PRFUM has no writeback form)
      const size = r(4);
      const opc = loadStoreOpc(r, size);
      const mode = size === 3 && opc === 2 ? 0 : [0, 1, 3][r(3)]!;
      return or(
        size << 30,
        0x3800_0000,
        opc << 22,
        ((r(129) - 64) & 0x1ff) << 12,
        mode << 10,
        base() << 5,
        d(),
      );
    }
    case 16: {
      // register offset through x21
      const size = r(4);
      const option = [2, 3, 6, 7][r(4)]!;
      return or(
        size << 30,
        0x3820_0800,
        loadStoreOpc(r, size) << 22,
        21 << 16,
        option << 13,
        r(2) << 12,
        base() << 5,
        d(),
      );
    }
    case 17: {
      // STP/LDP/LDPSW/STNP/LDNP in every mode (LDPSW: loads with writeback or offset only)
      const opc = r(3);
      const load = opc === 1 ? 1 : r(2);
      const mode = opc === 1 ? 1 + r(3) : r(4);
      return or(
        opc << 30,
        0x2800_0000,
        mode << 23,
        load << 22,
        ((r(17) - 8) & 0x7f) << 15,
        d() << 10,
        base() << 5,
        d(),
      );
    }
    case 18: // ADR
      return or(0x1000_0000, r(4) << 29, r(1 << 12) << 5, d());
    case 19: // EXTR (ROR immediate when Rn = Rm), lsb below the operand size
      return or(top, 0x1380_0000, sf << 22, any() << 16, r(32 + 32 * sf) << 10, any() << 5, d());
    case 20: {
      // MRS/MSR of NZCV, TPIDR_EL0, TPIDRRO_EL0, TPIDR_EL1, SP_EL0, DAIF; MRS DCZID_EL0
      const name = ["NZCV", "TPIDR_EL0", "TPIDRRO_EL0", "TPIDR_EL1", "SP_EL0", "DAIF", "DCZID_EL0"][r(7)]!;
      const key = CORE_SYSTEM_REGISTER_KEYS[name]!;
      return r(2) || name === "DCZID_EL0" ? or(0xd520_0000, key << 5, d()) : or(0xd500_0000, key << 5, any());
    }
    case 21: {
      // LDAR/STLR of every size, sometimes through a base a post-index has misaligned (alignment faults)
      return or(r(4) << 30, 0x089f_fc00, r(2) << 22, ordered() << 5, d());
    }
    case 22: // DC ZVA inside the data area (and its unmapped page)
      return or(0xd50b_7420, 16 + r(4));
    case 23: // a lone load or store exclusive (a store without a reservation fails)
      return exclusive(r, exclusiveShape(r), r(2) === 1, ordered(), d(), d(), d());
    case 24: // MSR DAIFSet/DAIFClr; DC CVAC/CVAU/CIVAC/IVAC, IC IVAU/IALLU (nothing to do here)
      if (r(2)) return or(0xd503_40df, r(2) << 5, r(16) << 8);
      return or([0xd50b_7a20, 0xd50b_7b20, 0xd50b_7e20, 0xd508_7620, 0xd50b_7520][r(5)]!, any());
    case 25:
      return 0xd508_751f; // IC IALLU
    default: // NOP, DMB, DSB, ISB, YIELD, CLREX
      return [0xd503_201f, 0xd503_3bbf, 0xd503_3f9f, 0xd503_3fdf, 0xd503_203f, 0xd503_305f][r(6)]!;
  }
}

/** Exclusives: a single register of any size, or a pair of words or doublewords. */
interface ExclusiveShape {
  pairOf: boolean;
  size: number;
}

function exclusiveShape(r: (n: number) => number): ExclusiveShape {
  const pairOf = r(3) === 0;
  return { pairOf, size: pairOf ? 2 + r(2) : r(4) };
}

/** LDXR/LDAXR/LDXP/LDAXP, or STXR/STLXR/STXP/STLXP with the status in Ws. */
function exclusive(
  r: (n: number) => number,
  { pairOf, size }: ExclusiveShape,
  load: boolean,
  rn: number,
  rt: number,
  rt2: number,
  rs: number,
): number {
  const status = load ? 31 : rs;
  const second = pairOf ? rt2 : 31;
  const l = load ? 1 : 0;
  const o1 = pairOf ? 1 : 0;
  return (
    ((size << 30) |
      0x0800_0000 |
      (l << 22) |
      (o1 << 21) |
      (status << 16) |
      (r(2) << 15) |
      (second << 10) |
      (rn << 5) |
      rt) >>>
    0
  );
}

/** A random 64-bit register value, often one at the edges of 32- and 64-bit arithmetic. */
function randomValue(r: (n: number) => number): bigint {
  const edges = [
    0n,
    1n,
    0x7fff_ffffn,
    0x8000_0000n,
    0xffff_ffffn,
    1n << 63n,
    (1n << 63n) - 1n,
    (1n << 64n) - 1n,
  ];
  if (r(4) === 0) return edges[r(edges.length)]!;
  return (BigInt(r(1 << 30)) << 34n) ^ (BigInt(r(1 << 30)) << 17n) ^ BigInt(r(1 << 30));
}

/** `length` random instructions, some forward branches over one of them, looped `iterations` times. */
function randomProgram(seed: number, length: number): number[] {
  const r = random(seed);
  const body: number[] = [];
  for (let i = 0; i < length; i++) {
    if (i < length - 3 && r(12) === 0) {
      // a load and store exclusive of the same shape through the same base: the store succeeds
      // unless a slice ends between them or the base moved
      const shape = exclusiveShape(r);
      const rn = r(4) === 0 ? 16 + r(4) : 22;
      body.push(exclusive(r, shape, true, rn, r(16), r(16), 0));
      body.push(exclusive(r, shape, false, rn, r(16), r(16), r(16)));
      i++;
    } else if (i < length - 2 && r(6) === 0) {
      // B.cond, CBZ/CBNZ or TBZ/TBNZ over the next instruction
      const kind = r(3);
      if (kind === 0) body.push(0x5400_0000 | (2 << 5) | r(16));
      else if (kind === 1) body.push(((r(2) << 31) | 0x3400_0000 | (r(2) << 24) | (2 << 5) | r(22)) >>> 0);
      else body.push(((r(2) << 31) | 0x3600_0000 | (r(2) << 24) | (r(32) << 19) | (2 << 5) | r(22)) >>> 0);
    } else {
      body.push(randomInstruction(r) >>> 0);
    }
  }
  return [...body, subsImm(20, 20, 1), bNe(length + 1, 0), hvc(0)];
}

describe("the JIT tier on random programs (MMU on)", () => {
  it("runs 60 random looped programs through the same states, stage-2 aborts, instruction counts and memory", async () => {
    const vectors = new Array<number>(0x800 / 4).fill(hvc(1));
    let inBlocks = 0;
    let aborts = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const r = random(seed * 7919);
      const data = Uint8Array.from({ length: 0x1_0000 }, () => r(256));
      const code = randomProgram(seed, 48);
      const program = [...code, ...new Array<number>(0x800 / 4 - code.length).fill(0), ...vectors];
      const registers = Array.from({ length: 16 }, () => randomValue(r));
      const orderedBase = BigInt(RAM + DATA + 0x1000 + 16 * r(64));
      const { state, stats } = await bothTiers(
        program,
        (x, write) => {
          registers.forEach((v, n) => x(n, v));
          for (let n = 16; n < 20; n++) x(n, BigInt(RAM + DATA + 0x2000 + (n - 16) * 0x3000));
          x(20, 20n);
          x(21, 8n);
          x(22, orderedBase);
          write("VBAR_EL1", BigInt(RAM + 0x800));
        },
        { mmu: true, data, slice: 61, hole: RAM + DATA + 0x5000 },
      );
      inBlocks += stats.instructionsInBlocks;
      aborts += state.exits.filter((exit) => exit.includes("stage2-abort")).length;
    }
    expect(inBlocks).toBeGreaterThan(10_000);
    expect(aborts).toBeGreaterThan(100);
  });
});

withTools("the JIT tier on compiled programs", () => {
  async function compare(run: (tier: CpuTier) => Promise<GuestResult>): Promise<GuestResult> {
    const [interp, jit] = [await run("interp"), await run("jit")];
    const strip = ({ runSeconds: _s, ...rest }: GuestResult) => rest;
    expect(strip(jit)).toEqual(strip(interp));
    return jit;
  }

  for (const workload of Object.keys(WORKLOADS) as WorkloadName[]) {
    it(`computes the bench:cpu workload ${workload}'s checksum in the same number of instructions (MMU on)`, async () => {
      const { bareMetalImage } = buildWorkload(workload);
      let jitCore: CpuCore | undefined;
      const result = await compare((tier) =>
        runGuestImage(
          "bench-cpu",
          bareMetalImage,
          {
            core: { tier, ...EAGER },
            setup: ({ core }) => {
              jitCore = core;
            },
            onExit(exit, { vcpu }) {
              if (exit.kind !== "hvc" || exit.imm !== 2) return false;
              vcpu.setX(0, 3n);
              return true;
            },
          },
          Number.MAX_SAFE_INTEGER,
        ),
      );
      expect(result.code).toBe(0);
      expect(result.checkpoints.length).toBeGreaterThan(0);
      // Most of this loop-heavy program runs translated; its loads and stores take the fast path.
      const stats = jitCore!.jitStatistics!;
      expect(stats.translationErrors, stats.firstError).toBe(0);
      expect(stats.instructionsInBlocks).toBeGreaterThan(result.instructions / 2);
    });
  }

  for (const name of ["boot", "mmu", "el0", "dczva", "unaligned"]) {
    it(`passes the bare-metal guest ${name} with the interpreter's instruction count`, async () => {
      const result = await compare((tier) => runGuest(name, { core: { tier, ...EAGER } }));
      expect(result.code).toBe(0);
    });
  }
});

describe("the JIT tier booting Linux", () => {
  it("prints the same console output after the same instruction count (minimal kernel, deterministic)", async () => {
    const runs: { output: string; instructions: number }[] = [];
    for (const cpu of TIERS) {
      const console = new HarnessConsole();
      const system = await bootSystemFile(SIMPLE_SYSTEM, {
        console,
        cpu,
        // busybox as init powers the guest off at once: the run ends at a point fixed in guest time.
        guestBoot: {
          kernel: "minimal",
          append: "earlycon=pl011,mmio32,0x9000000 console=ttyAMA0 rdinit=/bin/busybox -- poweroff -f",
        },
      });
      await system.run();
      const vcpus = [...system.pds.values()].flatMap(({ pd }) => pd.vcpuInspection(0) ?? []);
      expect(vcpus).toHaveLength(1);
      runs.push({ output: console.output, instructions: vcpus[0]!.instructionsRetired });
    }
    expect(runs[0]!.output).toContain("reboot: Power down");
    expect(runs[0]!.instructions).toBeGreaterThan(10_000_000);
    expect(runs[1]).toEqual(runs[0]);
  }, 120_000);
});
