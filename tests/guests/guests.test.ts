// The bare-metal guest suite: each program in tests/guests/ runs on a virtkit vCPU and must pass its
// own checks; the host side of the stage-2 test also checks every abort syndrome the core reports.
import { describe, expect, it } from "vitest";
import type { VcpuExit } from "../../src/machine/cpu.ts";
import { ensureCpuTestTools } from "../cpu/toolchain.ts";
import { guestNames } from "./build.ts";
import { describeResult, runGuest, type GuestContext } from "./run-guest.ts";
import { decodeAbort, extendLoad } from "./syndrome.ts";

const toolsProblem = ensureCpuTestTools();
if (toolsProblem && process.env.CI) throw new Error(toolsProblem);
const suite = toolsProblem ? describe.skip : describe;

/** Every guest program the suite below runs; a new tests/guests/*.c needs a test here. */
const TESTED_GUESTS = [
  "boot",
  "dczva",
  "debug", // its test: debug.test.ts
  "el0",
  "el0_irq",
  "exceptions",
  "mmu",
  "stage2",
  "timer",
  "timer_icc",
  "unaligned",
  "virtio_fuzz", // its test: tests/virtio/fuzz-guest.test.ts (the VM of examples/virtio)
  "virtio_net", // its test: virtio-net-guest.test.ts
  "wfi",
];

async function expectPass(name: string, host?: Parameters<typeof runGuest>[1]): Promise<void> {
  const result = await runGuest(name, host);
  expect(result.code, describeResult(name, result)).toBe(0);
}

const TEST_DEVICE_IPA = 0x0a00_0000;
const READ_ONLY_IPA = 0x0b00_0000;
const READ_ONLY_PA = 0x41f0_0000;

interface ExpectedAbort {
  what: string;
  ipa: number;
  ec?: number;
  isv: number;
  wnr: number;
  sas?: number;
  sse?: number;
  srt?: number;
  sf?: number;
  ar?: number;
  /** Fault status class: translation (0x04) or permission (0x0c), any level. */
  fault: number;
}

const d = (
  what: string,
  offset: number,
  wnr: number,
  sas: number,
  sse: number,
  srt: number,
  sf: number,
  ar = 0,
): ExpectedAbort => ({
  what,
  ipa: TEST_DEVICE_IPA + offset,
  isv: 1,
  wnr,
  sas,
  sse,
  srt,
  sf,
  ar,
  fault: 0x04,
});

const STAGE2_SEQUENCE: ExpectedAbort[] = [
  d("strb w1", 0, 1, 0, 0, 1, 0),
  d("strh w2", 2, 1, 1, 0, 2, 0),
  d("str w3", 4, 1, 2, 0, 3, 0),
  d("str x4", 8, 1, 3, 0, 4, 1),
  d("str xzr", 16, 1, 3, 0, 31, 1),
  d("stlr w3", 0, 1, 2, 0, 3, 0, 1),
  d("ldrb w5", 1, 0, 0, 0, 5, 0),
  d("ldrh w5", 2, 0, 1, 0, 5, 0),
  d("ldr w5", 4, 0, 2, 0, 5, 0),
  d("ldr x5", 8, 0, 3, 0, 5, 1),
  d("ldrsb w5", 1, 0, 0, 1, 5, 0),
  d("ldrsb x5", 1, 0, 0, 1, 5, 1),
  d("ldrsh w5", 2, 0, 1, 1, 5, 0),
  d("ldrsh x5", 2, 0, 1, 1, 5, 1),
  d("ldrsw x5", 4, 0, 2, 1, 5, 1),
  d("ldar x30", 0, 0, 3, 0, 30, 1, 1),
  { what: "ldp x6, x7", ipa: TEST_DEVICE_IPA, isv: 0, wnr: 0, fault: 0x04 },
  { what: "ldr x6, [x20, #8]!", ipa: TEST_DEVICE_IPA + 8, isv: 0, wnr: 0, fault: 0x04 },
  { what: "instruction fetch", ipa: TEST_DEVICE_IPA + 0x800, ec: 0x20, isv: 0, wnr: 0, fault: 0x04 },
  { what: "str to a read-only page", ipa: READ_ONLY_IPA, isv: 1, wnr: 1, sas: 3, srt: 9, sf: 1, fault: 0x0c },
];

