// Dispatches SMCCC calls a guest makes with HVC or SMC: the Arm architecture service, PSCI in the
// standard service, and a hook for the platform's SiP calls. Every other call answers NOT_SUPPORTED,
// which SMCCC defines as the reply to an unknown function ID (Linux probes with such calls) — except a
// SiP call with no SiP handler registered: only the VMM knows what its platform's firmware would answer
// (a SoC driver takes NOT_SUPPORTED for an older chip), so, as libvmm does, it is reported in libvmm's
// words and the vCPU stops until the VMM answers such calls (seed 004's MaaXBoard 0xc2000006).
import type { VmmLog } from "./log.ts";
import { handlePsciCall, PSCI_LAST_FUNCTION, type CallOutcome, type PsciPlatform } from "./psci.ts";
import {
  SMCCC_ARCH_FEATURES,
  SMCCC_NOT_SUPPORTED,
  SMCCC_VERSION,
  SMCCC_VERSION_1_1,
  SmcccService,
  decodeFunctionId,
  returnValue,
  serviceName,
  type FunctionId,
} from "./smccc.ts";
import { type VcpuRegisters } from "./vcpu.ts";
import { hex } from "../util/hex.ts";

export interface SipCall {
  vcpuId: number;
  regs: VcpuRegisters;
  functionId: FunctionId;
}

/**
 * A platform's SiP (silicon provider) service, e.g. the i.MX8M firmware's 0xC2000006 on the MaaXBoard.
 * Returns true when it handled the call and wrote the results to x0..x3; false answers NOT_SUPPORTED.
 */
export type SipHandler = (call: SipCall) => boolean;

/**
 * What the VMM does after a call: PSCI's outcomes, or "unhandled" for a SiP call with no SiP handler
 * (reported; the VMM leaves the vCPU stopped at the call).
 */
export type SmcccOutcome = CallOutcome | "unhandled";

export interface SmcccCall {
  vcpuId: number;
  regs: VcpuRegisters;
  conduit: "hvc" | "smc";
}

export class SmcccDispatcher {
  private sipHandler: SipHandler | undefined;
  private readonly reported = new Set<number>();

  constructor(
    private readonly platform: PsciPlatform,
    private readonly log: VmmLog,
  ) {}

  /** Installs the SiP handler; a VMM has at most one. */
  registerSipHandler(handler: SipHandler): void {
    if (this.sipHandler) throw new Error("a SiP handler is already registered; a VMM has one SiP handler");
    this.sipHandler = handler;
  }

  /**
   * Handles the call in x0 and writes its results. The PC is the caller's business: it must point past the
   * HVC/SMC when the vCPU resumes.
   */
  handle(call: SmcccCall): SmcccOutcome {
    const { regs, vcpuId } = call;
    const id = decodeFunctionId(regs.getX(0));
    const reservedBits = (id.raw >>> 16) & 0xff;
    if (id.fastCall && reservedBits === 0) {
      if (id.service === SmcccService.ARCH) return this.handleArch(id, regs);
      if (id.service === SmcccService.STANDARD && id.functionNumber <= PSCI_LAST_FUNCTION) {
        return handlePsciCall(this.platform, vcpuId, regs, id);
      }
      if (id.service === SmcccService.SIP) {
        if (!this.sipHandler) {
          // libvmm's own words (smc.c), which seed 004 quotes.
          this.log.error(
            `Unhandled ${call.conduit.toUpperCase()}: unknown value service: ${hex(id.service)}, function number: ${hex(id.functionNumber)}`,
          );
          return "unhandled";
        }
        if (this.sipHandler({ vcpuId, regs, functionId: id })) return "resume";
      }
    }
    this.reportUnsupported(call.conduit, id);
    regs.setX(0, returnValue(SMCCC_NOT_SUPPORTED));
    return "resume";
  }

  private handleArch(id: FunctionId, regs: VcpuRegisters): CallOutcome {
    if (id.raw === SMCCC_VERSION) {
      regs.setX(0, BigInt(SMCCC_VERSION_1_1));
    } else if (id.raw === SMCCC_ARCH_FEATURES) {
      // The only architecture calls we implement; the CPU workarounds (0x8000_8000 onwards) are not needed.
      const queried = Number(regs.getX(1) & 0xffff_ffffn);
      const implemented = queried === SMCCC_VERSION || queried === SMCCC_ARCH_FEATURES;
      regs.setX(0, returnValue(implemented ? 0 : SMCCC_NOT_SUPPORTED));
    } else {
      regs.setX(0, returnValue(SMCCC_NOT_SUPPORTED));
    }
    return "resume";
  }

  /** Logs each unsupported function ID once, so a guest probing in a loop does not flood the console. */
  private reportUnsupported(conduit: string, id: FunctionId): void {
    if (this.reported.has(id.raw)) return;
    this.reported.add(id.raw);
    this.log.info(
      `${conduit.toUpperCase()} ${hex(id.raw)} (${serviceName(id.service)} service, function ${hex(id.functionNumber)}) ` +
        `is not implemented: answered NOT_SUPPORTED` +
        (id.service === SmcccService.SIP ? " (the SiP handler declined it)" : ""),
    );
  }
}
