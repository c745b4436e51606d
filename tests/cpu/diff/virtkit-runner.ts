// Runs a test program on virtkit's core: the flat image at its link address in RAM (stage 2 maps RAM
// one to one), EL1h with the MMU off, FP/SIMD enabled, VBAR_EL1 at the program's HVC vector table.
import {
  createCpuCore,
  type CpuCore,
  type CpuTier,
  type Vcpu,
  type VcpuExit,
} from "../../../src/machine/cpu.ts";
import { PhysicalMemory } from "../../../src/machine/physical-memory.ts";
import { SYNC_CURRENT_EL_SPX, VECTOR_HVC_BASE, type BuiltProgram } from "./program.ts";
import { LOG_ADDRESS, REPORT_SIZE, RESULT_BLOCK, decodeReport, type CpuState } from "./state.ts";
import { SNAPSHOT_REGISTER } from "./generators/context.ts";

export const RAM_BASE = 0x4000_0000;
const RAM_SIZE = 16 * 1024 * 1024;
/** EL1h with D, A, I and F masked. */
const PSTATE_EL1H_MASKED = 0x3c5;
/** SCTLR_EL1 RES1 bits of ARMv8.0 with M, A, C, I clear: MMU off, no alignment checking beyond Device rules. */
const SCTLR_EL1_MMU_OFF = 0x30d00800n;
/** The same with M, C and I set. */
const SCTLR_EL1_MMU_ON = SCTLR_EL1_MMU_OFF | 1n | (1n << 2n) | (1n << 12n);
/** A level-1 table, outside any program image, mapping the RAM gigabyte VA = PA as Normal write-back. */
const IDENTITY_TABLE = RAM_BASE + 0x40_0000;
/** T0SZ = 25 (39-bit VAs, walks start at level 1), write-back inner shareable walks, 4 KiB granule, EPD1, 36-bit IPS. */
const TCR_EL1_IDENTITY = 25n | (1n << 8n) | (1n << 10n) | (3n << 12n) | (1n << 23n) | (1n << 32n);
/** MAIR_EL1 attribute 0: Normal, inner and outer write-back. */
const MAIR_EL1_NORMAL = 0xffn;
const CPACR_EL1_FPEN = 3n << 20n;
const EC_SVC64 = 0x15;
const SLICE = 1_000_000;

export type VirtkitOutcome =
  | { ok: true; state: CpuState; log: Uint8Array; instructions: number }
  | { ok: false; problem: string; pc?: bigint };

export class VirtkitRunner {
  private constructor(
    readonly memory: PhysicalMemory,
    readonly core: CpuCore,
    private readonly vcpu: Vcpu,
  ) {}

  /**
   * A core on `tier`. With the JIT every block start is translated the first time it is reached, so
   * generated code, most of which runs once, runs translated; one core runs every program, so each new
   * program at the same addresses is also new code under old translations.
   */
  static async create(tier: CpuTier = "interp"): Promise<VirtkitRunner> {
    const memory = new PhysicalMemory({ ramBase: RAM_BASE, ramSize: RAM_SIZE });
    const core = await createCpuCore(memory, tier === "jit" ? { tier, jitThreshold: 1 } : { tier });
    // GICv3 exposes the ICC system registers too; the differential programs use no interrupt controller.
    const vcpu = core.createVcpu({ gicVersion: 3 });
    vcpu.mapStage2(RAM_BASE, RAM_BASE, RAM_SIZE, { read: true, write: true, execute: true }, false);
    return new VirtkitRunner(memory, core, vcpu);
  }

  /** The ID_AA64ISAR0_EL1 the core reports, which decides the optional instruction classes. */
  idAa64Isar0(): bigint {
    return this.vcpu.readSysreg("ID_AA64ISAR0_EL1");
  }

