// Runs one bare-metal test guest on a virtkit vCPU: loads its flat image at the RAM base, maps RAM at
// stage 2 one to one, enters at EL1h and serves the conventions of tests/guests/lib/runtime.h (exit
// and checkpoint HVCs, console stores). Exits a test's host side must answer go to its `onExit`.
import { readFileSync } from "node:fs";
import {
  createCpuCore,
  type CpuCore,
  type CpuCoreOptions,
  type Vcpu,
  type VcpuExit,
} from "../../src/machine/cpu.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";
import { buildGuest } from "./build.ts";
import { decodeAbort } from "./syndrome.ts";

export const GUEST_RAM_BASE = 0x4000_0000;
export const GUEST_RAM_SIZE = 32 * 1024 * 1024;
export const CONSOLE_IPA = 0x0900_0000;
const PSTATE_EL1H_MASKED = 0x3c5;
const SLICE = 100_000;

export interface GuestContext {
  core: CpuCore;
  vcpu: Vcpu;
  memory: PhysicalMemory;
}

export interface GuestHost {
  /** The GIC CPU interface the vCPU offers (default 2: GICV registers only; 3 adds the ICC registers). */
  gicVersion?: 2 | 3;
  /** Options of the core (the execution tier, ...). */
  core?: CpuCoreOptions;
  /** Called before the first instruction (extra stage-2 mappings, GIC setup, RAM contents). */
  setup?(ctx: GuestContext): void;
  /** Answers an exit the runner does not handle itself; returns false when the exit is unexpected. */
  onExit?(exit: VcpuExit, ctx: GuestContext): boolean;
}

export interface GuestResult {
  /** 0 when every check passed, else the failing check's code (see the guest's source). */
  code: number;
  got: bigint;
  want: bigint;
  console: string;
  checkpoints: [id: number, value: bigint][];
  instructions: number;
  /** Wall-clock seconds spent inside the run loop (not loading or compiling the core). */
  runSeconds: number;
}

/** Human-readable outcome for assertion messages. */
export function describeResult(name: string, r: GuestResult): string {
  const failure =
    r.code === 0
      ? "passed"
      : `failed check 0x${r.code.toString(16)}: got 0x${r.got.toString(16)}, want 0x${r.want.toString(16)}`;
  return `guest ${name} ${failure} after ${r.instructions} instructions; console:\n${r.console}`;
}

function describeExit(exit: VcpuExit, vcpu: Vcpu): string {
  const fields = Object.entries(exit)
    .filter(([k]) => k !== "kind")
    .map(([k, v]) => `${k} 0x${(v as number | bigint).toString(16)}`);
  return `unexpected "${exit.kind}" exit (${fields.join(", ")}) at pc 0x${vcpu.pc.toString(16)}`;
}

export async function runGuest(
  name: string,
  host: GuestHost = {},
  maxInstructions = 20_000_000,
): Promise<GuestResult> {
  return runGuestImage(name, readFileSync(buildGuest(name).bin), host, maxInstructions);
}

export async function runGuestImage(
  name: string,
  image: Uint8Array,
  host: GuestHost = {},
  maxInstructions = 20_000_000,
): Promise<GuestResult> {
  const memory = new PhysicalMemory({ ramBase: GUEST_RAM_BASE, ramSize: GUEST_RAM_SIZE });
  memory.view(GUEST_RAM_BASE, image.length).set(image);
  const core = await createCpuCore(memory, host.core);
  const vcpu = core.createVcpu({ gicVersion: host.gicVersion ?? 2 });
  vcpu.mapStage2(
    GUEST_RAM_BASE,
    GUEST_RAM_BASE,
    GUEST_RAM_SIZE,
    { read: true, write: true, execute: true },
    false,
  );
  vcpu.pstate = PSTATE_EL1H_MASKED;
  vcpu.pc = BigInt(GUEST_RAM_BASE);
  const ctx: GuestContext = { core, vcpu, memory };
  host.setup?.(ctx);
  let output = "";
  const checkpoints: [number, bigint][] = [];
  const start = vcpu.instructionsRetired;
  const startTime = performance.now();
  while (vcpu.instructionsRetired - start < maxInstructions) {
    const exit = vcpu.run(SLICE);
    if (exit.kind === "slice-end") continue;
    if (exit.kind === "hvc" && exit.imm === 0) {
      return {
        code: Number(vcpu.getX(0)),
        got: vcpu.getX(1),
        want: vcpu.getX(2),
        console: output,
        checkpoints,
        instructions: vcpu.instructionsRetired - start,
        runSeconds: (performance.now() - startTime) / 1000,
      };
    }
    if (exit.kind === "hvc" && exit.imm === 1) {
      checkpoints.push([Number(vcpu.getX(0)), vcpu.getX(1)]);
      continue;
    }
    if (exit.kind === "stage2-abort" && exit.ipa >= CONSOLE_IPA && exit.ipa < CONSOLE_IPA + 0x1000) {
      const s = decodeAbort(exit.esr);
      if (s.isv && s.wnr) {
        output += String.fromCharCode(s.srt === 31 ? 0 : Number(vcpu.getX(s.srt) & 0xffn));
        vcpu.pc += 4n;
        continue;
      }
    }
    if (host.onExit?.(exit, ctx)) continue;
    throw new Error(`guest ${name}: ${describeExit(exit, vcpu)}; console so far:\n${output}`);
  }
  throw new Error(
    `guest ${name} still running after ${maxInstructions} instructions (pc 0x${vcpu.pc.toString(16)}); console:\n${output}`,
  );
}
