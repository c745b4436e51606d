import { describe, expect, it } from "vitest";
import { FaultLabel } from "../../src/kernel/faults.ts";
import { guestDtb } from "../../src/guest/dtb/guest-dtb.ts";
import { guestLayout } from "../../src/guest/layout.ts";
import { boardNamed } from "../../src/machine/boards/index.ts";
import { deviceTreeRegions } from "../../src/libvmm/fault/device-tree-regions.ts";
import { GuestRam } from "../../src/libvmm/guest-ram.ts";
import { Vmm, decodeFault, type GicPlacement } from "../../src/libvmm/vmm.ts";
import { FakeVcpuControl, dataAbortEsr, recordingLog } from "./fake-vcpu.ts";

const SIMPLE_LAYOUT = guestLayout(boardNamed());

const HSR_WFI = ((0x01 << 26) | (1 << 25)) >>> 0;
const HSR_WFE = (HSR_WFI | 1) >>> 0;
const HSR_HVC = ((0x16 << 26) | (1 << 25)) >>> 0;
const HSR_SMC = ((0x17 << 26) | (1 << 25)) >>> 0;

function setup(vcpuCount = 1, gic: GicPlacement = { version: 2, distributor: 0x800_0000 }) {
  const control = new FakeVcpuControl(vcpuCount);
  const log = recordingLog();
  const events: string[] = [];
  const vmm = new Vmm({
    vmName: "linux",
    vcpuCount,
    log,
    control,
    gic,
    interrupts: {
      injectIrq: (v, intid, prio, group, lr) =>
        events.push(`inject ${v} ${intid} prio ${prio} group ${group} lr ${lr}`),
      ackVppi: (v, intid) => events.push(`ackVppi ${v} ${intid}`),
      irqAck: (ch) => events.push(`irqAck ${ch}`),
    },
    readInstruction: () => 0xb9000001, // str w1, [x0]
    onSystemOff: () => events.push("system off"),
  });
  vmm.guest.start(0, { pc: 0x4008_0000n, x0: 0x4f00_0000n });
  control.calls.length = 0;
  const regs = control.regs[0]!;
  const mmio = (ipa: number, esr: number) =>
    vmm.handleFault(0, { kind: "VMFault", ip: regs.pc, addr: BigInt(ipa), prefetch: false, fsr: esr });
  return { vmm, control, log, events, regs, mmio };
}

