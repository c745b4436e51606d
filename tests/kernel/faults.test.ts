import { describe, expect, test } from "vitest";
import {
  FaultError,
  FaultLabel,
  NS_PER_COUNTER_TICK,
  NS_PER_INSTRUCTION,
  VcpuObject,
  messageInfo,
  type MachineExit,
  type MachineVcpu,
} from "../../src/kernel/index.ts";
import { TestSystem } from "./helpers.ts";

describe("fault delivery", () => {
  test("a child's fault reaches its parent's endpoint with the child's id; a reply resumes the child", () => {
    const sys = new TestSystem();
    let replyToFault = true;
    const parent = sys.thread("parent", {
      priority: 200,
      handler: (event, self) => {
        if (event.kind !== "fault") return undefined;
        sys.log.push(`parent:mrs ${self.mrs[1]} ${self.mrs[3]!.toString(16)}`);
        return replyToFault ? messageInfo(0, 0) : undefined;
      },
    });
    const child = sys.thread("child", {
      priority: 100,
      handler: (event) => {
        if (event.kind === "signal") {
          throw new FaultError(
            { kind: "VMFault", ip: 0n, addr: 0x1234n, prefetch: false, fsr: 0x92000046 },
            "bad",
          );
        }
      },
    });
    child.faultHandler = { thread: parent, badge: 5 };
    sys.start(parent, child);
    sys.kernel.signal(child.notification!, 1n);
    sys.kernel.runReady();
    expect(sys.log).toEqual([
      "child:signal(1)",
      `parent:fault(5,label ${FaultLabel.VMFault})`,
      "parent:mrs 4660 92000046",
      "parent:end",
    ]);
    expect(child.state).toBe("receiving");

    replyToFault = false;
    sys.log.length = 0;
    sys.kernel.signal(child.notification!, 1n);
    sys.kernel.runReady();
    expect(child.state).toBe("fault-blocked");
    sys.kernel.signal(child.notification!, 1n);
    sys.kernel.runReady();
    expect(sys.log.filter((l) => l.startsWith("child:signal"))).toHaveLength(1);
    expect(sys.monitorFaults).toEqual([]);
  });

  test("a top-level thread's fault goes to the monitor, and the rest of the system runs on", () => {
    const sys = new TestSystem();
    const broken = sys.thread("broken", {
      priority: 200,
      handler: (event) => {
        if (event.kind === "signal") throw new Error("boom");
      },
    });
    const healthy = sys.thread("healthy", { priority: 100 });
    sys.start(broken, healthy);
    sys.kernel.signal(broken.notification!, 1n);
    sys.kernel.signal(healthy.notification!, 1n);
    sys.kernel.runReady();
    sys.kernel.signal(broken.notification!, 1n);
    sys.kernel.signal(healthy.notification!, 1n);
    sys.kernel.runReady();
    expect(sys.monitorFaults).toEqual(["broken:UserException"]);
    expect(sys.log.filter((l) => l === "healthy:signal(1)")).toHaveLength(2);
    expect(sys.log.filter((l) => l === "broken:signal(1)")).toHaveLength(1);
  });

  test("stopping a preempted thread unwinds it: it never continues its handler", () => {
    const sys = new TestSystem();
    let child = undefined as unknown as ReturnType<TestSystem["thread"]>;
    const parent = sys.thread("parent", {
      priority: 200,
      handler: (event) => {
        if (event.kind === "signal") sys.kernel.suspend(child);
      },
    });
    child = sys.thread("child", {
      priority: 100,
      handler: (event) => {
        if (event.kind !== "signal") return;
        sys.kernel.signal(parent.notification!, 1n);
        sys.log.push("child:continued");
      },
    });
    sys.start(parent, child);
    sys.kernel.signal(child.notification!, 1n);
    sys.kernel.runReady();
    expect(sys.log).toEqual(["child:signal(1)", "parent:signal(1)", "parent:end"]);
    expect(child.state).toBe("inactive");
    sys.kernel.signal(child.notification!, 1n);
    sys.kernel.runReady();
    expect(sys.log).toHaveLength(3);
  });

  test("restarting a thread runs its start event again, even from a fault", () => {
    const sys = new TestSystem();
    const child = sys.thread("child", {
      priority: 100,
      handler: (event) => {
        if (event.kind === "signal") throw new Error("crash");
      },
    });
    const parent = sys.thread("parent", {
      priority: 200,
      handler: (event) => {
        if (event.kind === "fault") sys.kernel.restart(child);
        return undefined;
      },
    });
    child.faultHandler = { thread: parent, badge: 1 };
    sys.start(parent, child);
    sys.kernel.signal(child.notification!, 1n);
    sys.kernel.runReady();
    expect(sys.log).toEqual([
      "child:signal(1)",
      `parent:fault(1,label ${FaultLabel.UserException})`,
      "parent:end",
      "child:start",
      "child:end",
    ]);
    expect(child.state).toBe("receiving");
  });
});

