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
  type VcpuExit,
} from "../../src/machine/cpu.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";
import { bootSystemFile } from "../../src/microkit/index.ts";
import { HarnessConsole } from "../../src/machine/backends/harness-console.ts";
import { buildWorkload } from "../../bench/cpu/workload.ts";
import { runGuest, runGuestImage, type GuestResult } from "../guests/run-guest.ts";
import { SIMPLE_SYSTEM } from "../system/linux-session.ts";
import { ensureCpuTestTools } from "./toolchain.ts";

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
  0x1000_0000 | ((bytes & 3) << 29) | ((bytes >> 2) << 5) | rd;
const strW = (rt: number, rn: number): number => 0xb900_0000 | (rn << 5) | rt;
const ldrX = (rt: number, rn: number): number => 0xf940_0000 | (rn << 5) | rt;
const ldrXPost = (rt: number, rn: number, imm: number): number =>
  0xf840_0400 | ((imm & 0x1ff) << 12) | (rn << 5) | rt;
const addReg = (rd: number, rn: number, rm: number): number => 0x8b00_0000 | (rm << 16) | (rn << 5) | rd;
const hvc = (imm: number): number => 0xd400_0002 | (imm << 5);

interface Snapshot {
  exits: string[];
  x: bigint[];
  pc: bigint;
  pstate: number;
  sp: bigint;
  sysregs: Record<string, bigint>;
  instructions: number;
  memory: Uint8Array;
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
  options: { mappedBytes?: number; slice?: number } = {},
): Promise<ProgramRun> {
  const memory = new PhysicalMemory({ ramBase: RAM, ramSize: 1 << 20 });
  const view = memory.view(RAM, words.length * 4);
  const code = new DataView(view.buffer, view.byteOffset, view.byteLength);
  words.forEach((w, i) => code.setUint32(i * 4, w >>> 0, true));
  const core = await createCpuCore(memory, { tier, ...EAGER });
  const vcpu = core.createVcpu();
  vcpu.mapStage2(RAM, RAM, options.mappedBytes ?? 1 << 20, { read: true, write: true, execute: true }, false);
  vcpu.pstate = 0x3c5;
  vcpu.pc = BigInt(RAM);
  vcpu.setSp(1, BigInt(RAM + 0x8000));
  setup(
    (n, v) => vcpu.setX(n, v),
    (name, v) => vcpu.writeSysreg(name, v),
  );
  const exits: string[] = [];
  for (let slices = 0; slices < 10_000; slices++) {
    const exit: VcpuExit = vcpu.run(options.slice ?? 1000);
    if (exit.kind === "slice-end") continue;
    exits.push(JSON.stringify(exit, (_k, v) => (typeof v === "bigint" ? v.toString(16) : v)));
    break;
  }
  return {
    exits,
    x: Array.from({ length: 31 }, (_, n) => vcpu.getX(n)),
    pc: vcpu.pc,
    pstate: vcpu.pstate,
    sp: vcpu.getSp(1),
    sysregs: Object.fromEntries(
      ["ESR_EL1", "ELR_EL1", "FAR_EL1", "SPSR_EL1"].map((name) => [name, vcpu.readSysreg(name)]),
    ),
    instructions: vcpu.instructionsRetired,
    memory: memory.view(RAM, 0x10000).slice(),
    jit: core.jitStatistics,
  };
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

withTools("the JIT tier on compiled programs", () => {
  async function compare(run: (tier: CpuTier) => Promise<GuestResult>): Promise<GuestResult> {
    const [interp, jit] = [await run("interp"), await run("jit")];
    const strip = ({ runSeconds: _s, ...rest }: GuestResult) => rest;
    expect(strip(jit)).toEqual(strip(interp));
    return jit;
  }

  it("computes the CPU workload's checksum in the same number of instructions (MMU on)", async () => {
    const { bareMetalImage } = buildWorkload();
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
