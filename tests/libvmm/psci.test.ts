import { describe, expect, it } from "vitest";
import { Guest } from "../../src/libvmm/guest.ts";
import { createVmmLog } from "../../src/libvmm/log.ts";
import { SmcccDispatcher } from "../../src/libvmm/smc.ts";
import { FakeVcpuControl, recordingLog } from "./fake-vcpu.ts";

const NOT_SUPPORTED = 0xffff_ffff_ffff_ffffn;
const INVALID_PARAMETERS = 0xffff_ffff_ffff_fffen;
const ALREADY_ON = 0xffff_ffff_ffff_fffcn;
const INVALID_ADDRESS = 0xffff_ffff_ffff_fff7n;

function setup(vcpuCount = 2) {
  const control = new FakeVcpuControl(vcpuCount);
  const log = recordingLog();
  const events: string[] = [];
  const guest = new Guest({
    name: "linux",
    vcpuCount,
    control,
    log,
    isGuestRam: (a) => a >= 0x4000_0000n && a < 0x5000_0000n,
    onSystemOff: () => events.push("off"),
    onSystemReset: () => events.push("reset"),
  });
  guest.start(0, { pc: 0x4020_0000n, x0: 0x4f00_0000n });
  control.calls.length = 0;
  const smccc = new SmcccDispatcher(guest, log);
  const call = (
    x0: number | bigint,
    x1 = 0n,
    x2 = 0n,
    x3 = 0n,
    vcpuId = 0,
    conduit: "hvc" | "smc" = "smc",
  ) => {
    const regs = control.regs[vcpuId]!;
    regs.setX(0, BigInt(x0));
    regs.setX(1, x1);
    regs.setX(2, x2);
    regs.setX(3, x3);
    const outcome = smccc.handle({ vcpuId, regs, conduit });
    return { outcome, x0: regs.getX(0) };
  };
  return { control, log, events, guest, smccc, call };
}

describe("SMCCC architecture calls", () => {
  it("reports SMCCC 1.1 and answers ARCH_FEATURES per function", () => {
    const { call } = setup();
    expect(call(0x8000_0000)).toEqual({ outcome: "resume", x0: 0x10001n });
    expect(call(0x8000_0001, 0x8000_0000n).x0).toBe(0n);
    expect(call(0x8000_0001, 0x8000_0001n).x0).toBe(0n);
    expect(call(0x8000_0001, 0x8000_8000n).x0).toBe(NOT_SUPPORTED); // ARCH_WORKAROUND_1
    expect(call(0x8000_7fff).x0).toBe(NOT_SUPPORTED);
  });
});

