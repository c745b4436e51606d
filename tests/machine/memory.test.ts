// Loads and stores in every addressing mode, exclusives and DC ZVA.
import { describe, expect, it } from "vitest";
import { machineWith, runToExit, RAM_BASE } from "./assemble.ts";

const DATA = RAM_BASE + 0x10_0000;

describe("A64 loads and stores", () => {
  it("computes addresses for offset, pre/post-index, register-offset, literal and pair forms", async () => {
    const m = await machineWith(`
      ldr x0, =${DATA}
      ldr x1, =0x8877665544332211
      str x1, [x0]                 // unsigned offset
      ldrb w2, [x0, #1]            // 0x22
      ldrsh x3, [x0, #6]           // sign-extended 0x8877
      ldur w4, [x0, #3]            // unaligned 0x77665544
      add x5, x0, #16
      str x1, [x5, #-8]!           // pre-index: writes DATA+8, x5 = DATA+8
      ldr x6, [x5], #8             // post-index: reads DATA+8, x5 = DATA+16
      mov x7, #-2
      ldrsw x8, [x5, w7, sxtw #2]  // DATA+16-8 = DATA+8, low word sign-extended
      ldr x9, lit
      mov x10, #0x7fffffff
      movk x10, #0x8000, lsl #48
      stp w10, w7, [x0, #32]
      ldpsw x11, x12, [x0, #32]
      mov sp, x0
      stp x1, x10, [sp, #-16]!
      ldp x13, x14, [sp], #16
      mov x15, sp
      hvc #0
    lit: .quad 0x0123456789abcdef
    `);
    expect(runToExit(m.vcpu)).toEqual({ kind: "hvc", imm: 0 });
    const v = m.vcpu;
    expect(v.getX(2)).toBe(0x22n);
    expect(v.getX(3)).toBe(0xffff_ffff_ffff_8877n);
    expect(v.getX(4)).toBe(0x7766_5544n);
    expect(v.getX(5)).toBe(BigInt(DATA + 16));
    expect(v.getX(6)).toBe(0x8877_6655_4433_2211n);
    expect(v.getX(8)).toBe(0x4433_2211n);
    expect(v.getX(9)).toBe(0x0123_4567_89ab_cdefn);
    expect(v.getX(11)).toBe(0x7fff_ffffn);
    expect(v.getX(12)).toBe(0xffff_ffff_ffff_fffen);
    expect(v.getX(13)).toBe(0x8877_6655_4433_2211n);
    expect(v.getX(14)).toBe(0x8000_0000_7fff_ffffn);
    expect(v.getX(15)).toBe(BigInt(DATA));
    const bytes = m.memory.view(DATA + 32, 8);
    expect([...bytes]).toEqual([0xff, 0xff, 0xff, 0x7f, 0xfe, 0xff, 0xff, 0xff]);
  });

  it("pairs LDXR/STXR through the exclusive monitor; CLREX and a lone STXR fail", async () => {
    const m = await machineWith(`
      ldr x0, =${DATA}
      mov x1, #41
      str x1, [x0]
      ldaxr x2, [x0]
      add x2, x2, #1
      stlxr w3, x2, [x0]     // succeeds: 0
      stxr w4, x2, [x0]      // no reservation: 1
      ldxr x5, [x0]
      clrex
      stxr w6, x1, [x0]      // cleared: 1
      ldxp x7, x8, [x0]
      stxp w9, x8, x7, [x0]  // succeeds: 0
      ldr x10, [x0]
      hvc #0
    `);
    expect(runToExit(m.vcpu)).toEqual({ kind: "hvc", imm: 0 });
    const v = m.vcpu;
    expect(v.getX(3)).toBe(0n);
    expect(v.getX(4)).toBe(1n);
    expect(v.getX(5)).toBe(42n);
    expect(v.getX(6)).toBe(1n);
    expect(v.getX(9)).toBe(0n);
    expect(v.getX(10)).toBe(v.getX(8));
  });

  it("zeroes a 64-byte block with DC ZVA and reports it in DCZID_EL0", async () => {
    const m = await machineWith(`
      ldr x0, =${DATA + 0x47}
      dc zva, x0
      mrs x1, dczid_el0
      hvc #0
    `);
    m.memory.view(DATA, 256).fill(0xaa);
    expect(runToExit(m.vcpu)).toEqual({ kind: "hvc", imm: 0 });
    expect(m.vcpu.getX(1)).toBe(4n);
    const bytes = m.memory.view(DATA, 256);
    expect(bytes.slice(0, 64).every((b) => b === 0xaa)).toBe(true);
    expect(bytes.slice(64, 128).every((b) => b === 0)).toBe(true);
    expect(bytes.slice(128).every((b) => b === 0xaa)).toBe(true);
  });
});
