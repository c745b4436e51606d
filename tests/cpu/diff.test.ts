// The differential harness's fixed budget for `npm test`: every instruction class the core claims,
// a fixed seed each, compared against qemu-aarch64; plus checks that the harness itself sees the
// state it should (so a silent harness cannot pass).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareStates, firstDifferentSnapshot } from "./diff/compare.ts";
import { GenContext } from "./diff/generators/context.ts";
import { ALL_CLASSES } from "./diff/generators/index.ts";
import { DifferentialHarness } from "./diff/harness.ts";
import { buildProgram, programSource } from "./diff/program.ts";
import { runInQemu } from "./diff/qemu-runner.ts";
import { Random } from "./diff/random.ts";
import { formatReproducer } from "./diff/reproducer.ts";
import {
  SNAPSHOT_SIZE,
  SNAPSHOT_SLOT,
  decodeSnapshot,
  randomState,
  scratchHash,
  type CpuState,
} from "./diff/state.ts";
import { VirtkitRunner } from "./diff/virtkit-runner.ts";
import { ensureCpuTestTools } from "./toolchain.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const toolsProblem = ensureCpuTestTools();
if (toolsProblem && process.env.CI) throw new Error(toolsProblem);
const suite = toolsProblem ? describe.skip : describe;

/** Instructions per class in the fixed budget (well under a second per class when the core agrees). */
const BUDGET_PER_CLASS = 4000;
const BUDGET_SEED = 20261121;
/** Instructions of all classes mixed, run with virtkit's MMU on. */
const BUDGET_MMU_ON = 16000;

