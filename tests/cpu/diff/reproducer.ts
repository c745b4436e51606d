// Prints a reproducer so a person can act on it: each instruction with its encoding and disassembly,
// the initial state of the registers it names, and both results where they differ. The full program
// source is written next to it so it can be rebuilt and run by hand.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CROSS, runTool } from "../toolchain.ts";
import { fpsrText, nzcvText, vectorText } from "./compare.ts";
import type { Reproducer } from "./harness.ts";

/** Encoding and disassembly of each instruction in `lines`, assembled on their own. */
export function disassemble(workDir: string, lines: readonly string[]): string[] {
  const base = join(workDir, "disassemble");
  writeFileSync(`${base}.S`, `.text\n${lines.join("\n")}\n`);
  runTool(CROSS.as, ["-march=armv8-a+crc+crypto+lse+rdm", "-o", `${base}.o`, `${base}.S`]);
  const dump = runTool(CROSS.objdump, ["-d", `${base}.o`]).toString();
  return dump
    .split("\n")
    .map((l) => /^\s+([0-9a-f]+):\s+([0-9a-f]{8})\s+(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `  +0x${m[1]!.padStart(3, "0")}  ${m[2]}  ${m[3]!.replace(/\s+/g, " ")}`);
}

/** Registers named in the assembly text, so the printed initial state stays short. */
function namedRegisters(lines: readonly string[]): { x: number[]; v: number[] } {
  const text = lines.join("\n");
  const x = new Set<number>();
  const v = new Set<number>();
  for (const m of text.matchAll(/\b([xw])(\d+)\b/g)) x.add(Number(m[2]));
  for (const m of text.matchAll(/\b([vqdshb])(\d+)\b/g)) v.add(Number(m[2]));
  return {
    x: [...x].filter((n) => n < 31).sort((a, b) => a - b),
    v: [...v].filter((n) => n < 32).sort((a, b) => a - b),
  };
}

export function formatReproducer(repro: Reproducer, index: number, workDir: string): string {
  const lines = repro.items.flatMap((i) => i.lines);
  const sourcePath = join(workDir, `reproducer-${index}.S`);
  writeFileSync(sourcePath, repro.source);
  const regs = namedRegisters(lines);
  const init = repro.initial;
  const out = [
    `mismatch #${index} in class ${repro.cls}: ${repro.items.length === 1 ? "a single item fails on its own" : `the shortest failing prefix is ${repro.items.length} items`}`,
    "code (offset, encoding, disassembly):",
    ...disassemble(workDir, lines),
    "source:",
    ...lines.map((l) => `  ${l}`),
    "initial state (registers the code names):",
    ...regs.x.map((n) => `  x${n} = 0x${init.x[n]!.toString(16)}`),
    ...regs.v.map((n) => `  v${n} = ${vectorText(init.v[n]!)}`),
    `  nzcv = ${nzcvText(init.nzcv)}, fpcr = 0x${init.fpcr.toString(16)}, fpsr = ${fpsrText(init.fpsr)}`,
  ];
  if (repro.virtkitProblem) {
    out.push(`virtkit did not finish: ${repro.virtkitProblem}`);
  } else {
    out.push("results that differ (qemu-aarch64 | virtkit):");
    for (const d of repro.differences) out.push(`  ${d.field.padEnd(14)} ${d.qemu} | ${d.virtkit}`);
  }
  out.push(
    `full program: ${sourcePath}`,
    `  rebuild and run in qemu: see docs/cpu-testing.md ("Reading a reproducer")`,
  );
  return out.join("\n");
}

export function formatSummary(report: {
  seed: number;
  mmu: boolean;
  instructions: number;
  tally: Record<string, { items: number; instructions: number; mismatches: number }>;
}): string {
  const rows = Object.entries(report.tally).map(
    ([name, t]) =>
      `  ${name.padEnd(16)} ${String(t.instructions).padStart(9)} instructions  ${String(t.mismatches).padStart(4)} mismatches`,
  );
  return [
    `seed ${report.seed}, MMU ${report.mmu ? "on" : "off"}: ${report.instructions} instructions`,
    ...rows,
  ].join("\n");
}
