// Turns generated items and an initial state into one static AArch64 program that both sides run from
// the same bytes at the same addresses: qemu-aarch64 as a Linux user process, virtkit at EL1. The
// prologue loads the state, each item runs followed by a snapshot of the registers into the log, the
// epilogue stores the state and makes the write (result + scratch, then the log) and exit system calls. Under virtkit the first SVC lands in the vector table, whose entries all
// leave through HVC #(0x100 + vector index), so the harness also learns about any unexpected exception.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CROSS, runTool } from "../toolchain.ts";
import {
  SCRATCH_BASE_REGISTER as X28,
  SCRATCH_SIZE,
  SNAPSHOT_REGISTER as X27,
  type GeneratedItem,
} from "./generators/context.ts";
import {
  BLOCK_SIZE,
  CODE_ADDRESS,
  DATA_ADDRESS,
  LOG_ADDRESS,
  MAX_SNAPSHOTS,
  REPORT_SIZE,
  SNAPSHOT_SIZE,
  SNAPSHOT_SLOT,
  SLOT,
  encodeBlock,
  type CpuState,
} from "./state.ts";

/** HVC immediate of vector-table entry `index` (0..15, in VBAR order). */
export const VECTOR_HVC_BASE = 0x100;
export const SYNC_CURRENT_EL_SPX = 4;

export interface BuiltProgram {
  elf: string;
  /** The flat image from CODE_ADDRESS to the end of the data area. */
  image: Uint8Array;
  entry: number;
  vectors: number;
}

/** The code segment is writable as well as executable (flags 7): the self-modifying class stores into it. */
const LINKER_SCRIPT = `ENTRY(_start)
PHDRS { code PT_LOAD FLAGS(7); data PT_LOAD FLAGS(6); log PT_LOAD FLAGS(6); }
SECTIONS {
  . = ${CODE_ADDRESS};
  .text : { *(.text*) } :code
  . = ${DATA_ADDRESS};
  .data : { *(.data*) } :data
  . = ${LOG_ADDRESS};
  .log : { *(.log) } :log
}
`;

function prologue(): string[] {
  const lines = [
    "_start:",
    "adrp x0, initial_state",
    "add x0, x0, :lo12:initial_state",
    `ldr x1, [x0, #${SLOT.sp}]`,
    "mov sp, x1",
    `ldr x1, [x0, #${SLOT.nzcv}]`,
    "msr nzcv, x1",
    `ldr x1, [x0, #${SLOT.fpcr}]`,
    "msr fpcr, x1",
    `ldr x1, [x0, #${SLOT.fpsr}]`,
    "msr fpsr, x1",
    `add x1, x0, #${SLOT.v}`,
  ];
  for (let i = 0; i < 32; i += 2) lines.push(`ldp q${i}, q${i + 1}, [x1, #${16 * i}]`);
  for (let i = 2; i < 30; i += 2) lines.push(`ldp x${i}, x${i + 1}, [x0, #${8 * i}]`);
  lines.push("ldr x30, [x0, #240]", "ldp x0, x1, [x0]");
  return lines;
}

function epilogue(): string[] {
  const lines = [
    "msr tpidr_el0, x0",
    "adrp x0, result_state",
    "add x0, x0, :lo12:result_state",
    "str x1, [x0, #8]",
  ];
  for (let i = 2; i < 30; i += 2) lines.push(`stp x${i}, x${i + 1}, [x0, #${8 * i}]`);
  lines.push(
    "str x30, [x0, #240]",
    "mrs x1, tpidr_el0",
    "str x1, [x0]",
    "mov x1, sp",
    `str x1, [x0, #${SLOT.sp}]`,
    "mrs x1, nzcv",
    `str x1, [x0, #${SLOT.nzcv}]`,
    "mrs x1, fpcr",
    `str x1, [x0, #${SLOT.fpcr}]`,
    "mrs x1, fpsr",
    `str x1, [x0, #${SLOT.fpsr}]`,
    `add x1, x0, #${SLOT.v}`,
  );
  for (let i = 0; i < 32; i += 2) lines.push(`stp q${i}, q${i + 1}, [x1, #${16 * i}]`);
  lines.push(
    "mov x1, x0",
    "mov x0, #1",
    `mov x2, #${REPORT_SIZE}`,
    "mov x8, #64",
    "svc #0",
    "mov x0, #1",
    "adrp x1, snapshot_log",
    `sub x2, x${X27}, x1`,
    "svc #0",
    "mov x0, #0",
    "mov x8, #93",
    "svc #0",
  );
  return lines;
}

