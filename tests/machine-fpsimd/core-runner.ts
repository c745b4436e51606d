// Runs FP/SIMD cases on the whole virtkit CPU core (src/machine/cpu.ts) at EL1 with the MMU on,
// so SIMD&FP loads and stores go through the real memory-access path. Guest RAM starts at
// SCRATCH_ADDRESS, identity-mapped as Normal write-back memory by a single level-1 block, so
// guest addresses match those of the qemu-aarch64 reference program.
import { createCpuCore } from "../../src/machine/cpu.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";
import {
  OFF_FPCR_FPSR,
  OFF_NZCV,
  OFF_UNDEF,
  OFF_V,
  OFF_X,
  RECORD_BYTES,
  SCRATCH_ADDRESS,
  SCRATCH_BYTES,
  type FpSimdCase,
} from "./reference.ts";

const RAM_BYTES = 8 * 1024 * 1024;
const CODE_ADDRESS = SCRATCH_ADDRESS + 0x40_0000;
const CODE_BYTES = 0x20_0000;
const TABLE_ADDRESS = SCRATCH_ADDRESS + 0x60_0000;
const VECTORS_ADDRESS = SCRATCH_ADDRESS + 0x70_0000;

export interface CoreRunner {
  run(c: FpSimdCase): Buffer;
  /** The scratch memory as the cases left it. */
  scratch(): Buffer;
}

export async function createCoreRunner(initialScratch: Buffer): Promise<CoreRunner> {
  const memory = new PhysicalMemory({ ramBase: SCRATCH_ADDRESS, ramSize: RAM_BYTES });
  let undefined_ = false;
  const core = await createCpuCore(memory, {
    onUndefined: () => {
      undefined_ = true;
    },
  });
  const vcpu = core.createVcpu();
  vcpu.mapStage2(
    SCRATCH_ADDRESS,
    SCRATCH_ADDRESS,
    RAM_BYTES,
    { read: true, write: true, execute: true },
    false,
  );
  memory.view(SCRATCH_ADDRESS, SCRATCH_BYTES).set(initialScratch);
  // Level-1 block for [1 GiB, 2 GiB): AF, inner shareable, AttrIndx 0, EL1 read/write.
  const table = new DataView(
    memory.memory.buffer,
    memory.ramOffset + (TABLE_ADDRESS - SCRATCH_ADDRESS),
    4096,
  );
  table.setBigUint64(8, BigInt(SCRATCH_ADDRESS) | 0x701n, true);
  vcpu.writeSysreg("MAIR_EL1", 0xffn);
  // T0SZ = 25 (39-bit VAs), walks cacheable and inner shareable, TTBR1 walks disabled, 36-bit PAs.
  vcpu.writeSysreg("TCR_EL1", 25n | (1n << 8n) | (1n << 10n) | (3n << 12n) | (1n << 23n) | (1n << 32n));
  vcpu.writeSysreg("TTBR0_EL1", BigInt(TABLE_ADDRESS));
  vcpu.writeSysreg("VBAR_EL1", BigInt(VECTORS_ADDRESS));
  vcpu.writeSysreg("CPACR_EL1", 3n << 20n);
  vcpu.writeSysreg("SCTLR_EL1", 0x30d00800n | 1n | (1n << 2n) | (1n << 12n));
  let next = 0;
  return {
    run(c: FpSimdCase): Buffer {
      const input = c.input;
      for (let n = 0; n < 32; n++) {
        vcpu.setV(n, input.readBigUInt64LE(OFF_V + 16 * n), input.readBigUInt64LE(OFF_V + 16 * n + 8));
      }
      for (let n = 0; n < 16; n++) vcpu.setX(n, input.readBigUInt64LE(OFF_X + 8 * n));
      vcpu.fpcr = Number(input.readBigUInt64LE(OFF_FPCR_FPSR));
      vcpu.fpsr = 0;
      let pstate = Number(input.readBigUInt64LE(OFF_NZCV)) | 0x3c5; // EL1h, interrupts masked
      let anyUndefined = false;
      for (const insn of c.insns) {
        if (next * 4 >= CODE_BYTES)
          throw new Error("core runner: code area full; run fewer cases per runner");
        // A fresh address per instruction, so no decoded-instruction cache can hold a stale word.
        const pc = CODE_ADDRESS + 4 * next++;
        memory.view(pc, 4).set(Buffer.from(new Uint32Array([insn >>> 0]).buffer));
        vcpu.pstate = pstate;
        vcpu.pc = BigInt(pc);
        undefined_ = false;
        const exit = vcpu.run(1);
        if (exit.kind !== "slice-end")
          throw new Error(`core runner: unexpected exit ${JSON.stringify(exit)}`);
        if (undefined_) {
          // Like the reference's SIGILL handler: note it and go on after the instruction.
          anyUndefined = true;
        } else if (vcpu.pc !== BigInt(pc + 4)) {
          throw new Error(
            `core runner: 0x${(insn >>> 0).toString(16)} left the PC at 0x${vcpu.pc.toString(16)}`,
          );
        } else {
          pstate = vcpu.pstate;
        }
      }
      const out = Buffer.alloc(RECORD_BYTES);
      for (let n = 0; n < 32; n++) {
        const v = vcpu.getV(n);
        out.writeBigUInt64LE(v.lo, OFF_V + 16 * n);
        out.writeBigUInt64LE(v.hi, OFF_V + 16 * n + 8);
      }
      for (let n = 0; n < 16; n++) out.writeBigUInt64LE(vcpu.getX(n), OFF_X + 8 * n);
      out.writeBigUInt64LE(BigInt(vcpu.fpsr >>> 0), OFF_FPCR_FPSR);
      out.writeBigUInt64LE(BigInt((pstate & 0xf0000000) >>> 0), OFF_NZCV);
      out.writeBigUInt64LE(anyUndefined ? 1n : 0n, OFF_UNDEF);
      return out;
    },
    scratch(): Buffer {
      return Buffer.from(memory.view(SCRATCH_ADDRESS, SCRATCH_BYTES));
    },
  };
}
