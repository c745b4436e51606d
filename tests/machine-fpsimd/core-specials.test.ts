// SIMD&FP loads the qemu-aarch64 comparisons cannot reach, checked on the whole core against the
// ARM ARM: LDR (literal) of S, D and Q, and SP alignment checking (SCTLR_EL1.SA) for SP-based
// SIMD&FP accesses.
import { beforeAll, describe, expect, it } from "vitest";
import { buildCore } from "./build-core.ts";
import { createCpuCore, type Vcpu } from "../../src/machine/cpu.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";

const RAM = 0x4000_0000;
const CODE = RAM + 0x1000;
const VECTORS = RAM + 0x8000;
const EC_SP_ALIGNMENT = 0x26;

let memory: PhysicalMemory;
let vcpu: Vcpu;

beforeAll(async () => {
  buildCore();
  memory = new PhysicalMemory({ ramBase: RAM, ramSize: 0x10_0000 });
  const core = await createCpuCore(memory);
  vcpu = core.createVcpu();
  vcpu.mapStage2(RAM, RAM, 0x10_0000, { read: true, write: true, execute: true }, false);
  vcpu.writeSysreg("VBAR_EL1", BigInt(VECTORS));
  vcpu.writeSysreg("CPACR_EL1", 3n << 20n);
});

function runOne(insn: number, sctlr: bigint): void {
  new DataView(memory.memory.buffer).setUint32(memory.ramOffset + (CODE - RAM), insn, true);
  vcpu.writeSysreg("SCTLR_EL1", sctlr);
  vcpu.pstate = 0x3c5; // EL1h
  vcpu.pc = BigInt(CODE);
  expect(vcpu.run(1).kind).toBe("slice-end");
}

describe("SIMD&FP loads on the whole core", () => {
  it("LDR (literal) loads S, D and Q relative to the instruction and clears the rest", () => {
    const data = memory.view(CODE + 0x100, 16);
    data.set(Buffer.from("00112233445566778899aabbccddeeff", "hex"));
    const cases = [
      { opc: 0, lo: 0x33221100n, hi: 0n },
      { opc: 1, lo: 0x7766554433221100n, hi: 0n },
      { opc: 2, lo: 0x7766554433221100n, hi: 0xffeeddccbbaa9988n },
    ];
    for (const { opc, lo, hi } of cases) {
      vcpu.setV(5, -1n, -1n);
      runOne(((opc << 30) | 0x1c000000 | ((0x100 >> 2) << 5) | 5) >>> 0, 0x30d00800n);
      expect(vcpu.pc).toBe(BigInt(CODE + 4));
      expect(vcpu.getV(5)).toEqual({ lo, hi });
    }
  });

  it("SP-based accesses fault on a misaligned SP only when SCTLR_EL1.SA is set", () => {
    const ldrQ0Sp = 0x3dc003e0; // LDR Q0, [SP]
    vcpu.setSp(1, BigInt(RAM + 0x2008));
    vcpu.setV(0, 0n, 0n);
    memory.view(RAM + 0x2008, 16).fill(0xab);
    runOne(ldrQ0Sp, 0x30d00800n); // SA clear: the load happens
    expect(vcpu.pc).toBe(BigInt(CODE + 4));
    expect(vcpu.getV(0).lo).toBe(0xababababababababn);

    vcpu.setV(0, 0n, 0n);
    runOne(ldrQ0Sp, 0x30d00800n | (1n << 3n)); // SA set: SP alignment fault, nothing loaded
    expect(vcpu.pc).toBe(BigInt(VECTORS + 0x200));
    expect(Number(vcpu.readSysreg("ESR_EL1") >> 26n)).toBe(EC_SP_ALIGNMENT);
    expect(vcpu.getV(0)).toEqual({ lo: 0n, hi: 0n });
  });
});
