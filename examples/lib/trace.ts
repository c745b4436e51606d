// VIRTKIT_TRACE=<seconds>: while the guest runs, the VMM prints what its vCPU is doing every <seconds>
// of host time — PC and exception level, guest instructions and MIPS, the virtual timer, the list
// registers and the vGIC's view — so a boot that hangs shows where and why (a PC that stays put, a timer
// that fired but stays masked, an interrupt listed and never EOI'd).
import type { VcpuInspection } from "../../src/kernel/index.ts";
import type { Vgic } from "../../src/libvmm/index.ts";
import type { Pd } from "../../src/microkit/index.ts";
import { hex } from "../../src/util/hex.ts";

/** The trace interval in seconds from VIRTKIT_TRACE, or undefined when tracing is off. */
export function traceInterval(): number | undefined {
  const value = process.env.VIRTKIT_TRACE;
  if (value === undefined || value === "" || value === "0") return undefined;
  const seconds = Number(value);
  if (!(seconds > 0))
    throw new Error(`VIRTKIT_TRACE=${value}: give the interval in seconds between trace lines, e.g. 5`);
  return seconds;
}

function timerState(vcpu: VcpuInspection): string {
  const ctl = vcpu.readSysreg("CNTV_CTL_EL0");
  if ((ctl & 1n) === 0n) return "off";
  const fired = (ctl & 4n) !== 0n ? "fired" : "armed";
  const masked =
    (ctl & 2n) !== 0n ? ", masked by the guest" : vcpu.vtimerMasked ? ", masked by the kernel" : "";
  const ticks = vcpu.readSysreg("CNTV_CVAL_EL0") - vcpu.readSysreg("CNTVCT_EL0");
  return `${fired} (${ticks} ticks to go${masked})`;
}

function listRegisters(vcpu: VcpuInspection): string {
  const lrs = [0, 1, 2, 3].map((i) => vcpu.getListRegister(i));
  const state = ["", "pending", "active", "pending+active"];
  const used = lrs.flatMap((lr, i) => {
    const s = Number((lr >> 28n) & 3n);
    return s === 0 ? [] : [`LR${i} INTID ${lr & 0x3ffn} ${state[s]}`];
  });
  return used.length > 0 ? used.join(", ") : "none";
}

/** The JIT tier's counters (--cpu jit), core-wide. */
function jitCounters(vcpu: VcpuInspection): string {
  const jit = vcpu.jit;
  if (!jit) return "";
  const share = vcpu.instructionsRetired ? (100 * jit.instructionsInBlocks) / vcpu.instructionsRetired : 0;
  return (
    `; JIT: ${jit.blocksTranslated} blocks (${jit.instructionsTranslated} instructions) in ${jit.modules} modules translated in ` +
    `${jit.compileMs.toFixed(0)} ms, ${jit.instructionsInBlocks} instructions run translated (${share.toFixed(1)}%), ` +
    `${jit.evictions} evictions, ${jit.invalidations} invalidations, ${jit.untranslatable} untranslatable starts` +
    (jit.translationErrors ? `, ${jit.translationErrors} translation errors (first: ${jit.firstError})` : "")
  );
}

/** Prints a trace line for vCPU `vcpuId` every `seconds`; the timer does not keep the process alive. */
export function startTrace(pd: Pd, vgic: Vgic, vcpuId: number, seconds: number): void {
  // Beyond the registers seL4 shows a VMM: retired instructions, list registers, the kernel's timer mask.
  const vcpu = pd.vcpuInspection(vcpuId);
  if (!vcpu) return;
  let last = { at: performance.now(), instructions: vcpu.instructionsRetired };
  const timer = setInterval(() => {
    const now = { at: performance.now(), instructions: vcpu.instructionsRetired };
    const mips = (now.instructions - last.instructions) / (now.at - last.at) / 1000;
    last = now;
    const el = (vcpu.pstate >> 2) & 3;
    const lrs = vgic.listRegisters[vcpuId]!;
    const listed = lrs.listed.flatMap((irq) => (irq ? [irq.intid] : []));
    const queued = lrs.queued.map((irq) => irq.intid);
    process.stderr.write(
      `${pd.name}|TRACE: vCPU ${vcpuId} pc ${hex(vcpu.pc)} EL${el}, ${now.instructions} instructions ` +
        `(${mips.toFixed(1)} MIPS); timer ${timerState(vcpu)}; list registers: ${listRegisters(vcpu)}; ` +
        `vGIC listed [${listed.join(", ")}] queued [${queued.join(", ")}]${jitCounters(vcpu)}\n`,
    );
  }, seconds * 1000);
  timer.unref();
}