  /**
   * Runs `program` from its entry to its exit SVC. With `mmu`, RAM is mapped VA = PA as Normal memory
   * (unaligned accesses and DC ZVA allowed, as in qemu's user mode); without, data accesses are Device.
   */
  run(program: BuiltProgram, mmu = false, maxInstructions = 50_000_000): VirtkitOutcome {
    const { vcpu } = this;
    this.memory.view(RAM_BASE, program.image.length).set(program.image);
    for (let i = 0; i < 31; i++) vcpu.setX(i, 0n);
    if (mmu) this.installIdentityMap();
    vcpu.writeSysreg("SCTLR_EL1", mmu ? SCTLR_EL1_MMU_ON : SCTLR_EL1_MMU_OFF);
    vcpu.writeSysreg("CPACR_EL1", CPACR_EL1_FPEN);
    vcpu.writeSysreg("VBAR_EL1", BigInt(program.vectors));
    vcpu.pstate = PSTATE_EL1H_MASKED;
    vcpu.setSp(1, 0n);
    vcpu.pc = BigInt(program.entry);
    const start = vcpu.instructionsRetired;
    for (let executed = 0; executed < maxInstructions; executed += SLICE) {
      const exit = vcpu.run(SLICE);
      if (exit.kind === "slice-end") continue;
      const instructions = vcpu.instructionsRetired - start;
      if (exit.kind === "hvc" && exit.imm === VECTOR_HVC_BASE + SYNC_CURRENT_EL_SPX) {
        const esr = vcpu.readSysreg("ESR_EL1");
        if (Number(esr >> 26n) === EC_SVC64) {
          const state = decodeReport(this.memory.view(RESULT_BLOCK, REPORT_SIZE).slice());
          const logSize = Number(state.x[SNAPSHOT_REGISTER]!) - LOG_ADDRESS;
          return { ok: true, state, log: this.memory.view(LOG_ADDRESS, logSize).slice(), instructions };
        }
      }
      return { ok: false, problem: this.describe(exit), pc: vcpu.pc };
    }
    return {
      ok: false,
      problem: `still running after ${maxInstructions} instructions (pc 0x${vcpu.pc.toString(16)})`,
    };
  }

  private installIdentityMap(): void {
    const table = new DataView(
      this.memory.view(IDENTITY_TABLE, 4096).buffer,
      this.memory.view(IDENTITY_TABLE, 4096).byteOffset,
      4096,
    );
    for (let i = 0; i < 512; i++) table.setBigUint64(8 * i, 0n, true);
    // Block descriptor: AttrIndx 0, inner shareable, access flag set.
    table.setBigUint64(8 * (RAM_BASE >>> 30), BigInt(RAM_BASE) | 1n | (3n << 8n) | (1n << 10n), true);
    this.vcpu.writeSysreg("MAIR_EL1", MAIR_EL1_NORMAL);
    this.vcpu.writeSysreg("TCR_EL1", TCR_EL1_IDENTITY);
    this.vcpu.writeSysreg("TTBR0_EL1", BigInt(IDENTITY_TABLE));
  }

  /** Says what stopped the program where it should have reached its exit SVC. */
  private describe(exit: VcpuExit): string {
    const { vcpu } = this;
    if (exit.kind === "hvc" && exit.imm >= VECTOR_HVC_BASE && exit.imm < VECTOR_HVC_BASE + 16) {
      const esr = vcpu.readSysreg("ESR_EL1");
      const elr = vcpu.readSysreg("ELR_EL1");
      const far = vcpu.readSysreg("FAR_EL1");
      const ec = Number(esr >> 26n);
      const what = EXCEPTION_CLASSES[ec] ?? `exception class 0x${ec.toString(16)}`;
      return (
        `virtkit took an unexpected exception to EL1 vector ${exit.imm - VECTOR_HVC_BASE}: ${what} ` +
        `(ESR_EL1 0x${esr.toString(16)}, ELR_EL1 0x${elr.toString(16)}, FAR_EL1 0x${far.toString(16)})`
      );
    }
    const fields = Object.entries(exit)
      .filter(([k]) => k !== "kind")
      .map(
        ([k, v]) =>
          `${k} ${typeof v === "number" || typeof v === "bigint" ? `0x${v.toString(16)}` : String(v)}`,
      );
    return `virtkit stopped with a "${exit.kind}" exit${fields.length ? ` (${fields.join(", ")})` : ""} at pc 0x${vcpu.pc.toString(16)}`;
  }
}

const EXCEPTION_CLASSES: Record<number, string> = {
  0x00: "Undefined Instruction",
  0x07: "FP/SIMD access trap",
  0x0e: "illegal execution state",
  0x15: "SVC",
  0x18: "trapped system register access",
  0x20: "instruction abort from a lower EL",
  0x21: "instruction abort",
  0x22: "PC alignment fault",
  0x24: "data abort from a lower EL",
  0x25: "data abort",
  0x26: "SP alignment fault",
  0x2c: "FP exception",
  0x3c: "BRK",
};
