import { describe, expect, it } from "vitest";
import { FaultLabel } from "../../src/kernel/faults.ts";
import { messageInfo } from "../../src/microkit/index.ts";
import {
  microkitFault,
  microkitInterrupts,
  microkitStage1Registers,
  microkitVcpuControl,
  type MicrokitVmmApi,
} from "../../src/libvmm/microkit.ts";
import { FakeRegisters } from "./fake-vcpu.ts";

function recordingPd(mrs: bigint[] = []) {
  const calls: string[] = [];
  const regs = new FakeRegisters();
  const pd: MicrokitVmmApi = {
    vcpuRegisters: (v) => (v === 0 ? regs : undefined),
    vcpuRestart: (v, pc) => void calls.push(`vcpuRestart ${v} ${pc}`),
    vcpuStop: (v) => void calls.push(`vcpuStop ${v}`),
    vcpuArmInjectIrq: (v, irq, prio, group, index) =>
      void calls.push(`inject ${v} ${irq} ${prio} ${group} ${index}`),
    vcpuArmAckVppi: (v, irq) => void calls.push(`ackVppi ${v} ${irq}`),
    vcpuArmWriteReg: (v, reg, value) => void calls.push(`writeReg ${v} ${reg} ${value}`),
    vcpuArmReadReg: (v, reg) => BigInt(v * 100 + reg),
    irqAck: (ch) => void calls.push(`irqAck ${ch}`),
    mrGet: (i) => mrs[i] ?? 0n,
  };
  return { pd, calls, regs };
}

describe("the Microkit adapter", () => {
  it("maps libvmm's vCPU and interrupt calls onto libmicrokit's", () => {
    const { pd, calls, regs } = recordingPd();
    const control = microkitVcpuControl(pd);
    control.restart(0, 0x4008_0000n);
    control.stop(1);
    control.writeSystemRegister(0, "SCTLR_EL1", 0x30d0_0800n);
    control.writeSystemRegister(1, "CNTV_CTL_EL0", 0n);
    expect(control.registers(0)).toBe(regs);
    expect(() => control.registers(3)).toThrow(
      "libvmm: the VMM has no vCPU 3; check the vcpu ids of its virtual_machine",
    );
    const interrupts = microkitInterrupts(pd);
    interrupts.injectIrq(0, 33, 20, 1, 3);
    interrupts.ackVppi(0, 27);
    interrupts.irqAck(1);
    expect(calls).toEqual([
      `vcpuRestart 0 ${0x4008_0000n}`,
      "vcpuStop 1",
      `writeReg 0 0 ${0x30d0_0800n}`, // seL4_VCPUReg_SCTLR
      "writeReg 1 20 0", // seL4_VCPUReg_CNTV_CTL
      "inject 0 33 20 1 3",
      "ackVppi 0 27",
      "irqAck 1",
    ]);
  });

  it("reads the stage-1 registers by their seL4_VCPUReg numbers", () => {
    const read = microkitStage1Registers(recordingPd().pd);
    expect(["SCTLR_EL1", "TTBR0_EL1", "TTBR1_EL1", "TCR_EL1"].map((n) => read(1, n as never))).toEqual([
      100n,
      101n,
      102n,
      103n,
    ]);
  });

  it("decodes the fault from the message registers", () => {
    const { pd } = recordingPd([0x4008_0000n, 0x900_0000n, 0n, 0x9381_0046n]);
    expect(microkitFault(pd, messageInfo(FaultLabel.VMFault, 4))).toEqual({
      kind: "VMFault",
      ip: 0x4008_0000n,
      addr: 0x900_0000n,
      prefetch: false,
      fsr: 0x9381_0046,
    });
  });
});
