// Runs FP/SIMD test cases on qemu-aarch64 (Debian's qemu-user, -cpu cortex-a53) and on the
// wasm FP/SIMD unit, with the same record layout, so tests compare them byte for byte.
//
// A case is a short sequence of instruction words plus an input record: V0–V31, X0–X15, FPCR and
// NZCV. Its result record holds V0–V31, X0–X15, FPSR, NZCV and whether any instruction was
// UNDEFINED (an UNDEFINED instruction is skipped and the sequence goes on).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDebianPackages } from "../../src/host/debian-packages.ts";

export const RECORD_BYTES = 672;
export const OFF_V = 0;
export const OFF_X = 512;
/** Input record: FPCR. Result record: FPSR. */
export const OFF_FPCR_FPSR = 640;
export const OFF_NZCV = 648;
/** Result record only: 1 when the instruction was UNDEFINED. */
export const OFF_UNDEF = 656;
/** Guest address of the scratch memory that X registers may point at for loads and stores. */
export const SCRATCH_ADDRESS = 0x4000_0000;
export const SCRATCH_BYTES = 0x30000;

export interface FpSimdCase {
  insns: readonly number[];
  input: Buffer;
}

export function newInput(): Buffer {
  return Buffer.alloc(RECORD_BYTES);
}

const TOOLS = ["binutils-aarch64-linux-gnu", "qemu-user"];

/** Installs the cross assembler and qemu-user; throws (so the test fails) when impossible. */
export function ensureReferenceTools(): void {
  ensureDebianPackages(TOOLS);
}