/** The stage-2 test's host: checks each abort against STAGE2_SEQUENCE and emulates the device. */
function stage2Host() {
  const seen: string[] = [];
  const writes: [number, number, bigint][] = [];
  return {
    seen,
    writes,
    setup({ vcpu, memory }: GuestContext) {
      vcpu.mapStage2(
        READ_ONLY_IPA,
        READ_ONLY_PA,
        0x1000,
        { read: true, write: false, execute: false },
        false,
      );
      new DataView(memory.view(READ_ONLY_PA, 8).buffer, memory.view(READ_ONLY_PA, 8).byteOffset).setBigUint64(
        0,
        0x0123456789abcdefn,
        true,
      );
    },
    onExit(exit: VcpuExit, { vcpu }: GuestContext): boolean {
      if (exit.kind !== "stage2-abort") return false;
      const want = STAGE2_SEQUENCE[seen.length];
      if (!want) return false;
      const s = decodeAbort(exit.esr);
      const got = {
        ipa: exit.ipa,
        far: Number(exit.far),
        ec: s.ec,
        il: s.il,
        isv: s.isv,
        wnr: s.wnr,
        fault: s.fsc & 0x3c,
        ...(s.isv ? { sas: s.sas, sse: s.sse, srt: s.srt, sf: s.sf, ar: s.ar } : {}),
      };
      const expected = {
        ipa: want.ipa,
        far: want.ipa,
        ec: want.ec ?? 0x24,
        il: 1,
        isv: want.isv,
        wnr: want.wnr,
        fault: want.fault,
        ...(want.isv
          ? { sas: want.sas, sse: want.sse ?? 0, srt: want.srt, sf: want.sf, ar: want.ar ?? 0 }
          : {}),
      };
      expect(
        got,
        `stage-2 abort #${seen.length + 1} (${want.what}), ESR_EL2 0x${exit.esr.toString(16)}`,
      ).toEqual(expected);
      seen.push(want.what);
      if (s.ec === 0x20) {
        vcpu.pc = vcpu.getX(30);
        return true;
      }
      if (s.isv && exit.ipa < TEST_DEVICE_IPA + 0x1000) {
        const offset = exit.ipa - TEST_DEVICE_IPA;
        if (s.wnr) {
          writes.push([offset, 1 << s.sas, s.srt === 31 ? 0n : BigInt.asUintN(8 << s.sas, vcpu.getX(s.srt))]);
        } else {
          let raw = 0n;
          for (let i = (1 << s.sas) - 1; i >= 0; i--) raw = (raw << 8n) | BigInt(0xf0 + offset + i);
          if (s.srt !== 31) vcpu.setX(s.srt, extendLoad(raw, s.sas, s.sse, s.sf));
        }
      }
      vcpu.pc += 4n;
      return true;
    },
  };
}

const GICV_IPA = 0x0801_0000;
/** GICH_LR fields (GICv2 layout, see src/machine/cpu.ts). */
const LR_PENDING = 1n << 28n;
const LR_EOI = 1n << 19n;
const LR_GROUP1 = 1n << 30n;
const lrPriority = (p: number) => BigInt(p >> 3) << 23n;

/**
 * Host side of seL4's VPPI flow for the timer guests; records what it did, in order. `group` is the
 * LR's Grp1 bit: Group 0 for the GICv2 guest, Group 1 for the ICC guest.
 */
function timerHost(group = 0n) {
  const events: string[] = [];
  return {
    events,
    setup({ vcpu }: GuestContext) {
      vcpu.gicvBase = GICV_IPA;
    },
    onExit(exit: VcpuExit, { core, vcpu }: GuestContext): boolean {
      switch (exit.kind) {
        case "wfi": {
          // Idle: skip virtual time to the armed deadline, as the kernel model will.
          const ctl = vcpu.readSysreg("CNTV_CTL_EL0");
          expect(ctl & 3n, "the guest waits in WFI with its timer armed and unmasked").toBe(1n);
          const deadline = vcpu.readSysreg("CNTV_CVAL_EL0");
          if (deadline > core.counter) core.counter = deadline;
          vcpu.pc += 4n; // seL4 resumes a VCPU after the WFI it trapped
          events.push("wfi");
          return true;
        }
        case "vtimer":
          vcpu.vtimerMasked = true;
          vcpu.setListRegister(0, LR_PENDING | LR_EOI | lrPriority(0xa0) | group | 27n);
          events.push("vtimer");
          return true;
        case "maintenance":
          expect(exit.listRegister).toBe(0);
          expect(vcpu.getListRegister(0) & (3n << 28n), "the LR is inactive after EOI").toBe(0n);
          vcpu.vtimerMasked = false;
          events.push("maintenance");
          return true;
        default:
          return false;
      }
    },
  };
}

/**
 * Host side of the WFI guest: its first WFI exit injects SPI 40; its request (HVC #2) injects SPI 41
 * while the guest has IRQs masked, after which its WFI must complete without exiting; its last WFI
 * gets SPI 42 and is resumed at the WFI itself, so the interrupt must be taken before the WFI runs
 * again (the LR is no longer pending at the WFI's second exit).
 */
