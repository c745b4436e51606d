// CRC32 and CRC32C on the core: the check values of both CRCs over "123456789" through every operand
// size, the same answers from qemu-aarch64, ID_AA64ISAR0_EL1.CRC32 set, and the unallocated size/sf
// combinations UNDEFINED.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildProgram, programSource } from "./diff/program.ts";
import { runInQemu } from "./diff/qemu-runner.ts";
import { Random } from "./diff/random.ts";
import { randomState } from "./diff/state.ts";
import { VirtkitRunner } from "./diff/virtkit-runner.ts";
import { ensureCpuTestTools } from "./toolchain.ts";

const toolsProblem = ensureCpuTestTools();
if (toolsProblem && process.env.CI) throw new Error(toolsProblem);
const suite = toolsProblem ? describe.skip : describe;

/** The catalogued check values: each CRC of the ASCII bytes "123456789". */
const CHECK = { crc32: 0xcbf43926n, crc32c: 0xe3069283n };
const DIGITS = [..."123456789"].map((c) => c.charCodeAt(0));

/** `mov` of a value of up to 64 bits into x`reg`, 16 bits at a time. */
function load(reg: number, value: bigint): string[] {
  return [0, 1, 2, 3].map((i) => {
    const part = (value >> BigInt(16 * i)) & 0xffffn;
    return i === 0 ? `movz x${reg}, #${part}` : `movk x${reg}, #${part}, lsl #${16 * i}`;
  });
}

/** Little-endian value of `bytes`. */
const word = (bytes: number[]): bigint => bytes.reduceRight((v, b) => (v << 8n) | BigInt(b), 0n);

/**
 * The CRC of "123456789" into x`reg` with instructions of `bytes` bytes for the first eight digits
 * and a byte instruction for the ninth, between the conventional inversions.
 */
function crcOfDigits(reg: number, op: "crc32" | "crc32c", bytes: 1 | 2 | 4 | 8): string[] {
  const suffix = { 1: "b", 2: "h", 4: "w", 8: "x" }[bytes];
  const lines = [`mov w${reg}, #0xffffffff`];
  for (let at = 0; at < 8; at += bytes) {
    lines.push(...load(10, word(DIGITS.slice(at, at + bytes))));
    lines.push(`${op}${suffix} w${reg}, w${reg}, ${bytes === 8 ? "x" : "w"}10`);
  }
  lines.push(...load(10, BigInt(DIGITS[8]!)), `${op}b w${reg}, w${reg}, w10`, `mvn w${reg}, w${reg}`);
  return lines;
}

suite("CRC32 instructions", () => {
  let virtkit: VirtkitRunner;
  const workDir = mkdtempSync(join(tmpdir(), "virtkit-crc32-test-"));

  beforeAll(async () => {
    virtkit = await VirtkitRunner.create();
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it("are advertised by ID_AA64ISAR0_EL1.CRC32 (bits 19:16), and nothing else there", () => {
    expect(virtkit.idAa64Isar0()).toBe(0x1_0000n);
  });

  it("give both CRCs' check values through B, H, W and X, as qemu-aarch64 does", () => {
    const sizes = [1, 2, 4, 8] as const;
    const items = (["crc32", "crc32c"] as const).flatMap((op, i) =>
      sizes.map((bytes, j) => ({ cls: "crc32", lines: crcOfDigits(2 + 4 * i + j, op, bytes) })),
    );
    const program = buildProgram(workDir, "check-values", programSource(items, randomState(new Random(5))));
    const k = virtkit.run(program);
    const q = runInQemu(program.elf);
    if (!k.ok) throw new Error(k.problem);
    if (!q.ok) throw new Error(q.problem);
    for (const state of [k.state, q.state]) {
      expect(state.x.slice(2, 6)).toEqual(sizes.map(() => CHECK.crc32));
      expect(state.x.slice(6, 10)).toEqual(sizes.map(() => CHECK.crc32c));
    }
  });

  it("accumulate into Wd with its upper half cleared, reading Rm's low bits only", () => {
    const lines = [
      ...load(0, 0xdead_beef_1234_5678n),
      ...load(1, 0xffff_ffff_ffff_ff31n),
      "crc32b w3, w0, w1",
      "crc32x w4, w0, x1",
      "crc32cb w5, wzr, w1",
    ];
    const program = buildProgram(
      workDir,
      "operands",
      programSource([{ cls: "crc32", lines }], randomState(new Random(6))),
    );
    const k = virtkit.run(program);
    const q = runInQemu(program.elf);
    if (!k.ok) throw new Error(k.problem);
    if (!q.ok) throw new Error(q.problem);
    expect(k.state.x.slice(3, 6)).toEqual(q.state.x.slice(3, 6));
    for (const reg of [3, 4, 5]) expect(k.state.x[reg]! >> 32n).toBe(0n);
  });

  // sf must be set exactly for the X forms: the other combinations are unallocated encodings.
  for (const [name, encoding] of [
    ["CRC32X with sf clear", 0x1ac24c20],
    ["CRC32B with sf set", 0x9ac24020],
    ["CRC32CW with sf set", 0x9ac25820],
  ] as const) {
    it(`treat ${name} as UNDEFINED`, () => {
      const lines = [`.inst 0x${encoding.toString(16)}`];
      const program = buildProgram(
        workDir,
        `undefined-${encoding.toString(16)}`,
        programSource([{ cls: "crc32", lines }], randomState(new Random(7))),
      );
      const outcome = virtkit.run(program);
      expect(outcome.ok ? "completed" : outcome.problem).toMatch(/Undefined Instruction/);
    });
  }
});