// Loads the input record at x28 into the registers and advances x28; saves the result record at
// x27. x16/x17 are scratch and never used by generated instructions; neither are x27/x28/x30.
const PROGRAM_PRELUDE = `
  .text
  .global _start
_start:
  mov x0, #4              // SIGILL
  ldr x1, =sigaction
  mov x2, #0
  mov x3, #8
  mov x8, #134            // rt_sigaction
  svc #0
  ldr x28, =inputs
  ldr x27, =results
  b run_cases

on_sigill:                // Marks the case UNDEFINED and resumes after the instruction.
  ldr x9, =undef_flag
  mov x10, #1
  str x10, [x9]
  ldr x9, [x2, #440]      // uc_mcontext.pc
  add x9, x9, #4
  str x9, [x2, #440]
  ret
restorer:
  mov x8, #139            // rt_sigreturn
  svc #0

load_state:
  mov x16, x28
  ldr x17, [x16, #${OFF_FPCR_FPSR}]
  msr fpcr, x17
  ldr x17, [x16, #${OFF_NZCV}]
  msr nzcv, x17
  msr fpsr, xzr
${Array.from({ length: 16 }, (_, i) => `  ldp q${2 * i}, q${2 * i + 1}, [x16, #${32 * i}]`).join("\n")}
  add x16, x16, #${OFF_X}
${Array.from({ length: 8 }, (_, i) => `  ldp x${2 * i}, x${2 * i + 1}, [x16, #${16 * i}]`).join("\n")}
  add x28, x28, #${RECORD_BYTES}
  ret

save_state:
  mrs x17, nzcv
  str x17, [x27, #${OFF_NZCV}]
  mrs x17, fpsr
  str x17, [x27, #${OFF_FPCR_FPSR}]
${Array.from({ length: 16 }, (_, i) => `  stp q${2 * i}, q${2 * i + 1}, [x27, #${32 * i}]`).join("\n")}
  add x16, x27, #${OFF_X}
${Array.from({ length: 8 }, (_, i) => `  stp x${2 * i}, x${2 * i + 1}, [x16, #${16 * i}]`).join("\n")}
  ldr x16, =undef_flag
  ldr x17, [x16]
  str x17, [x27, #${OFF_UNDEF}]
  str xzr, [x16]
  add x27, x27, #${RECORD_BYTES}
  ret
  .ltorg                  // literals of the code above stay in range however many cases follow

run_cases:
`;

function programEpilogue(count: number): string {
  return `
  mov x0, #1
  ldr x1, =results
  ldr x2, =${count * RECORD_BYTES}
  mov x8, #64             // write
  svc #0
  mov x0, #1
  ldr x1, =${SCRATCH_ADDRESS}
  ldr x2, =${SCRATCH_BYTES}
  mov x8, #64             // write the scratch memory after the results
  svc #0
  mov x0, #0
  mov x8, #93             // exit
  svc #0
  .ltorg

  .data
  .balign 16
sigaction:
  .quad on_sigill
  .quad 0x04000004        // SA_RESTORER | SA_SIGINFO
  .quad restorer
  .quad 0                 // sa_mask
undef_flag:
  .quad 0
  .balign 16
inputs:
  .incbin "inputs.bin"
  .bss
  .balign 16
results:
  .skip ${count * RECORD_BYTES}
  .section .scratch, "aw"
  .incbin "scratch.bin"
`;
}

const LINKER_SCRIPT = `
SECTIONS {
  . = 0x400000;
  .text : { *(.text) }
  .data : { *(.data) }
  .bss : { *(.bss) }
  .scratch ${SCRATCH_ADDRESS} : { *(.scratch) }
}
`;

export interface QemuRun {
  /** One result record per case. */
  results: Buffer[];
  /** The scratch memory after the last case. */
  scratch: Buffer;
}

/**
 * Runs the cases in order on qemu-aarch64; the scratch memory at SCRATCH_ADDRESS starts as
 * `scratch` and persists from case to case.
 */
export function runOnQemu(cases: readonly FpSimdCase[], scratch: Buffer): QemuRun {
  const dir = mkdtempSync(join(tmpdir(), "virtkit-fpsimd-"));
  try {
    const body = cases
      .map((c) => {
        const words = c.insns.map((w) => `  .inst 0x${(w >>> 0).toString(16).padStart(8, "0")}`);
        return ["  bl load_state", ...words, "  bl save_state"].join("\n");
      })
      .join("\n");
    writeFileSync(join(dir, "cases.s"), PROGRAM_PRELUDE + body + programEpilogue(cases.length));
    writeFileSync(join(dir, "inputs.bin"), Buffer.concat(cases.map((c) => c.input)));
    writeFileSync(join(dir, "scratch.bin"), scratch);
    writeFileSync(join(dir, "link.ld"), LINKER_SCRIPT);
    execFileSync("aarch64-linux-gnu-as", ["-o", "cases.o", "cases.s"], { cwd: dir });
    execFileSync("aarch64-linux-gnu-ld", ["-T", "link.ld", "-o", "cases.elf", "cases.o"], { cwd: dir });
    const run = spawnSync("qemu-aarch64", ["-cpu", "cortex-a53", join(dir, "cases.elf")], {
      maxBuffer: cases.length * RECORD_BYTES + SCRATCH_BYTES + 1024,
    });
    if (run.status !== 0) {
      throw new Error(`qemu-aarch64 failed on the FP/SIMD cases (status ${run.status}): ${run.stderr}`);
    }
    const out = run.stdout;
    const end = cases.length * RECORD_BYTES;
    if (out.length !== end + SCRATCH_BYTES) {
      throw new Error(`qemu-aarch64 wrote ${out.length} bytes, expected ${end + SCRATCH_BYTES}`);
    }
    return {
      results: cases.map((_, i) => out.subarray(i * RECORD_BYTES, (i + 1) * RECORD_BYTES)),
      scratch: out.subarray(end),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Disassembles one instruction word with binutils, for mismatch reports. */
export function disassemble(insn: number): string {
  const dir = mkdtempSync(join(tmpdir(), "virtkit-fpsimd-dis-"));
  try {
    const word = Buffer.alloc(4);
    word.writeUInt32LE(insn >>> 0);
    writeFileSync(join(dir, "w.bin"), word);
    const out = execFileSync(
      "aarch64-linux-gnu-objdump",
      ["-D", "-b", "binary", "-m", "aarch64", join(dir, "w.bin")],
      { encoding: "utf8" },
    );
    const line = out.split("\n").find((l) => /^\s+0:/.test(l));
    return line ? line.replace(/^\s+0:\s+[0-9a-f]+\s+/, "").trim() : "?";
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ----------------------------------------------------------------------------------------------
// The wasm side: the FP/SIMD unit compiled together with the core's register file.

interface HarnessExports {
  executeFpSimd(insn: number): number;
  getVLo(n: number): bigint;
  getVHi(n: number): bigint;
  setV(n: number, lo: bigint, hi: bigint): void;
  writeFpcr(v: bigint): void;
  readFpsr(): bigint;
  writeFpsr(v: bigint): void;
  getX(n: number): bigint;
  setX(n: number, v: bigint): void;
  getNzcv(): number;
  setNzcv(v: number): void;
}

const HARNESS_ENTRY = `
export { executeFpSimd, getVLo, getVHi, setV, writeFpcr, readFpsr, writeFpsr } from "../../../src/machine/cpu/fpsimd/index";
export { getX, setX } from "../../../src/machine/cpu/registers";
import { nzcv } from "../../../src/machine/cpu/state";
export function getNzcv(): u32 { return nzcv; }
export function setNzcv(v: u32): void { nzcv = v; }
`;

/** Compiles the FP/SIMD unit with a small entry of its own and instantiates it. */
export async function loadFpSimdHarness(root: string): Promise<(c: FpSimdCase) => Buffer> {
  // One directory per process: test files compiling at the same time must not share outputs.
  const dir = join(root, "build/fpsimd-harness", String(process.pid));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "entry.ts"), HARNESS_ENTRY);
  const wasmPath = join(dir, "harness.wasm");
  execFileSync(
    process.execPath,
    [
      join(root, "node_modules/assemblyscript/bin/asc.js"),
      join(dir, "entry.ts"),
      "--outFile",
      wasmPath,
      "--runtime",
      "stub",
      "--optimizeLevel",
      "2",
      "--noAssert",
      "--enable",
      "simd",
      "--enable",
      "bulk-memory",
      "--initialMemory",
      "256",
    ],
    { stdio: "inherit" },
  );
  const wasm = readFileSync(wasmPath);
  rmSync(dir, { recursive: true, force: true });
  const { instance } = await WebAssembly.instantiate(wasm, {
    env: {
      abort: () => {
        throw new Error("FP/SIMD harness aborted");
      },
    },
  });
  const e = instance.exports as unknown as HarnessExports;
  return (c: FpSimdCase): Buffer => {
    const input = c.input;
    for (let n = 0; n < 32; n++) {
      e.setV(n, input.readBigUInt64LE(OFF_V + 16 * n), input.readBigUInt64LE(OFF_V + 16 * n + 8));
    }
    for (let n = 0; n < 16; n++) e.setX(n, input.readBigUInt64LE(OFF_X + 8 * n));
    e.writeFpcr(input.readBigUInt64LE(OFF_FPCR_FPSR));
    e.writeFpsr(0n);
    e.setNzcv(Number(input.readBigUInt64LE(OFF_NZCV)));
    let ok = true;
    for (const insn of c.insns) if (e.executeFpSimd(insn >>> 0) === 0) ok = false;
    const out = Buffer.alloc(RECORD_BYTES);
    for (let n = 0; n < 32; n++) {
      out.writeBigUInt64LE(BigInt.asUintN(64, e.getVLo(n)), OFF_V + 16 * n);
      out.writeBigUInt64LE(BigInt.asUintN(64, e.getVHi(n)), OFF_V + 16 * n + 8);
    }
    for (let n = 0; n < 16; n++) out.writeBigUInt64LE(BigInt.asUintN(64, e.getX(n)), OFF_X + 8 * n);
    out.writeBigUInt64LE(BigInt.asUintN(64, e.readFpsr()), OFF_FPCR_FPSR);
    out.writeBigUInt64LE(BigInt((e.getNzcv() & 0xf0000000) >>> 0), OFF_NZCV);
    out.writeBigUInt64LE(ok ? 0n : 1n, OFF_UNDEF);
    return out;
  };
}