function wfiHost() {
  const events: string[] = [];
  const skipWfi = (vcpu: GuestContext["vcpu"]) => (vcpu.pc += 4n); // as seL4 resumes a VCPU
  return {
    events,
    setup({ vcpu }: GuestContext) {
      vcpu.gicvBase = GICV_IPA;
    },
    onExit(exit: VcpuExit, { vcpu }: GuestContext): boolean {
      if (exit.kind === "hvc" && exit.imm === 2) {
        const id = vcpu.getX(1);
        vcpu.setListRegister(1, LR_PENDING | lrPriority(0xa0) | id);
        vcpu.setX(0, 0n);
        events.push(`request: inject ${id}`);
        return true;
      }
      if (exit.kind !== "wfi") return false;
      switch (events.length) {
        case 0:
          vcpu.setListRegister(0, LR_PENDING | lrPriority(0xa0) | 40n);
          skipWfi(vcpu);
          events.push("wfi: inject 40");
          return true;
        case 2:
          vcpu.setListRegister(2, LR_PENDING | lrPriority(0xa0) | 42n);
          events.push("wfi: inject 42, resume at the WFI");
          return true;
        case 3:
          events.push(`wfi again, LR2 ${(vcpu.getListRegister(2) >> 28n) & 1n ? "still pending" : "taken"}`);
          skipWfi(vcpu);
          return true;
        default:
          return false;
      }
    },
  };
}

suite("bare-metal guest sources", () => {
  it("has a test for every program in tests/guests/", () => {
    expect(guestNames()).toEqual([...TESTED_GUESTS].sort());
  });
});

// The same programs under both GIC CPU interfaces a VM can have (they must not depend on it), on both
// CPU tiers: the JIT translating every block from its first run, so translated code runs all of them.
for (const [tier, gicVersion] of [
  ["interp", 2],
  ["interp", 3],
  ["jit", 2],
  ["jit", 3],
] as const) {
  suite(`bare-metal guests (GICv${gicVersion} vCPU, ${tier})`, () => {
    const pass = (name: string, host: Parameters<typeof runGuest>[1] = {}) =>
      expectPass(name, { gicVersion, core: { tier, jitThreshold: 1 }, ...host });
    it("boots at EL1 and sees ARMv8.0 ID registers (boot)", async () => {
      await pass("boot");
    });
    it("takes and returns from BRK, UDF, SVC and undefined MRS exceptions; SMC and HVC exit (exceptions)", async () => {
      const calls: string[] = [];
      await pass("exceptions", {
        onExit(exit, { vcpu }) {
          if (exit.kind === "smc" && exit.imm === 0x77) vcpu.setX(0, vcpu.getX(0) + 0x77n);
          else if (exit.kind === "hvc" && exit.imm === 0x55) vcpu.setX(0, vcpu.getX(0) * 0x55n);
          else return false;
          calls.push(`${exit.kind} #0x${exit.imm.toString(16)}`);
          return true;
        },
      });
      expect(calls).toEqual(["smc #0x77", "hvc #0x55"]);
    });
    it("translates through TTBR0 and TTBR1 with faults, TLBI and XN (mmu)", async () => {
      await pass("mmu");
    });
    it("runs an EL0 task with SVC calls and EL0 faults (el0)", async () => {
      await pass("el0");
    });
    it("zeroes one DCZID block with DC ZVA and faults on Device memory (dczva)", async () => {
      await pass("dczva");
    });
    it("applies the unaligned-access rules of Normal and Device memory (unaligned)", async () => {
      await pass("unaligned");
    });
    it("reports stage-2 aborts with full syndromes for every access size (stage2)", async () => {
      const host = stage2Host();
      await pass("stage2", host);
      expect(host.seen).toEqual(STAGE2_SEQUENCE.map((s) => s.what));
      expect(host.writes).toEqual([
        [0, 1, 0x11n],
        [2, 2, 0x2233n],
        [4, 4, 0x44556677n],
        [8, 8, 0x8899aabbccddeeffn],
        [16, 8, 0n],
        [0, 4, 0x44556677n],
      ]);
    });
    it("delivers virtual timer interrupts through the GICV list registers (timer)", async () => {
      const host = timerHost();
      await pass("timer", host);
      const round = ["wfi", "vtimer", "maintenance"];
      expect(host.events).toEqual([...round, ...round]);
    });
    if (gicVersion === 3) {
      it("delivers the virtual timer through the ICC system registers, Group 1 (timer_icc)", async () => {
        const host = timerHost(LR_GROUP1);
        await pass("timer_icc", host);
        expect(host.events).toEqual(["wfi", "vtimer", "maintenance"]);
      });
    }
    it("takes a timer interrupt from an EL0 task and resumes it (el0_irq)", async () => {
      const host = timerHost();
      await pass("el0_irq", host);
      expect(host.events).toEqual(["vtimer", "maintenance"]);
    });
    it("wakes from WFI on an injected interrupt, masked or not (wfi)", async () => {
      const host = wfiHost();
      await pass("wfi", host);
      expect(host.events).toEqual([
        "wfi: inject 40",
        "request: inject 41",
        "wfi: inject 42, resume at the WFI",
        "wfi again, LR2 taken",
      ]);
    });
  });
}