describe("Vmm", () => {
  it("emulates distributor accesses and resumes the vCPU past them", () => {
    const { regs, mmio } = setup();
    regs.setX(1, 1n);
    expect(mmio(0x800_0000, dataAbortEsr({ size: 4, srt: 1, write: true }))).toBe(true);
    expect(regs.pc).toBe(0x4008_0004n);
    expect(mmio(0x800_0004, dataAbortEsr({ size: 4, srt: 2, sf: false, write: false }))).toBe(true);
    expect(regs.getX(2)).toBe(0x7n); // TYPER: 256 lines, one CPU
  });

  it("reports an unexpected fault and leaves the vCPU blocked", () => {
    const { vmm, regs, log, mmio } = setup();
    vmm.deviceTree = deviceTreeRegions(guestDtb(SIMPLE_LAYOUT.deviceTree(0)));
    regs.setX(1, 0x41n);
    expect(mmio(0x900_0000, dataAbortEsr({ size: 4, srt: 1, sf: false, write: true }))).toBe(false);
    expect(regs.pc).toBe(0x4008_0000n);
    expect(log.lines.slice(0, 3)).toEqual([
      "vmm|ERROR: linux: unexpected memory fault on vCPU 0",
      "vmm|ERROR:   address: 0x9000000 (guest-physical), write of 4 bytes (word) from w1 = 0x41",
      "vmm|ERROR:   pc: 0x40080000  str w1, [x0]",
    ]);
    expect(log.lines).toContain(
      'vmm|ERROR:     2. disable the device in the device tree: add status = "disabled" to /pl011@9000000',
    );
  });

  it("reports an instruction fetch from unmapped memory", () => {
    const { vmm, log } = setup();
    const esr = ((0x20 << 26) | (1 << 25) | 0x07) >>> 0;
    expect(
      vmm.handleFault(0, { kind: "VMFault", ip: 0x7000_0000n, addr: 0x7000_0000n, prefetch: true, fsr: esr }),
    ).toBe(false);
    expect(log.lines[0]).toBe("vmm|ERROR: linux: unexpected instruction fetch fault on vCPU 0");
  });

  it("keeps a guest that writes garbage to the distributor running, and stops it on a bad size", () => {
    const { regs, mmio, log } = setup();
    for (let offset = 0; offset < 0x1000; offset += 4) {
      regs.setX(3, 0xdead_beefn * BigInt(offset + 1));
      expect(mmio(0x800_0000 + offset, dataAbortEsr({ size: 4, srt: 3, write: true }))).toBe(true);
    }
    expect(log.lines).toEqual([]);
    expect(mmio(0x800_0001, dataAbortEsr({ size: 2, srt: 3, write: true }))).toBe(false);
    expect(log.lines).toContain(
      "vmm|ERROR:   cause: the emulated device 'vGIC distributor' refused the access: GICD: a 2-byte write of GICD_CTLR at offset 0x1 " +
        "is not allowed; the GIC takes aligned 4-byte accesses to this register",
    );
  });

  it("sleeps a vCPU in WFI until a virtual interrupt arrives, and not in WFE", () => {
    const { vmm, control, regs, events } = setup();
    vmm.registerPassthroughIrq(0, 33, 1);
    vmm.vgic.setControl(1);
    vmm.vgic.setEnabled(0, 33, true);
    expect(events).toEqual(["irqAck 1"]);
    expect(vmm.handleFault(0, { kind: "VCPUFault", hsr: HSR_WFE })).toBe(true);
    expect(vmm.handleFault(0, { kind: "VCPUFault", hsr: HSR_WFI })).toBe(false);
    expect(regs.pc).toBe(0x4008_0008n);
    expect(control.calls).toEqual([]);
    expect(vmm.handleNotification(1)).toBe(true);
    expect(events.at(-1)).toBe("inject 0 33 prio 0 group 0 lr 0");
    expect(control.calls).toEqual(["restart 0 0x40080008"]);
    // With an interrupt still listed, WFI returns at once.
    expect(vmm.handleFault(0, { kind: "VCPUFault", hsr: HSR_WFI })).toBe(true);
    vmm.handleFault(0, { kind: "VGICMaintenance", index: 0 });
    expect(vmm.handleFault(0, { kind: "VCPUFault", hsr: HSR_WFI })).toBe(false);
    // The kernel raises the virtual timer's VPPI event for a vCPU waiting in WFI: it wakes it.
    vmm.vgic.setEnabled(0, 27, true);
    expect(vmm.handleFault(0, { kind: "VPPIEvent", irq: 27 })).toBe(true);
    expect(control.calls.at(-1)).toBe("restart 0 0x40080010");
    expect(vmm.handleNotification(5)).toBe(false);
  });

  it("answers PSCI over SMC (stepping over the SMC) and HVC (PC already past it)", () => {
    const { vmm, regs } = setup();
    regs.setX(0, 0x8400_0000n);
    expect(vmm.handleFault(0, { kind: "VCPUFault", hsr: HSR_SMC })).toBe(true);
    expect(regs.getX(0)).toBe(0x1_0001n);
    expect(regs.pc).toBe(0x4008_0004n);
    regs.setX(0, 0x8400_0000n);
    expect(vmm.handleFault(0, { kind: "VCPUFault", hsr: HSR_HVC })).toBe(true);
    expect(regs.pc).toBe(0x4008_0004n);
  });

  it("stops the VM on SYSTEM_OFF", () => {
    const { vmm, regs, events, control } = setup();
    regs.setX(0, 0x8400_0008n);
    expect(vmm.handleFault(0, { kind: "VCPUFault", hsr: HSR_SMC })).toBe(false);
    expect(control.calls).toEqual(["stop 0"]);
    expect(events).toEqual(["system off"]);
    expect(regs.pc).toBe(0x4008_0000n);
  });

  it("injects the virtual timer on a VPPI event and acks it on EOI", () => {
    const { vmm, events } = setup();
    vmm.vgic.setControl(1);
    vmm.vgic.setEnabled(0, 27, true);
    events.length = 0;
    expect(vmm.handleFault(0, { kind: "VPPIEvent", irq: 27 })).toBe(true);
    expect(vmm.handleFault(0, { kind: "VGICMaintenance", index: 0 })).toBe(true);
    expect(events).toEqual(["inject 0 27 prio 0 group 0 lr 0", "ackVppi 0 27"]);
  });

  it("handles GICv3 SGIs through ICC_SGI1R_EL1 and reports other system registers", () => {
    const { vmm, regs, log, events } = setup(2, {
      version: 3,
      distributor: 0x3880_0000,
      redistributors: 0x3888_0000,
    });
    expect(vmm.mmio.find(0x3888_0000 + 0x3_ffff)?.name).toBe("vGIC redistributors");
    vmm.vgic.setControl(3);
    vmm.vgic.setEnabled(1, 1, true);
    regs.setX(2, (1n << 24n) | 0b10n);
    const sgi1r =
      ((0x18 << 26) | (1 << 25) | (3 << 20) | (5 << 17) | (0 << 14) | (12 << 10) | (2 << 5) | (11 << 1)) >>>
      0;
    expect(vmm.handleFault(0, { kind: "VCPUFault", hsr: sgi1r })).toBe(true);
    expect(events).toEqual(["inject 1 1 prio 0 group 0 lr 0"]);
    const mdscr =
      ((0x18 << 26) | (1 << 25) | (2 << 20) | (2 << 17) | (0 << 10) | (2 << 5) | (2 << 1) | 1) >>> 0;
    expect(vmm.handleFault(0, { kind: "VCPUFault", hsr: mdscr })).toBe(false);
    expect(log.lines.at(-1)).toBe(
      "vmm|ERROR: linux: vCPU 0 stopped: read of system register MDSCR_EL1, which the VMM does not emulate, at pc " +
        "0x40080004 (str w1, [x0]); the rest of the system keeps running",
    );
  });

  it("tolerates libvmm's no-op syscalls and reports the rest", () => {
    const { vmm, regs, log } = setup();
    expect(vmm.handleFault(0, { kind: "UnknownSyscall", syscall: 67n })).toBe(true);
    expect(regs.pc).toBe(0x4008_0004n);
    expect(vmm.handleFault(0, { kind: "UnknownSyscall", syscall: 12n })).toBe(false);
    expect(log.lines.at(-1)).toContain("linux: vCPU 0 stopped: unknown syscall 12, at pc 0x40080004");
    expect(vmm.handleFault(0, { kind: "VCPUFault", hsr: 0 })).toBe(false);
    expect(log.lines.at(-1)).toContain("vCPU fault with HSR 0x0 (EC 0x0) that the VMM does not handle");
  });
});

