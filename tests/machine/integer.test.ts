// Integer instructions through the TypeScript API: results and NZCV after
// short programs assembled with the Debian cross assembler.
import { describe, expect, it } from "vitest";
import { machineWith, runToExit } from "./assemble.ts";

/** Runs `body` followed by HVC #0 and returns the vCPU. */
async function exec(body: string) {
  const m = await machineWith(`${body}\n hvc #0\n`);
  const exit = runToExit(m.vcpu);
  expect(exit).toEqual({ kind: "hvc", imm: 0 });
  return m.vcpu;
}

const N = 0x8000_0000;
const Z = 0x4000_0000;
const C = 0x2000_0000;
const V = 0x1000_0000;
/** NZCV as MRS returns it (an unsigned 32-bit value). */
const flags = (bits: number) => bits >>> 0;

describe("A64 integer data processing", () => {
  it("sets NZCV like AddWithCarry for ADDS/SUBS/ADCS in 64 and 32 bits", async () => {
    const v = await exec(`
      mov x0, #-1
      adds x1, x0, #1        // 0, carry out
      mrs x10, nzcv
      mov x2, #0x7fffffffffffffff
      adds x3, x2, #1        // signed overflow
      mrs x11, nzcv
      mov w4, #0x80000000
      subs w5, w4, #1        // 0x7fffffff, V set, C set (no borrow)
      mrs x12, nzcv
      mov x6, #5
      cmp x6, #7             // negative, borrow
      mrs x13, nzcv
      adcs x7, x6, x6        // 5 + 5 + C(0)
      mrs x14, nzcv
    `);
    expect(v.getX(1)).toBe(0n);
    expect(Number(v.getX(10))).toBe(flags(Z | C));
    expect(v.getX(3)).toBe(0x8000_0000_0000_0000n);
    expect(Number(v.getX(11))).toBe(flags(N | V));
    expect(v.getX(5)).toBe(0x7fff_ffffn);
    expect(Number(v.getX(12))).toBe(flags(C | V));
    expect(Number(v.getX(13))).toBe(flags(N));
    expect(v.getX(7)).toBe(10n);
    expect(Number(v.getX(14))).toBe(0);
  });

  it("executes logical immediates, bitfields, EXTR and the one-source group", async () => {
    const v = await exec(`
      ldr x0, =0x00ff00ff00ff00ff
      and x1, x0, #0x0f0f0f0f0f0f0f0f
      mov x2, #0x1234
      ubfx x3, x2, #4, #8      // 0x23
      mov x4, #0xf0
      sbfx x5, x4, #4, #4      // -1
      mov x6, #-1
      bfi x6, x2, #8, #16      // insert 0x1234 at bit 8
      ldr x7, =0x1122334455667788
      extr x8, x7, x7, #16
      rbit w9, w2
      rev x10, x7
      clz x11, x2
      cls w12, w5
      rev16 w13, w7
    `);
    expect(v.getX(1)).toBe(0x000f_000f_000f_000fn);
    expect(v.getX(3)).toBe(0x23n);
    expect(v.getX(5)).toBe(0xffff_ffff_ffff_ffffn);
    expect(v.getX(6)).toBe(0xffff_ffff_ff12_34ffn);
    expect(v.getX(8)).toBe(0x7788_1122_3344_5566n);
    expect(v.getX(9)).toBe(0x2c48_0000n);
    expect(v.getX(10)).toBe(0x8877_6655_4433_2211n);
    expect(v.getX(11)).toBe(51n);
    expect(v.getX(12)).toBe(31n);
    expect(v.getX(13)).toBe(0x6655_8877n);
  });

  it("multiplies and divides, including the 128-bit high halves and division by zero", async () => {
    const v = await exec(`
      mov x0, #-1
      mov x1, #-1
      umulh x2, x0, x1          // 0xfffffffffffffffe
      smulh x3, x0, x1          // 0
      mov x4, #0x100000000
      mul x5, x4, x4            // wraps to 0
      umaddl x6, w0, w1, xzr    // 0xfffffffe00000001
      smsubl x7, w0, w1, x4     // 0x100000000 - 1
      mov x8, #7
      udiv x9, x8, xzr          // 0
      mov x10, #0x8000000000000000
      sdiv x11, x10, x0         // overflow: INT64_MIN
      mov x12, #-7
      sdiv x13, x12, x8         // -1 (rounds toward zero)
      msub x14, x13, x8, x12    // remainder 0
    `);
    expect(v.getX(2)).toBe(0xffff_ffff_ffff_fffen);
    expect(v.getX(3)).toBe(0n);
    expect(v.getX(5)).toBe(0n);
    expect(v.getX(6)).toBe(0xffff_fffe_0000_0001n);
    expect(v.getX(7)).toBe(0xffff_ffffn);
    expect(v.getX(9)).toBe(0n);
    expect(v.getX(11)).toBe(0x8000_0000_0000_0000n);
    expect(v.getX(13)).toBe(0xffff_ffff_ffff_ffffn);
    expect(v.getX(14)).toBe(0n);
  });

  it("selects and compares conditionally and branches on bits and zero", async () => {
    const v = await exec(`
      mov x0, #3
      mov x1, #5
      cmp x0, x1
      csel x2, x0, x1, lt       // 3
      csinc x3, x0, x1, ge      // 6
      csneg x4, x0, x1, eq      // -5
      ccmp x0, #3, #0b0010, lt  // condition true: compare 3 with 3 -> Z C
      mrs x5, nzcv
      ccmp x0, #9, #0b1001, gt  // condition false: NZCV = 1001
      mrs x6, nzcv
      mov x7, #0
      tbnz x1, #2, 1f
      mov x7, #1
    1: cbz x7, 2f
      mov x7, #2
    2: adr x8, 2b
    `);
    expect(v.getX(2)).toBe(3n);
    expect(v.getX(3)).toBe(6n);
    expect(v.getX(4)).toBe(BigInt.asUintN(64, -5n));
    expect(Number(v.getX(5))).toBe(flags(Z | C));
    expect(Number(v.getX(6))).toBe(flags(N | V));
    expect(v.getX(7)).toBe(0n);
    expect(v.getX(8)).toBe(v.pc - 8n); // ADR of its own address; the HVC exit leaves PC past the HVC
  });

  it("raises Undefined Instruction for LSE atomics and PAC instructions (a Cortex-A53 has neither)", async () => {
    for (const insn of [".inst 0xf8200020 // ldadd x0, x0, [x1]", ".inst 0xdac10020 // pacia"]) {
      const m = await machineWith(`
        adr x9, vectors
        msr vbar_el1, x9
        ${insn}
        hvc #1
        .balign 0x800
      vectors:
        .skip 0x200
        mrs x0, esr_el1
        hvc #2
      `);
      expect(runToExit(m.vcpu)).toEqual({ kind: "hvc", imm: 2 });
      expect(m.vcpu.getX(0) >> 26n).toBe(0n);
      expect(m.core.undefinedInstructions).toBe(1);
    }
  });
});
