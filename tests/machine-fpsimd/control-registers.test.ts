// FPCR and FPSR keep exactly the bits a Cortex-A53 keeps: all ones written, compared on read-back
// with qemu-aarch64 -cpu cortex-a53, through the core's TypeScript API.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildCore } from "./build-core.ts";
import { createCpuCore } from "../../src/machine/cpu.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";
import { ensureReferenceTools } from "./reference.ts";

const PROGRAM = `
  .global _start
_start:
  mov x0, #-1
  msr fpcr, x0
  mrs x1, fpcr
  msr fpsr, x0
  mrs x2, fpsr
  adr x3, values
  stp x1, x2, [x3]
  mov x0, #1
  mov x1, x3
  mov x2, #16
  mov x8, #64       // write
  svc #0
  mov x0, #0
  mov x8, #93       // exit
  svc #0
  .data
values:
  .quad 0, 0
`;

function qemuReadBack(): { fpcr: bigint; fpsr: bigint } {
  const dir = mkdtempSync(join(tmpdir(), "virtkit-fpcr-"));
  try {
    writeFileSync(join(dir, "t.s"), PROGRAM);
    execFileSync("aarch64-linux-gnu-as", ["-o", "t.o", "t.s"], { cwd: dir });
    execFileSync("aarch64-linux-gnu-ld", ["-o", "t", "t.o"], { cwd: dir });
    const out = execFileSync("qemu-aarch64", ["-cpu", "cortex-a53", join(dir, "t")]);
    return { fpcr: out.readBigUInt64LE(0), fpsr: out.readBigUInt64LE(8) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("FPCR and FPSR", () => {
  it("keep the same bits as a Cortex-A53", async () => {
    ensureReferenceTools();
    buildCore();
    const expected = qemuReadBack();
    const core = await createCpuCore(new PhysicalMemory({ ramBase: 0x4000_0000, ramSize: 0x10_0000 }));
    const vcpu = core.createVcpu();
    vcpu.fpcr = 0xffff_ffff;
    vcpu.fpsr = 0xffff_ffff;
    expect(BigInt(vcpu.fpcr >>> 0)).toBe(expected.fpcr);
    expect(BigInt(vcpu.fpsr >>> 0)).toBe(expected.fpsr);
  });
});