describe("PSCI", () => {
  it("reports version 1.1 over both conduits", () => {
    const { call } = setup();
    expect(call(0x8400_0000).x0).toBe(0x0001_0001n);
    expect(call(0x8400_0000, 0n, 0n, 0n, 0, "hvc").x0).toBe(0x0001_0001n);
    // VERSION has no SMC64 form.
    expect(call(0xc400_0000).x0).toBe(NOT_SUPPORTED);
  });

  it("answers FEATURES for each function ID", () => {
    const { call } = setup();
    const supported = [
      0x8400_0000, 0x8400_0001, 0xc400_0001, 0x8400_0002, 0x8400_0003, 0xc400_0003, 0x8400_0004, 0xc400_0004,
      0x8400_0006, 0x8400_0008, 0x8400_0009, 0x8400_000a, 0x8000_0000,
    ];
    for (const id of supported)
      expect(call(0x8400_000a, BigInt(id)).x0, `FEATURES(0x${id.toString(16)})`).toBe(0n);
    const unsupported = [
      0xc400_0000, 0x8400_0005, 0x8400_0007, 0x8400_000e, 0xc400_0012, 0x8401_0000, 0xc200_0006, 0,
    ];
    for (const id of unsupported) {
      expect(call(0x8400_000a, BigInt(id)).x0, `FEATURES(0x${id.toString(16)})`).toBe(NOT_SUPPORTED);
    }
  });

  it("MIGRATE_INFO_TYPE says no Trusted OS (2)", () => {
    expect(setup().call(0x8400_0006).x0).toBe(2n);
  });

  it("CPU_ON starts the target with x0 = context, EL1h DAIF masked, MMU off", () => {
    const { call, control, guest } = setup();
    control.regs[1]!.setX(7, 99n);
    expect(call(0xc400_0003, 1n, 0x4008_0000n, 0x1234_5678_9abcn)).toEqual({ outcome: "resume", x0: 0n });
    const target = control.regs[1]!;
    expect(target.getX(0)).toBe(0x1234_5678_9abcn);
    expect(target.getX(7)).toBe(0n);
    expect(target.pstate).toBe(0x3c5);
    expect(target.pc).toBe(0x4008_0000n);
    expect(control.calls).toEqual(["SCTLR_EL1 1 0x30d00800", "CNTV_CTL_EL0 1 0x0", "restart 1 0x40080000"]);
    expect(guest.isOn(1)).toBe(true);
  });

  it("CPU_ON errors: invalid target (-2), already on (-4), bad entry (-9)", () => {
    const { call, control } = setup();
    expect(call(0xc400_0003, 2n, 0x4008_0000n).x0).toBe(INVALID_PARAMETERS);
    expect(call(0xc400_0003, 0x100n, 0x4008_0000n).x0).toBe(INVALID_PARAMETERS); // Aff1 = 1
    expect(call(0xc400_0003, 0n, 0x4008_0000n).x0).toBe(ALREADY_ON);
    expect(call(0xc400_0003, 1n, 0x1000n).x0).toBe(INVALID_ADDRESS);
    expect(control.calls).toEqual([]);
  });

  it("SMC32 CPU_ON uses only the W registers", () => {
    const { call, control } = setup();
    expect(call(0x8400_0003, 0xffff_ffff_0000_0001n, 0xdead_0000_4008_0000n, 0xffff_0000_0000_0005n).x0).toBe(
      0n,
    );
    expect(control.regs[1]!.pc).toBe(0x4008_0000n);
    expect(control.regs[1]!.getX(0)).toBe(5n);
  });

  it("AFFINITY_INFO reports on/off per level; CPU_OFF stops the caller", () => {
    const { call, control, guest } = setup();
    expect(call(0xc400_0004, 0n, 0n).x0).toBe(0n);
    expect(call(0xc400_0004, 1n, 0n).x0).toBe(1n);
    expect(call(0xc400_0004, 5n, 0n).x0).toBe(INVALID_PARAMETERS);
    expect(call(0xc400_0004, 0x7n, 1n).x0).toBe(0n); // cluster 0 has vCPU 0 on
    expect(call(0xc400_0004, 0n, 4n).x0).toBe(INVALID_PARAMETERS);
    call(0xc400_0003, 1n, 0x4008_0000n);
    control.calls.length = 0;
    expect(call(0x8400_0002, 0n, 0n, 0n, 1).outcome).toBe("stopped");
    expect(control.calls).toEqual(["stop 1"]);
    expect(guest.isOn(1)).toBe(false);
    expect(call(0xc400_0004, 1n, 0n).x0).toBe(1n);
  });

  it("CPU_SUSPEND waits for an interrupt and returns SUCCESS; reserved power_state bits are invalid", () => {
    const { call } = setup();
    expect(call(0xc400_0001, 0n, 0x4000_0000n, 0n)).toEqual({ outcome: "standby", x0: 0n });
    expect(call(0xc400_0001, 0x1_0000n, 0x4000_0000n, 0n)).toEqual({ outcome: "standby", x0: 0n });
    expect(call(0xc400_0001, 0x0400_0000n).x0).toBe(INVALID_PARAMETERS);
  });

  it("SYSTEM_OFF stops every vCPU, then tells the VMM", () => {
    const { call, control, events, log } = setup();
    call(0xc400_0003, 1n, 0x4008_0000n);
    control.calls.length = 0;
    expect(call(0x8400_0008).outcome).toBe("stopped");
    expect(control.calls).toEqual(["stop 0", "stop 1"]);
    expect(events).toEqual(["off"]);
    expect(log.lines).toContain("vmm|INFO: linux: the guest powered off (PSCI SYSTEM_OFF)");
  });

  it("SYSTEM_RESET stops the vCPUs and asks the VMM to boot again", () => {
    const { call, control, events } = setup();
    expect(call(0x8400_0009, 0n, 0n, 0n, 0, "hvc").outcome).toBe("stopped");
    expect(control.calls).toEqual(["stop 0"]);
    expect(events).toEqual(["reset"]);
  });
});

