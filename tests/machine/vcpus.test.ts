// Several vCPUs on one core: separate register files, per-VM stage-2 tables,
// one machine-wide counter.
import { describe, expect, it } from "vitest";
import { createCpuCore } from "../../src/machine/cpu.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";
import { assemble, EL1H_MASKED, RAM_BASE, RAM_SIZE, runToExit } from "./assemble.ts";

describe("multiple vCPUs", () => {
  it("keeps registers, stage-2 mappings and PSTATE apart and shares the counter", async () => {
    const memory = new PhysicalMemory({ ramBase: RAM_BASE, ramSize: RAM_SIZE });
    const program = assemble(`
      ldr x1, [x0]
      add x1, x1, #1
      str x1, [x0]
      mrs x2, mpidr_el1
      mrs x3, cntvct_el0
      hvc #0
    `);
    const half = RAM_SIZE / 2;
    // VM 0 sees the first half of RAM at RAM_BASE, VM 1 the second half at the same IPA.
    memory.view(RAM_BASE, program.length).set(program);
    memory.view(RAM_BASE + half, program.length).set(program);
    const core = await createCpuCore(memory);
    const a = core.createVcpu({ vmid: 0, mpidr: 0n });
    const b = core.createVcpu({ vmid: 1, mpidr: 1n });
    a.mapStage2(RAM_BASE, RAM_BASE, half, { read: true, write: true, execute: true }, false);
    b.mapStage2(RAM_BASE, RAM_BASE + half, half, { read: true, write: true, execute: true }, false);
    for (const v of [a, b]) {
      v.pstate = EL1H_MASKED;
      v.pc = BigInt(RAM_BASE);
      v.setX(0, BigInt(RAM_BASE + 0x1000));
    }
    b.setX(5, 55n);
    expect(runToExit(a)).toEqual({ kind: "hvc", imm: 0 });
    const counterAfterA = core.counter;
    expect(runToExit(b)).toEqual({ kind: "hvc", imm: 0 });
    expect(a.getX(1)).toBe(1n);
    expect(b.getX(1)).toBe(1n);
    expect(memory.view(RAM_BASE + 0x1000, 1)[0]).toBe(1);
    expect(memory.view(RAM_BASE + half + 0x1000, 1)[0]).toBe(1);
    expect(a.getX(2)).toBe(0x8000_0000n);
    expect(b.getX(2)).toBe(0x8000_0001n);
    expect(a.getX(5)).toBe(0n);
    expect(b.getX(5)).toBe(55n);
    expect(core.counter).toBeGreaterThan(counterAfterA);
    expect(b.getX(3)).toBeGreaterThanOrEqual(a.getX(3));
  });
});
