// Compares the wasm FP/SIMD unit with qemu-aarch64 on the same cases and describes differences.
import { join } from "node:path";
import {
  OFF_FPCR_FPSR,
  OFF_NZCV,
  OFF_UNDEF,
  OFF_V,
  OFF_X,
  RECORD_BYTES,
  SCRATCH_BYTES,
  disassemble,
  ensureReferenceTools,
  loadFpSimdHarness,
  runOnQemu,
  type FpSimdCase,
} from "./reference.ts";

const root = join(import.meta.dirname, "../..");
let harness: ((c: FpSimdCase) => Buffer) | undefined;

function hex(b: Buffer, offset: number, bytes: number): string {
  let s = "";
  for (let i = bytes - 1; i >= 0; i--) s += b[offset + i]!.toString(16).padStart(2, "0");
  return s;
}

function describeDifference(c: FpSimdCase, want: Buffer, got: Buffer): string {
  const lines = c.insns.map((w) => `insn 0x${(w >>> 0).toString(16).padStart(8, "0")}  ${disassemble(w)}`);
  lines.push(`  FPCR ${hex(c.input, OFF_FPCR_FPSR, 4)}  NZCV in ${hex(c.input, OFF_NZCV, 4)}`);
  const field = (name: string, off: number, bytes: number, inOff?: number): void => {
    if (want.subarray(off, off + bytes).equals(got.subarray(off, off + bytes))) return;
    const input = inOff === undefined ? "" : ` (in ${hex(c.input, inOff, bytes)})`;
    lines.push(`  ${name}: qemu ${hex(want, off, bytes)} virtkit ${hex(got, off, bytes)}${input}`);
  };
  field("UNDEFINED", OFF_UNDEF, 1);
  for (let n = 0; n < 32; n++) field(`V${n}`, OFF_V + 16 * n, 16, OFF_V + 16 * n);
  for (let n = 0; n < 16; n++) field(`X${n}`, OFF_X + 8 * n, 8, OFF_X + 8 * n);
  field("FPSR", OFF_FPCR_FPSR, 4);
  field("NZCV", OFF_NZCV, 4);
  return lines.join("\n");
}

export interface Comparison {
  /** Descriptions of the first mismatching cases (empty when virtkit and qemu agree). */
  mismatches: string[];
  /** How many cases qemu executed rather than treating as UNDEFINED. */
  executed: number;
}

/** Runs one case on virtkit and returns its result record. */
export type VirtkitRunner = (c: FpSimdCase) => Buffer;

/**
 * Runs every case on both sides (on the stand-alone FP/SIMD unit unless `runner` is given) and
 * describes the first `limit` mismatches.
 */
export async function compareWithQemu(
  cases: readonly FpSimdCase[],
  options: { limit?: number; runner?: VirtkitRunner; expected?: Buffer[] } = {},
): Promise<Comparison> {
  const limit = options.limit ?? 12;
  ensureReferenceTools();
  if (!options.runner) harness ??= await loadFpSimdHarness(root);
  const run = options.runner ?? harness!;
  const expected = options.expected ?? runOnQemu(cases, Buffer.alloc(SCRATCH_BYTES)).results;
  const found: string[] = [];
  let total = 0;
  let executed = 0;
  cases.forEach((c, i) => {
    const got = run(c);
    const want = expected[i]!;
    if (want.readBigUInt64LE(OFF_UNDEF) === 0n) executed++;
    if (got.length !== RECORD_BYTES || !got.equals(want)) {
      total++;
      if (found.length < limit) found.push(describeDifference(c, want, got));
    }
  });
  if (total > found.length) found.push(`... ${total - found.length} more mismatching cases`);
  return { mismatches: found, executed };
}