describe("unknown calls and the SiP hook", () => {
  it("answers NOT_SUPPORTED and logs each unknown function once", () => {
    const { call, log } = setup();
    expect(call(0x0400_0000, 0n, 0n, 0n, 0, "hvc").x0).toBe(NOT_SUPPORTED); // a yielding call
    expect(call(0x8400_0020).x0).toBe(NOT_SUPPORTED); // standard service, beyond PSCI
    expect(call(0x8400_0020).x0).toBe(NOT_SUPPORTED);
    expect(log.lines).toEqual([
      "vmm|INFO: HVC 0x4000000 (standard secure service, function 0x0) is not implemented: answered NOT_SUPPORTED",
      "vmm|INFO: SMC 0x84000020 (standard secure service, function 0x20) is not implemented: answered NOT_SUPPORTED",
    ]);
  });

  it("reports a SiP call without a SiP handler in libvmm's words and leaves it unanswered", () => {
    const { call, log } = setup();
    // seed 004: the MaaXBoard's i.MX8M SoC driver asks the firmware for the SoC revision.
    expect(call(0xc200_0006)).toEqual({ outcome: "unhandled", x0: 0xc200_0006n });
    expect(log.lines).toEqual(["vmm|ERROR: Unhandled SMC: unknown value service: 0x2, function number: 0x6"]);
  });

  it("passes SiP calls to the registered handler", () => {
    const { call, log, smccc } = setup();
    smccc.registerSipHandler(({ functionId, regs }) => {
      if (functionId.raw !== 0xc200_0006) return false;
      regs.setX(0, 0x20n); // e.g. an SoC revision
      return true;
    });
    expect(call(0xc200_0006)).toEqual({ outcome: "resume", x0: 0x20n });
    expect(call(0xc200_0007)).toEqual({ outcome: "resume", x0: NOT_SUPPORTED });
    expect(log.lines).toEqual([
      "vmm|INFO: SMC 0xc2000007 (SiP service, function 0x7) is not implemented: answered NOT_SUPPORTED (the SiP handler declined it)",
    ]);
    expect(() => smccc.registerSipHandler(() => true)).toThrow(
      "a SiP handler is already registered; a VMM has one SiP handler",
    );
  });
});

describe("Guest", () => {
  it("rejects vCPU counts libvmm does not support", () => {
    const control = new FakeVcpuControl(1);
    const log = createVmmLog("vmm", () => undefined);
    expect(() => new Guest({ name: "linux", vcpuCount: 5, control, log })).toThrow(
      "guest 'linux': 5 vCPUs requested; libvmm supports 1 to 4",
    );
    expect(() => new Guest({ name: "linux", vcpuCount: 0, control, log })).toThrow("0 vCPUs requested");
  });

  it("boots with x0 = DTB and every other register zero", () => {
    const control = new FakeVcpuControl(1);
    const guest = new Guest({
      name: "linux",
      vcpuCount: 1,
      control,
      log: createVmmLog("vmm", () => undefined),
    });
    control.regs[0]!.setX(30, 5n);
    guest.start(0, { pc: 0x4020_0000n, x0: 0x4f00_0000n });
    expect(control.regs[0]!.x).toEqual([0x4f00_0000n, ...new Array(30).fill(0n)]);
    expect(control.calls).toEqual(["SCTLR_EL1 0 0x30d00800", "CNTV_CTL_EL0 0 0x0", "restart 0 0x40200000"]);
  });
});

describe("createVmmLog", () => {
  it("prefixes every line with the PD name and level", () => {
    const lines: string[] = [];
    const log = createVmmLog("vmm", (l) => lines.push(l));
    log.info("one");
    log.error("two\nthree");
    expect(lines).toEqual(["vmm|INFO: one", "vmm|ERROR: two", "vmm|ERROR: three"]);
  });
});