describe("decodeFault", () => {
  it("reads the runtime's fault messages", () => {
    const mrs = [0x4008_0000n, 0x900_0000n, 0n, 0x9381_0046n];
    expect(decodeFault(FaultLabel.VMFault, (i) => mrs[i]!)).toEqual({
      kind: "VMFault",
      ip: 0x4008_0000n,
      addr: 0x900_0000n,
      prefetch: false,
      fsr: 0x9381_0046,
    });
    expect(decodeFault(FaultLabel.VGICMaintenance, () => 2n)).toEqual({ kind: "VGICMaintenance", index: 2 });
    expect(decodeFault(FaultLabel.VPPIEvent, () => 27n)).toEqual({ kind: "VPPIEvent", irq: 27 });
    expect(decodeFault(FaultLabel.VCPUFault, () => 0x5a00_0000n)).toEqual({
      kind: "VCPUFault",
      hsr: 0x5a00_0000,
    });
    expect(decodeFault(99, () => 0n)).toBeUndefined();
  });
});

describe("Vmm SYSTEM_RESET", () => {
  it("reloads the Linux images, resets the distributor and boots vCPU 0 again", () => {
    const image = new Uint8Array(0x1000);
    const header = new DataView(image.buffer);
    header.setBigUint64(8, 0x8_0000n, true); // text_offset
    header.setBigUint64(16, 0x10_0000n, true); // image_size
    header.setUint32(56, 0x644d_5241, true);
    image.fill(0x77, 64);
    const bytes = new Uint8Array(0x1000_0000);
    const ram = new GuestRam([{ gpa: 0x4000_0000, bytes }]);
    const control = new FakeVcpuControl(2);
    const resets: string[] = [];
    const vmm = new Vmm({
      vmName: "linux",
      vcpuCount: 2,
      log: recordingLog(),
      control,
      gic: { version: 2, distributor: 0x800_0000 },
      interrupts: {
        injectIrq: () => undefined,
        ackVppi: (v, intid) => resets.push(`ackVppi ${v} ${intid}`),
        irqAck: () => undefined,
      },
      ram,
      onSystemReset: () => resets.push("reset"),
    });
    expect(() =>
      new Vmm({ ...vmmOptionsWithoutRam(control) }).bootLinux({ kernel: image, dtb: new Uint8Array() }, 0),
    ).toThrow("Vmm.bootLinux needs the guest's RAM: pass `ram` to new Vmm({ … })");
    const dtb = guestDtb(SIMPLE_LAYOUT.deviceTree(0));
    vmm.bootLinux({ kernel: image, dtb }, 0x4f00_0000);
    vmm.vgic.setControl(1);
    control.regs[0]!.setX(0, 0x8400_0003n); // CPU_ON vCPU 1
    control.regs[0]!.setX(1, 1n);
    control.regs[0]!.setX(2, 0x4008_0000n);
    vmm.handleFault(0, { kind: "VCPUFault", hsr: HSR_SMC });
    bytes.fill(0, 0x8_0000, 0x9_0000); // the guest overwrote its kernel
    control.calls.length = 0;
    control.regs[1]!.setX(0, 0x8400_0009n); // SYSTEM_RESET, from vCPU 1
    expect(vmm.handleFault(1, { kind: "VCPUFault", hsr: HSR_SMC })).toBe(false);
    expect(control.calls).toEqual([
      "stop 0",
      "stop 1",
      "SCTLR_EL1 0 0x30d00800",
      "CNTV_CTL_EL0 0 0x0", // the old kernel's timer must not fire into the new boot
      "restart 0 0x40080000",
    ]);
    // The timer's PPI is unmasked on every vCPU, whatever VPPI event the old kernel left un-EOI'd.
    expect(resets).toEqual(["ackVppi 0 27", "ackVppi 1 27", "reset"]);
    expect(bytes[0x8_0040]).toBe(0x77);
    expect(control.regs[0]!.getX(0)).toBe(0x4f00_0000n);
    expect(vmm.vgic.control).toBe(0);
    expect(vmm.guest.isOn(1)).toBe(false);
  });
});