/**
 * Stores X0-X30, SP, NZCV, FPSR, the scratch hash and V0-V31 at x27 and advances it by SNAPSHOT_SIZE
 * (see state.ts). The hash loop uses X0-X3 once they are stored, sets no flags, and reloads them.
 */
function snapshot(): string[] {
  const lines: string[] = [];
  for (let i = 0; i < 26; i += 2) lines.push(`stp x${i}, x${i + 1}, [x${X27}], #16`);
  lines.push(
    "mov x0, sp",
    `stp x26, x0, [x${X27}], #16`,
    `stp x28, x29, [x${X27}], #16`,
    `str x30, [x${X27}], #8`,
    "mrs x0, nzcv",
    `str x0, [x${X27}], #8`,
    "mrs x0, fpsr",
    `str x0, [x${X27}]`,
    "mov x0, #0",
    `mov x1, x${X28}`,
    `mov x2, #${SCRATCH_SIZE / 8}`,
    "1:",
    "ldr x3, [x1], #8",
    "eor x0, x3, x0, ror #13",
    "sub x2, x2, #1",
    "cbnz x2, 1b",
    `str x0, [x${X27}, #${SNAPSHOT_SLOT.scratchHash - SNAPSHOT_SLOT.fpsr}]`,
    `ldp x0, x1, [x${X27}, #-${SNAPSHOT_SLOT.fpsr}]`,
    `ldp x2, x3, [x${X27}, #-${SNAPSHOT_SLOT.fpsr - 16}]`,
    `add x${X27}, x${X27}, #${SNAPSHOT_SLOT.v - SNAPSHOT_SLOT.fpsr}`,
  );
  for (let i = 0; i < 32; i += 2) lines.push(`stp q${i}, q${i + 1}, [x${X27}], #32`);
  return lines;
}

function vectorTable(): string[] {
  const lines = [".balign 2048", "vectors:"];
  for (let i = 0; i < 16; i++) lines.push(".balign 128", `hvc #${VECTOR_HVC_BASE + i}`);
  return lines;
}

function dataWords(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 32) {
    const words = [];
    for (let j = i; j < Math.min(i + 32, bytes.length); j += 8)
      words.push(`0x${view.getBigUint64(j, true).toString(16)}`);
    lines.push(`.quad ${words.join(", ")}`);
  }
  return lines;
}

export function programSource(items: readonly GeneratedItem[], state: CpuState): string {
  if (items.length > MAX_SNAPSHOTS) {
    throw new Error(
      `a program holds at most ${MAX_SNAPSHOTS} items (their snapshots fill the log); got ${items.length}`,
    );
  }
  const body = items.flatMap((item) => [...item.lines, ...snapshot()]);
  return [
    ".text",
    ".globl _start",
    ...vectorTable(),
    ...prologue(),
    ...body,
    ...epilogue(),
    ".data",
    ".balign 16",
    "initial_state:",
    // Whatever state a run starts from, its snapshots go from the start of the log.
    ...dataWords(encodeBlock({ ...state, x: state.x.map((v, i) => (i === X27 ? BigInt(LOG_ADDRESS) : v)) })),
    "result_state:",
    `.zero ${BLOCK_SIZE}`,
    "scratch:",
    ...dataWords(state.scratch),
    '.section .log, "aw", %nobits',
    ".balign 4096",
    "snapshot_log:",
    `.skip ${items.length * SNAPSHOT_SIZE}`,
    "",
  ].join("\n");
}

/** Assembles and links `source` in `dir` under `name`; returns the ELF and its flat image. */
export function buildProgram(dir: string, name: string, source: string): BuiltProgram {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, name);
  writeFileSync(`${base}.S`, source);
  writeFileSync(join(dir, "program.ld"), LINKER_SCRIPT);
  runTool(CROSS.as, ["-march=armv8-a+crc+crypto+lse+rdm", "-o", `${base}.o`, `${base}.S`]);
  runTool(CROSS.ld, [
    ...["-static", "--no-warn-rwx-segments", "-T", join(dir, "program.ld")],
    ...["-o", `${base}.elf`, `${base}.o`],
  ]);
  runTool(CROSS.objcopy, ["-O", "binary", `${base}.elf`, `${base}.bin`]);
  const symbols = runTool(CROSS.nm, [`${base}.elf`]).toString();
  const address = (symbol: string) => {
    const match = new RegExp(`^([0-9a-f]+) \\w ${symbol}$`, "m").exec(symbols);
    if (!match) throw new Error(`symbol ${symbol} missing from ${base}.elf`);
    return parseInt(match[1]!, 16);
  };
  return {
    elf: `${base}.elf`,
    image: new Uint8Array(readFileSync(`${base}.bin`)),
    entry: address("_start"),
    vectors: address("vectors"),
  };
}