class FakeVcpu implements MachineVcpu {
  pc = 0n;
  pstate = 0x3c5;
  instructionsRetired = 0;
  vtimerMasked = false;
  readonly x = new Array<bigint>(31).fill(0n);
  readonly lrs = [0n, 0n, 0n, 0n];
  readonly sysregs = new Map<string, bigint>();
  sp1 = 0n;
  constructor(private readonly exits: MachineExit[]) {}
  getX(n: number): bigint {
    return this.x[n]!;
  }
  setX(n: number, value: bigint): void {
    this.x[n] = value;
  }
  readSysreg(name: string): bigint {
    return this.sysregs.get(name) ?? 0n;
  }
  writeSysreg(name: string, value: bigint): void {
    this.sysregs.set(name, value);
  }
  getSp(): bigint {
    return this.sp1;
  }
  setSp(_el: 0 | 1, value: bigint): void {
    this.sp1 = value;
  }
  setListRegister(index: number, value: bigint): void {
    this.lrs[index] = value;
  }
  getListRegister(index: number): bigint {
    return this.lrs[index]!;
  }
  run(max: number): MachineExit {
    const exit = this.exits.shift() ?? { kind: "halted", reason: "test over" };
    const used = exit.kind === "slice-end" ? max : 10;
    this.instructionsRetired += used;
    this.pc += BigInt(used * 4);
    return exit;
  }
}