function vmmOptionsWithoutRam(control: FakeVcpuControl) {
  return {
    vmName: "linux",
    vcpuCount: 1,
    log: recordingLog(),
    control,
    gic: { version: 2, distributor: 0x800_0000 } as const,
    interrupts: { injectIrq: () => undefined, ackVppi: () => undefined, irqAck: () => undefined },
  };
}

describe("Vmm robustness", () => {
  it("survives random faults: any syndrome, address, register value and SMCCC call", () => {
    for (const gic of [
      { version: 2, distributor: 0x800_0000 },
      { version: 3, distributor: 0x800_0000, redistributors: 0x80a_0000 },
    ] as const) {
      const { vmm, control } = setup(2, gic);
      let seed = 7;
      const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
      const wide = () => (BigInt(next()) << 32n) | BigInt(next());
      for (let i = 0; i < 5000; i++) {
        const vcpuId = next() % 2;
        const regs = control.regs[vcpuId]!;
        for (let n = 0; n < 31; n++) regs.setX(n, wide());
        const ec = [0x24, 0x20, 0x01, 0x16, 0x17, 0x18, 0x00][next() % 7]!;
        const hsr = ((ec << 26) | (1 << 25) | (next() & 0x1ff_ffff)) >>> 0;
        const addr = BigInt(0x800_0000 + (next() % 0xc_0000));
        expect(() =>
          vmm.handleFault(
            vcpuId,
            ec === 0x24 || ec === 0x20
              ? { kind: "VMFault", ip: regs.pc, addr, prefetch: ec === 0x20, fsr: hsr }
              : { kind: "VCPUFault", hsr },
          ),
        ).not.toThrow();
      }
    }
  });
});
