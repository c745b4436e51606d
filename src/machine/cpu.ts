// The TypeScript face of the wasm CPU core (build/cpu.wasm, build/cpu-jit.wasm): vCPUs that run in
// slices and return KVM_RUN-style exits. Other layers use only this module.
import { readFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { PhysicalMemory } from "./physical-memory.ts";
import { hex } from "../util/hex.ts";
import { CORE_SYSTEM_REGISTER_KEYS, callSyndrome, wfxSyndrome } from "./arch/index.ts";
import { JitTier, DEFAULT_JIT_THRESHOLD, type JitCoreExports, type JitStats } from "./cpu/jit/jit.ts";

/** The core's two builds (scripts/build.mjs): the interpreter only, and with the JIT tier's run loop. */
const WASM_PATHS: Readonly<Record<CpuTier, string>> = {
  interp: fileURLToPath(new URL("../../build/cpu.wasm", import.meta.url)),
  jit: fileURLToPath(new URL("../../build/cpu-jit.wasm", import.meta.url)),
};

/**
 * Keys (op0:op1:CRn:CRm:op2, as in bits 20:5 of MRS) of the system registers readSysreg/writeSysreg
 * accept, by upper-case name: the registers src/machine/arch's table marks as the core's. The wasm core
 * keeps the same keys in src/machine/cpu/sysreg-keys.ts; tests/machine/cpu-api.test.ts checks they agree.
 */
export const SYSREG_KEYS: Readonly<Record<string, number>> = CORE_SYSTEM_REGISTER_KEYS;

/** CNTFRQ_EL0 of every vCPU (as on QEMU's virt machine). */
export const COUNTER_FREQUENCY = 62_500_000;
/** Default deterministic timer ratio: retired instructions per counter tick. */
export const DEFAULT_INSTRUCTIONS_PER_TICK = 4;

export type VcpuExit =
  | { kind: "slice-end" }
  | { kind: "stage2-abort"; esr: number; far: bigint; ipa: number; instruction: number }
  | { kind: "hvc"; imm: number }
  | { kind: "smc"; imm: number }
  | { kind: "wfi" }
  | { kind: "wfe" }
  | { kind: "sysreg"; esr: number; instruction: number }
  | { kind: "vtimer" }
  | { kind: "maintenance"; listRegister: number }
  | { kind: "halted"; reason: string };

/**
 * What a native seL4 thread's vCPU (see Vcpu.el0Exits) can return: a VcpuExit, or a synchronous
 * exception from EL0 (SVC, abort, undefined instruction) with its ESR_EL1 syndrome and FAR.
 */
export type NativeExit = VcpuExit | { kind: "el0-sync"; esr: number; far: bigint; instruction: number };

/** The exits that are traps to EL2, each with its syndrome (see exitSyndrome). */
export type TrapExit = Extract<VcpuExit, { kind: "stage2-abort" | "sysreg" | "hvc" | "smc" | "wfi" | "wfe" }>;

/**
 * The ESR_EL2 syndrome of the trap an exit reports, as EL2 would read it: the core's own for stage-2
 * aborts and trapped system registers, and for HVC, SMC, WFI and WFE the one the exit implies (the
 * immediate, the WFE bit). Undefined for exits that are not traps (slice end, virtual timer, maintenance,
 * halt).
 */
export function exitSyndrome(exit: TrapExit): number;
export function exitSyndrome(exit: VcpuExit): number | undefined;
export function exitSyndrome(exit: VcpuExit): number | undefined {
  switch (exit.kind) {
    case "stage2-abort":
    case "sysreg":
      return exit.esr;
    case "hvc":
    case "smc":
      return callSyndrome(exit.kind, exit.imm);
    case "wfi":
    case "wfe":
      return wfxSyndrome(exit.kind === "wfe");
  }
  return undefined;
}

export interface Stage2Permissions {
  read: boolean;
  write: boolean;
  execute: boolean;
}

export interface CpuCoreOptions {
  /** Counter follows the host's wall clock instead of retired instructions. */
  realtime?: boolean;
  /** Retired instructions per counter tick in deterministic mode (default 4). */
  instructionsPerTick?: number;
  /** Report every Undefined Instruction exception (pc and encoding) through this hook. */
  onUndefined?: (pc: bigint, instruction: number) => void;
  /**
   * "interp" runs every instruction in the interpreter; "jit" also translates hot blocks to wasm
   * (docs/cpu.md, "JIT tier"), with identical results and instruction counts. Default: defaultCpuTier().
   */
  tier?: CpuTier;
  /** With tier "jit": executions of a block start before it is translated (default 16000). */
  jitThreshold?: number;
}

export type CpuTier = "interp" | "jit";
export const CPU_TIERS: readonly CpuTier[] = ["interp", "jit"];

/**
 * The tier of a core created without one: VIRTKIT_CPU when set (so a whole test suite or program runs
 * on either tier), else the JIT.
 */
export function defaultCpuTier(): CpuTier {
  const chosen = process.env.VIRTKIT_CPU;
  if (chosen === undefined || chosen === "") return "jit";
  if (!(CPU_TIERS as readonly string[]).includes(chosen)) {
    throw new RangeError(`VIRTKIT_CPU=${chosen} names no CPU tier: use ${CPU_TIERS.join(" or ")}`);
  }
  return chosen as CpuTier;
}
export type { JitStats };

export interface VcpuOptions {
  /** The VM this vCPU belongs to (0..7): vCPUs of one VM share its stage-2 mappings. */
  vmid?: number;
  /** MPIDR_EL1 affinity fields (bit 31 is set by the core). */
  mpidr?: bigint;
  /** GIC CPU interface the guest sees: 2 = GICV MMIO registers only, 3 = also ICC system registers. */
  gicVersion?: 2 | 3;
}

interface CoreExports extends JitCoreExports {
  init(ramBase: bigint, ramSize: bigint, ramOffset: bigint): number;
  createVcpu(vmid: number, mpidr: bigint, gicVersion: number): number;
  selectVcpu(id: number): void;
  run(max: number): number;
  getX(n: number): bigint;
  setX(n: number, v: bigint): void;
  getPc(): bigint;
  setPc(v: bigint): void;
  getSp(el: number): bigint;
  setSp(el: number, v: bigint): void;
  getPstate(): number;
  setPstate(v: number): void;
  instructionsRetired(): bigint;
  readSysreg(key: number): bigint;
  writeSysreg(key: number, v: bigint): number;
  lastSysregStatus(): number;
  mapStage2(ipa: bigint, pa: bigint, size: bigint, flags: number): void;
  getListRegister(i: number): number;
  setListRegister(i: number, v: number): void;
  setGicvBase(ipa: bigint): void;
  getGicvBase(): bigint;
  setVtimerMasked(masked: number): void;
  getVtimerMasked(): number;
  getCounter(): bigint;
  setCounter(ticks: bigint): void;
  setTimerRatio(n: number): void;
  getExitEsr(): number;
  getExitFar(): bigint;
  getExitIpa(): bigint;
  getExitInstruction(): number;
  getExitValue(): number;
  getUndefinedCount(): number;
  setLogUndefined(on: number): void;
  setEl0Exits(on: number): void;
  getVLo(n: number): bigint;
  getVHi(n: number): bigint;
  setV(n: number, lo: bigint, hi: bigint): void;
  readFpcr(): bigint;
  writeFpcr(v: bigint): void;
  readFpsr(): bigint;
  writeFpsr(v: bigint): void;
}

// Exit codes of src/machine/cpu/exits.ts.
const EXIT_KINDS = [
  "none",
  "slice-end",
  "stage2-abort",
  "hvc",
  "smc",
  "wfi",
  "wfe",
  "sysreg",
  "vtimer",
  "maintenance",
  "el0-sync",
  "halted",
] as const;

const STAGE2_READ = 1;
const STAGE2_WRITE = 2;
const STAGE2_EXECUTE = 4;
const STAGE2_DEVICE = 8;
const PAGE = 0x1000;
const IPA_LIMIT = 2 ** 32;
const MAX_VMS = 8;
const LIST_REGISTERS = 4;
const U64_MASK = (1n << 64n) - 1n;

/** wasm i64 results arrive as signed BigInts. */
function u64(v: bigint): bigint {
  return BigInt.asUintN(64, v);
}

function sysregKey(name: string): number {
  const key = SYSREG_KEYS[name.toUpperCase()];
  if (key === undefined) {
    throw new Error(
      `unknown system register "${name}"; use an ARM ARM name such as SCTLR_EL1, VBAR_EL1 or CNTV_CTL_EL0 ` +
        `(known: ${Object.keys(SYSREG_KEYS).join(", ")})`,
    );
  }
  return key;
}

export class CpuCore {
  readonly memory: PhysicalMemory;
  private readonly core: CoreExports;
  private readonly realtime: boolean;
  private readonly wallClockStart = performance.now();
  private readonly vcpus: Vcpu[] = [];
  private readonly jit: JitTier | undefined;

  constructor(memory: PhysicalMemory, core: CoreExports, options: CpuCoreOptions, jit?: JitTier) {
    this.memory = memory;
    this.core = core;
    this.jit = jit;
    this.realtime = options.realtime ?? false;
    const needed = core.init(BigInt(memory.ramBase), BigInt(memory.ramSize), BigInt(memory.ramOffset));
    if (needed > memory.ramOffset) {
      throw new Error(
        `the CPU core needs ${needed} bytes below RAM but PhysicalMemory reserves ${memory.ramOffset}; ` +
          `create it with reservedForCore >= ${needed}`,
      );
    }
    core.setTimerRatio(options.instructionsPerTick ?? DEFAULT_INSTRUCTIONS_PER_TICK);
    core.setLogUndefined(options.onUndefined ? 1 : 0);
    jit?.attach(core, options.jitThreshold ?? DEFAULT_JIT_THRESHOLD);
  }

  /** The execution tier this core was created with. */
  get tier(): CpuTier {
    return this.jit ? "jit" : "interp";
  }

  /** The JIT tier's counters (undefined with tier "interp"), for VIRTKIT_TRACE output. */
  get jitStatistics(): JitStats | undefined {
    return this.jit?.statistics;
  }

  /** Creates a vCPU in its reset state: EL1h, DAIF masked, MMU off, PC 0. */
  createVcpu(options: VcpuOptions = {}): Vcpu {
    const vmid = options.vmid ?? 0;
    if (!Number.isInteger(vmid) || vmid < 0 || vmid >= MAX_VMS) {
      throw new RangeError(
        `vCPU option vmid ${vmid} is out of range: the core supports VMIDs 0..${MAX_VMS - 1}`,
      );
    }
    const id = this.core.createVcpu(vmid, (options.mpidr ?? 0n) & 0xff_00ff_ffffn, options.gicVersion ?? 2);
    if (id < 0)
      throw new Error(`cannot create vCPU ${this.vcpus.length}: the core supports at most 64 vCPUs`);
    const vcpu = new Vcpu(
      this.core,
      id,
      vmid,
      () => this.syncWallClock(),
      () => this.jitStatistics,
    );
    this.vcpus.push(vcpu);
    return vcpu;
  }

  /** The machine-wide counter (CNTPCT_EL0) in ticks of COUNTER_FREQUENCY. */
  get counter(): bigint {
    return u64(this.core.getCounter());
  }

  /** Moves the counter (e.g. to skip idle time to the next timer deadline); it must not go backwards. */
  set counter(ticks: bigint) {
    if (ticks < this.counter) {
      throw new RangeError(`counter ${ticks} is behind the current count ${this.counter}`);
    }
    this.core.setCounter(ticks);
  }

  /** Undefined Instruction exceptions raised in any guest since the core was created. */
  get undefinedInstructions(): number {
    return this.core.getUndefinedCount();
  }

  private syncWallClock(): void {
    if (!this.realtime) return;
    const wall = BigInt(Math.floor(((performance.now() - this.wallClockStart) * COUNTER_FREQUENCY) / 1000));
    if (wall > this.counter) this.core.setCounter(wall);
  }
}

export class Vcpu {
  private readonly core: CoreExports;
  readonly id: number;
  readonly vmid: number;
  private readonly beforeRun: () => void;
  private readonly jit: () => JitStats | undefined;

  constructor(
    core: CoreExports,
    id: number,
    vmid: number,
    beforeRun: () => void,
    jit: () => JitStats | undefined,
  ) {
    this.core = core;
    this.id = id;
    this.vmid = vmid;
    this.beforeRun = beforeRun;
    this.jit = jit;
  }

  /** The JIT tier's counters of this vCPU's core (all its vCPUs), undefined with tier "interp". */
  get jitStatistics(): JitStats | undefined {
    return this.jit();
  }

  private select(): CoreExports {
    this.core.selectVcpu(this.id);
    return this.core;
  }

  getX(n: number): bigint {
    checkRegister(n, 30, "X");
    return u64(this.select().getX(n));
  }

  setX(n: number, v: bigint): void {
    checkRegister(n, 30, "X");
    this.select().setX(n, BigInt.asUintN(64, v));
  }

  get pc(): bigint {
    return u64(this.select().getPc());
  }

  set pc(v: bigint) {
    this.select().setPc(BigInt.asUintN(64, v));
  }

  getSp(el: 0 | 1): bigint {
    return u64(this.select().getSp(el));
  }

  setSp(el: 0 | 1, v: bigint): void {
    this.select().setSp(el, BigInt.asUintN(64, v));
  }

  /** NZCV 31:28, SS 21 (software step), DAIF 9:6, CurrentEL 3:2, SPSel 0: the SPSR layout. */
  get pstate(): number {
    return this.select().getPstate() >>> 0;
  }

  set pstate(v: number) {
    const el = (v >> 2) & 3;
    if (el > 1) throw new RangeError(`pstate ${hex(v)} selects EL${el}; guests run at EL0 or EL1`);
    this.select().setPstate(v >>> 0);
  }

  readSysreg(name: string): bigint {
    const core = this.select();
    const v = core.readSysreg(sysregKey(name));
    if (core.lastSysregStatus() !== 0) throw new Error(`system register ${name} cannot be read by the host`);
    return u64(v);
  }

  writeSysreg(name: string, v: bigint): void {
    const status = this.select().writeSysreg(sysregKey(name), BigInt.asUintN(64, v));
    if (status !== 0) throw new Error(`system register ${name} cannot be written by the host`);
  }

  getV(n: number): { lo: bigint; hi: bigint } {
    checkRegister(n, 31, "V");
    const core = this.select();
    return { lo: u64(core.getVLo(n)), hi: u64(core.getVHi(n)) };
  }

  setV(n: number, lo: bigint, hi: bigint): void {
    checkRegister(n, 31, "V");
    this.select().setV(n, lo & U64_MASK, hi & U64_MASK);
  }

  get fpcr(): number {
    return Number(this.select().readFpcr());
  }

  set fpcr(v: number) {
    this.select().writeFpcr(BigInt(v >>> 0));
  }

  get fpsr(): number {
    return Number(this.select().readFpsr());
  }

  set fpsr(v: number) {
    this.select().writeFpsr(BigInt(v >>> 0));
  }

  get instructionsRetired(): number {
    return Number(this.select().instructionsRetired());
  }

  /** Maps [ipa, ipa+size) to [pa, pa+size) at stage 2 for this vCPU's VM (4 KiB pages, IPAs below 4 GiB). */
  mapStage2(ipa: number, pa: number, size: number, perms: Stage2Permissions, device: boolean): void {
    checkStage2Range(ipa, size, "mapStage2");
    if (pa % PAGE !== 0 || pa < 0 || pa + size > IPA_LIMIT) {
      throw new RangeError(`mapStage2: physical address ${hex(pa)} must be 4 KiB aligned and below 4 GiB`);
    }
    let flags = (perms.read ? STAGE2_READ : 0) | (perms.write ? STAGE2_WRITE : 0);
    flags |= (perms.execute ? STAGE2_EXECUTE : 0) | (device ? STAGE2_DEVICE : 0);
    if (flags === 0 || flags === STAGE2_DEVICE) {
      throw new RangeError(`mapStage2 of ${hex(ipa)}: grant at least one of read, write or execute`);
    }
    this.select().mapStage2(BigInt(ipa), BigInt(pa), BigInt(size), flags);
  }

  unmapStage2(ipa: number, size: number): void {
    checkStage2Range(ipa, size, "unmapStage2");
    this.select().mapStage2(BigInt(ipa), 0n, BigInt(size), 0);
  }

  /** GICH_LR layout (GICv2): VirtualID 9:0, PhysicalID/EOI 19:10 (EOI 19), Priority 27:23, State 29:28, Grp1 30, HW 31. */
  setListRegister(i: number, lr: bigint): void {
    checkRegister(i, LIST_REGISTERS - 1, "list register ");
    this.select().setListRegister(i, Number(lr & 0xffff_ffffn));
  }

  getListRegister(i: number): bigint {
    checkRegister(i, LIST_REGISTERS - 1, "list register ");
    return BigInt(this.select().getListRegister(i) >>> 0);
  }

  /** IPA of the VM's GICV frame (8 KiB), emulated inside the core. */
  get gicvBase(): number {
    const v = u64(this.select().getGicvBase());
    return v === U64_MASK ? -1 : Number(v);
  }

  set gicvBase(ipa: number) {
    if (ipa % PAGE !== 0 || ipa < 0 || ipa >= IPA_LIMIT) {
      throw new RangeError(`gicvBase ${hex(ipa)} must be a 4 KiB aligned IPA below 4 GiB`);
    }
    this.select().setGicvBase(BigInt(ipa));
  }

  /** Host mask of the virtual timer (seL4's VPPI flow: set on a "vtimer" exit, cleared on its EOI). */
  get vtimerMasked(): boolean {
    return this.select().getVtimerMasked() !== 0;
  }

  set vtimerMasked(masked: boolean) {
    this.select().setVtimerMasked(masked ? 1 : 0);
  }

  /**
   * The count (CNTPCT_EL0 ticks) at which the virtual timer condition becomes true, or undefined when
   * the timer is disabled or masked by the guest: a host idling after a "wfi" exit can move
   * `core.counter` there.
   */
  get vtimerDeadline(): bigint | undefined {
    const ctl = this.readSysreg("CNTV_CTL_EL0");
    if ((ctl & 3n) !== 1n) return undefined;
    return BigInt.asUintN(64, this.readSysreg("CNTV_CVAL_EL0") + this.readSysreg("CNTVOFF_EL2"));
  }

  /**
   * Makes this vCPU a native seL4 thread at EL0: its synchronous exceptions from EL0 (SVC included)
   * end the slice as "el0-sync" exits, with the PC at the exception's preferred return.
   */
  set el0Exits(on: boolean) {
    this.select().setEl0Exits(on ? 1 : 0);
  }

  /** Runs up to maxInstructions; the PC afterwards is where EL2 would see it. */
  run(maxInstructions: number): VcpuExit {
    const exit = this.runNative(maxInstructions);
    if (exit.kind !== "el0-sync") return exit;
    return {
      kind: "halted",
      reason: `EL0 exception (ESR ${hex(exit.esr)}) on a vCPU run as a native thread`,
    };
  }

  /** Runs a native thread's vCPU (el0Exits set) up to maxInstructions. */
  runNative(maxInstructions: number): NativeExit {
    if (!Number.isInteger(maxInstructions) || maxInstructions <= 0 || maxInstructions > 0xffff_ffff) {
      throw new RangeError(`run: maxInstructions ${maxInstructions} must be an integer in 1..2^32-1`);
    }
    this.beforeRun();
    const core = this.select();
    const kind = EXIT_KINDS[core.run(maxInstructions >>> 0)];
    switch (kind) {
      case "stage2-abort":
        return {
          kind,
          esr: core.getExitEsr() >>> 0,
          far: u64(core.getExitFar()),
          ipa: Number(core.getExitIpa()),
          instruction: core.getExitInstruction() >>> 0,
        };
      case "hvc":
      case "smc":
        return { kind, imm: core.getExitValue() };
      case "sysreg":
        return { kind, esr: core.getExitEsr() >>> 0, instruction: core.getExitInstruction() >>> 0 };
      case "maintenance":
        return { kind, listRegister: core.getExitValue() };
      case "el0-sync":
        return {
          kind,
          esr: core.getExitEsr() >>> 0,
          far: u64(core.getExitFar()),
          instruction: core.getExitInstruction() >>> 0,
        };
      case "slice-end":
      case "wfi":
      case "wfe":
      case "vtimer":
        return { kind };
      default:
        return { kind: "halted", reason: `the core returned exit code ${String(kind)}` };
    }
  }
}

function checkRegister(n: number, max: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw new RangeError(`${what}${n} does not exist (0..${max})`);
}

function checkStage2Range(ipa: number, size: number, op: string): void {
  if (ipa % PAGE !== 0 || size % PAGE !== 0 || size <= 0 || ipa < 0 || ipa + size > IPA_LIMIT) {
    throw new RangeError(
      `${op}: IPA range ${hex(ipa)}+${hex(size)} must be 4 KiB aligned, non-empty and below 4 GiB`,
    );
  }
}

/** Loads build/cpu.wasm, or build/cpu-jit.wasm for tier "jit" (built by `npm run build`), over the machine's memory. */
export async function createCpuCore(memory: PhysicalMemory, options: CpuCoreOptions = {}): Promise<CpuCore> {
  const tier = options.tier ?? defaultCpuTier();
  if (!CPU_TIERS.includes(tier)) throw new RangeError(`CPU tier "${tier}" does not exist: use interp or jit`);
  const wasmPath = WASM_PATHS[tier];
  if (!existsSync(wasmPath)) {
    throw new Error(`${wasmPath} does not exist: run \`npm run build\` to compile the CPU core`);
  }
  const onUndefined = options.onUndefined;
  const jit = tier === "jit" ? new JitTier(memory.memory) : undefined;
  const imports = {
    env: { memory: memory.memory },
    exceptions: {
      reportUndefined: (pc: bigint, instruction: number) => onUndefined?.(pc, instruction >>> 0),
    },
    // The JIT build's run loop calls these; the interpreter's build does not import them.
    "run-loop": jit?.coreImports ?? {},
  };
  const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), imports);
  return new CpuCore(memory, instance.exports as unknown as CoreExports, options, jit);
}
