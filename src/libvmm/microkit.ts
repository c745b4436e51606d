// libvmm over a VMM PD's libmicrokit API (src/microkit): vCPU control, interrupts, the fault message.
import { VcpuReg, type MessageInfo, type Pd } from "../microkit/index.ts";
import type { Stage1Register, Stage1RegisterReader } from "./stage1.ts";
import type { ResetSystemRegister, VcpuControl, VcpuRegisters } from "./vcpu.ts";
import { decodeFault, type VcpuFault, type VmmInterruptControl } from "./vmm.ts";

/** The calls libvmm makes; of a vCPU's register view it needs only the general registers, PC and PSTATE. */
export type MicrokitVmmApi = Pick<
  Pd,
  | "vcpuRestart"
  | "vcpuStop"
  | "vcpuArmInjectIrq"
  | "vcpuArmAckVppi"
  | "vcpuArmReadReg"
  | "vcpuArmWriteReg"
  | "irqAck"
  | "mrGet"
> & { vcpuRegisters(vcpu: number): VcpuRegisters | undefined };

const RESET_REGISTERS: Record<ResetSystemRegister, number> = {
  SCTLR_EL1: VcpuReg.SCTLR,
  CNTV_CTL_EL0: VcpuReg.CNTV_CTL,
};

/** vCPU control through libmicrokit; a vCPU's registers are its TCB's (seL4_TCB_Read/WriteRegisters). */
export function microkitVcpuControl(pd: MicrokitVmmApi): VcpuControl {
  return {
    registers: (vcpuId) => {
      const regs = pd.vcpuRegisters(vcpuId);
      if (!regs)
        throw new Error(`libvmm: the VMM has no vCPU ${vcpuId}; check the vcpu ids of its virtual_machine`);
      return regs;
    },
    restart: (vcpuId, pc) => pd.vcpuRestart(vcpuId, pc),
    stop: (vcpuId) => pd.vcpuStop(vcpuId),
    writeSystemRegister: (vcpuId, name, value) => pd.vcpuArmWriteReg(vcpuId, RESET_REGISTERS[name], value),
  };
}

export function microkitInterrupts(pd: MicrokitVmmApi): VmmInterruptControl {
  return {
    injectIrq: (vcpuId, intid, priority, group, lrIndex) =>
      pd.vcpuArmInjectIrq(vcpuId, intid, priority, group, lrIndex),
    ackVppi: (vcpuId, intid) => pd.vcpuArmAckVppi(vcpuId, intid),
    irqAck: (channel) => pd.irqAck(channel),
  };
}

/** The fault a `fault(pd, child, msginfo)` entry point received. */
export function microkitFault(pd: MicrokitVmmApi, msginfo: MessageInfo): VcpuFault | undefined {
  return decodeFault(msginfo.label, (i) => pd.mrGet(i));
}

const STAGE1_REGISTERS: Record<Stage1Register, number> = {
  SCTLR_EL1: VcpuReg.SCTLR,
  TCR_EL1: VcpuReg.TCR,
  TTBR0_EL1: VcpuReg.TTBR0,
  TTBR1_EL1: VcpuReg.TTBR1,
};

/** A vCPU's stage-1 control registers, for `guestInstructionReader`. */
export function microkitStage1Registers(pd: MicrokitVmmApi): Stage1RegisterReader {
  return (vcpuId, name) => pd.vcpuArmReadReg(vcpuId, STAGE1_REGISTERS[name]);
}