describe("vCPU threads", () => {
  test("a vCPU's exits become faults at its VMM with the vCPU id; the VMM's reply resumes it", () => {
    const sys = new TestSystem();
    const machine = new FakeVcpu([
      { kind: "slice-end" },
      { kind: "stage2-abort", esr: 0x93c08046, far: 0x50000000n, ipa: 0x50000000, instruction: 0xb9000020 },
      { kind: "smc", imm: 0 },
      { kind: "vtimer" },
    ]);
    const vcpu = new VcpuObject(0, machine);
    const faults: string[] = [];
    const vmm = sys.thread("vmm", {
      priority: 101,
      handler: (event, self) => {
        if (event.kind !== "fault") return undefined;
        faults.push(
          `${event.badge}:${event.info.label}:${self.mrs[0]!.toString(16)}:${self.mrs[1]?.toString(16)}`,
        );
        // A halted core (HSR 0) is left stopped: no reply.
        return self.mrs[0] === 0n ? undefined : messageInfo(0, 0);
      },
    });
    const thread = sys.kernel.createThread({
      name: "linux:vcpu0",
      priority: 100,
      budgetUs: 1000,
      periodUs: 1000,
      body: vcpu,
      faultHandler: { thread: vmm, badge: 0 },
    });
    sys.start(vmm);
    expect(thread.state).toBe("inactive"); // VM threads start suspended
    machine.pc = 0x40080000n;
    sys.kernel.restart(thread);
    sys.kernel.runReady(20);
    // One full slice (a 1 ms budget of instructions, 4 bytes each), then 10 instructions to the abort.
    const afterSliceAndAbort = 0x40080000 + 4 * (1_000_000 / NS_PER_INSTRUCTION) + 4 * 10;
    expect(thread.state).toBe("fault-blocked");
    expect(machine.vtimerMasked).toBe(true);
    expect(vcpu.ackVppi(27)).toBe(0);
    expect(machine.vtimerMasked).toBe(false);
    expect(faults).toEqual([
      `0:${FaultLabel.VMFault}:${afterSliceAndAbort.toString(16)}:50000000`,
      `0:${FaultLabel.VCPUFault}:5e000000:0`,
      `0:${FaultLabel.VPPIEvent}:1b:0`,
      `0:${FaultLabel.VCPUFault}:0:0`,
    ]);
  });

  test("loads and stores to passed-through device memory reach the device without the VMM", () => {
    const machine = new FakeVcpu([
      // str w1, [x0]: ISV, SAS word, SRT 1, WnR
      { kind: "stage2-abort", esr: 0x93818046, far: 0n, ipa: 0x9000000, instruction: 0 },
      // ldrsb x2, [x0, #0x18]: ISV, SAS byte, SSE, SRT 2, SF
      { kind: "stage2-abort", esr: 0x93228007, far: 0n, ipa: 0x9000018, instruction: 0 },
      // a store to an IPA that is not passed through goes to the VMM
      { kind: "stage2-abort", esr: 0x93818046, far: 0n, ipa: 0x50000000, instruction: 0 },
    ]);
    const written: string[] = [];
    const device = {
      read: (offset: number) => (offset === 0x18 ? 0x90n : 0n),
      write: (offset: number, size: number, value: bigint) => void written.push(`${offset}:${size}:${value}`),
    };
    const vcpu = new VcpuObject(0, machine, (ipa) =>
      ipa >= 0x9000000 && ipa < 0x9001000 ? { device, offset: ipa - 0x9000000 } : undefined,
    );
    machine.x[1] = 0x1234_0041n;
    const result = vcpu.run(1000, 0);
    expect(written).toEqual(["0:4:305397825"]);
    expect(machine.x[2]).toBe(0xffff_ffff_ffff_ff90n);
    expect(result.fault).toEqual({
      kind: "VMFault",
      ip: machine.pc,
      addr: 0x50000000n,
      prefetch: false,
      fsr: 0x93818046,
    });
  });

  test("a vCPU sleeping in WFI wakes with a VPPIEvent when its virtual timer fires, in virtual time", () => {
    const sys = new TestSystem();
    const machine = new FakeVcpu([{ kind: "wfi" }, { kind: "slice-end" }]);
    machine.sysregs.set("CNTV_CTL_EL0", 1n); // enabled, not masked
    machine.sysregs.set("CNTV_CVAL_EL0", 5000n);
    const synced: number[] = [];
    const vcpu = new VcpuObject(0, machine, undefined, (now) => synced.push(now));
    const faults: string[] = [];
    const vmm = sys.thread("vmm", {
      priority: 101,
      handler: (event, self) => {
        if (event.kind !== "fault") return undefined;
        faults.push(`${event.info.label}@${sys.kernel.clock.nowNs}`);
        // Sleep on WFI (no reply); resume on the timer's event.
        return event.info.label === FaultLabel.VPPIEvent && self.mrs[0] === 27n
          ? messageInfo(0, 0)
          : undefined;
      },
    });
    const thread = sys.kernel.createThread({
      name: "vcpu0",
      priority: 100,
      budgetUs: 1000,
      periodUs: 1000,
      body: vcpu,
      faultHandler: { thread: vmm, badge: 0 },
    });
    sys.start(vmm);
    sys.kernel.restart(thread);
    expect(sys.kernel.runReady()).toBe(false);
    expect(faults).toEqual([`${FaultLabel.VCPUFault}@2040`]);
    expect(sys.kernel.clock.skipToNextDeadline()).toBe(true);
    expect(sys.kernel.clock.nowNs).toBe(5000 * NS_PER_COUNTER_TICK);
    sys.kernel.runReady(2);
    expect(faults).toEqual([
      `${FaultLabel.VCPUFault}@2040`,
      `${FaultLabel.VPPIEvent}@${5000 * NS_PER_COUNTER_TICK + 1000}`,
    ]);
    expect(machine.vtimerMasked).toBe(true);
    // Resumed: its next slice starts with the machine's counter brought up to virtual time.
    expect(synced.at(-1)).toBe(5000 * NS_PER_COUNTER_TICK + 1000);
  });

  test("InjectIRQ writes a pending list register and refuses an occupied one", () => {
    const machine = new FakeVcpu([]);
    const vcpu = new VcpuObject(0, machine);
    expect(vcpu.injectIrq(33, 0, 1, 0)).toBe(0);
    expect(machine.lrs[0]).toBe((1n << 30n) | (1n << 28n) | (1n << 19n) | 33n);
    expect(vcpu.injectIrq(34, 0, 1, 0)).toBe(8);
    expect(vcpu.injectIrq(34, 0, 1, 4)).toBe(4);
    expect(vcpu.writeRegister(17, 0x1234n)).toBe(true);
    expect(machine.sp1).toBe(0x1234n);
    expect(vcpu.readRegister(0)).toBe(0n);
    expect(vcpu.readRegister(99)).toBeUndefined();
  });
});