suite("CPU differential harness against qemu-aarch64", () => {
  let harness: DifferentialHarness;
  let virtkit: VirtkitRunner;
  const workDir = mkdtempSync(join(tmpdir(), "virtkit-cpu-diff-test-"));

  beforeAll(async () => {
    harness = await DifferentialHarness.create();
    virtkit = await VirtkitRunner.create();
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it("runs one program on both sides and reads back the state it computed", () => {
    const state: CpuState = randomState(new Random(1));
    const items = [
      { cls: "int-imm", lines: ["mov x0, #5", "add x1, x0, #3"] },
      { cls: "fp-arith", lines: ["fmov d2, #1.5"] },
      { cls: "load-store", lines: ["str x1, [x28, #8]", "msr nzcv, x1"] },
    ];
    const program = buildProgram(workDir, "self-check", programSource(items, state));
    const q = runInQemu(program.elf);
    const k = virtkit.run(program);
    if (!q.ok) throw new Error(q.problem);
    if (!k.ok) throw new Error(k.problem);
    for (const s of [q.state, k.state]) {
      expect(s.x[1]).toBe(8n);
      expect(s.v[2]!.lo).toBe(0x3ff8000000000000n);
      expect(new DataView(s.scratch.buffer, s.scratch.byteOffset).getBigUint64(8, true)).toBe(8n);
      expect(s.x[5]).toBe(state.x[5]);
    }
    expect(compareStates(q.state, k.state)).toEqual([]);
    // One snapshot per item, taken right after it: x1 is 8 from the first on, v2 set from the second,
    // the scratch area changed by the third (its store), SP unchanged throughout.
    for (const log of [q.log, k.log]) {
      expect(log.length).toBe(3 * SNAPSHOT_SIZE);
      expect(decodeSnapshot(log, 0).x[1]).toBe(8n);
      expect(decodeSnapshot(log, 0).v[2]).toEqual(state.v[2]);
      expect(decodeSnapshot(log, 1).v[2]!.lo).toBe(0x3ff8000000000000n);
      expect(decodeSnapshot(log, 2).nzcv).toBe(0);
      expect([0, 1, 2].map((i) => decodeSnapshot(log, i).sp)).toEqual([state.sp, state.sp, state.sp]);
      expect(decodeSnapshot(log, 1).scratchHash).toBe(scratchHash(state.scratch));
      expect(decodeSnapshot(log, 2).scratchHash).toBe(scratchHash(q.state.scratch));
      expect(decodeSnapshot(log, 2).scratchHash).not.toBe(decodeSnapshot(log, 1).scratchHash);
    }
    const corrupt = (offset: number) => {
      const log = k.log.slice();
      log[2 * SNAPSHOT_SIZE + offset] ^= 0x10;
      return firstDifferentSnapshot(q.log, log);
    };
    expect(corrupt(8 * 5)).toMatchObject({ index: 2, differences: [{ field: "x5" }] });
    expect(corrupt(SNAPSHOT_SLOT.sp)).toMatchObject({ index: 2, differences: [{ field: "sp" }] });
    expect(corrupt(SNAPSHOT_SLOT.scratchHash)).toMatchObject({
      index: 2,
      differences: [{ field: expect.stringMatching(/^scratch/) }],
    });
  });

  it("runs Normal-memory classes with the MMU on: unaligned accesses fault only with it off", () => {
    const state = randomState(new Random(4));
    const items = [{ cls: "unaligned", lines: ["add x1, x28, #13", "ldr x2, [x1]", "str x2, [x1, #100]"] }];
    const program = buildProgram(workDir, "unaligned-check", programSource(items, state));
    const off = virtkit.run(program, false);
    expect(off.ok ? "completed" : off.problem).toMatch(/data abort \(ESR_EL1 0x96000021/);
    const on = virtkit.run(program, true);
    const q = runInQemu(program.elf);
    if (!on.ok) throw new Error(on.problem);
    if (!q.ok) throw new Error(q.problem);
    expect(compareStates(q.state, on.state)).toEqual([]);
    expect(on.state.x[2]).toBe(new DataView(state.scratch.buffer).getBigUint64(13, true));
  });

  it("runs an instruction the program has just rewritten, on both sides", () => {
    // MOVZ x5, #0x1234 stored over ADD x5, x6, #1, then made visible to instruction fetch.
    const movz = 0xd2800000 | (0x1234 << 5) | 5;
    const lines = [
      "adr x1, .Lpatched",
      `movz w2, #${movz & 0xffff}`,
      `movk w2, #${movz >>> 16}, lsl #16`,
      "str w2, [x1]",
      ...["dc cvau, x1", "dsb ish", "ic ivau, x1", "dsb ish", "isb"],
      ".Lpatched:",
      "add x5, x6, #1",
    ];
    const program = buildProgram(
      workDir,
      "rewrite-check",
      programSource([{ cls: "self-modifying", lines }], randomState(new Random(8))),
    );
    const q = runInQemu(program.elf);
    const k = virtkit.run(program);
    if (!q.ok) throw new Error(q.problem);
    if (!k.ok) throw new Error(k.problem);
    expect([q.state.x[5], k.state.x[5]]).toEqual([0x1234n, 0x1234n]);
  });

  it("names every field that differs", () => {
    const a = randomState(new Random(2));
    const b: CpuState = { ...a, x: [...a.x], v: [...a.v], scratch: a.scratch.slice() };
    b.x[3] = a.x[3]! ^ 1n;
    b.nzcv = a.nzcv ^ 0x40000000;
    b.fpsr = a.fpsr ^ 1;
    b.v[7] = { lo: a.v[7]!.lo, hi: a.v[7]!.hi ^ 2n };
    b.scratch[17] = a.scratch[17]! ^ 0xff;
    expect(compareStates(a, b).map((d) => d.field)).toEqual(["x3", "nzcv", "fpsr", "v7", "scratch+0x10"]);
  });

  it(`every class with the MMU on (RAM as Normal memory): ${BUDGET_MMU_ON} instructions match qemu-aarch64`, async () => {
    const report = await harness.run({
      seed: BUDGET_SEED + 1,
      count: BUDGET_MMU_ON,
      mmu: true,
      maxMismatches: 5,
      keepWorkDir: false,
    });
    const text = report.mismatches.map((m, i) => formatReproducer(m, i + 1, report.workDir)).join("\n\n");
    expect(report.generatorProblems).toEqual([]);
    expect(report.mismatches.length, `mismatches with the MMU on:\n${text}`).toBe(0);
  });

  // One test per class, so a failure names its class and prints its reproducers.
  for (const cls of ALL_CLASSES) {
    it(`class ${cls.name}: ${BUDGET_PER_CLASS} generated instructions match qemu-aarch64 (or are UNDEFINED when the ID registers say the class is absent)`, async () => {
      if (!harness.supportedClasses().includes(cls)) {
        // The ID registers say the class is absent: then it must be UNDEFINED, as on hardware without it.
        const lines = cls.generate(new GenContext(new Random(BUDGET_SEED)));
        const program = buildProgram(
          workDir,
          `absent-${cls.name}`,
          programSource([{ cls: cls.name, lines }], randomState(new Random(3))),
        );
        const outcome = virtkit.run(program);
        expect(outcome.ok ? "completed" : outcome.problem).toMatch(/Undefined Instruction/);
        return;
      }
      const report = await harness.run({
        seed: BUDGET_SEED,
        mmu: cls.needsNormalMemory ?? false,
        count: BUDGET_PER_CLASS,
        classes: [cls.name],
        batchSize: 2500,
        maxMismatches: 3,
        keepWorkDir: false,
      });
      const text = report.mismatches.map((m, i) => formatReproducer(m, i + 1, report.workDir)).join("\n\n");
      expect(report.generatorProblems).toEqual([]);
      expect(report.mismatches.length, `${cls.name} mismatches:\n${text}`).toBe(0);
    });
  }
});
