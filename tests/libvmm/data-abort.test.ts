import { describe, expect, it } from "vitest";
import { emulateDataAbort } from "../../src/libvmm/fault/data-abort.ts";
import { decodeDataAbort, extendLoadedValue } from "../../src/machine/arch/index.ts";
import { GuestAccessError, MmioRegions } from "../../src/libvmm/fault/mmio.ts";
import type { AccessSize, MmioDevice } from "../../src/machine/devices/mmio.ts";
import { FakeRegisters, dataAbortEsr } from "./fake-vcpu.ts";

/** A little-endian byte array device that records every access. */
class RecordingDevice implements MmioDevice {
  readonly bytes = new Uint8Array(64);
  readonly log: string[] = [];
  read(offset: number, size: AccessSize, vcpuId: number): bigint {
    this.log.push(`r${vcpuId}:${offset}:${size}`);
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.bytes[offset + i]!);
    return v;
  }
  write(offset: number, size: AccessSize, value: bigint, vcpuId: number): void {
    this.log.push(`w${vcpuId}:${offset}:${size}:${value.toString(16)}`);
    for (let i = 0; i < size; i++) this.bytes[offset + i] = Number((value >> BigInt(8 * i)) & 0xffn);
  }
}

function setup() {
  const regions = new MmioRegions();
  const device = new RecordingDevice();
  regions.register("dev", 0x5000_0000, 64, device);
  const regs = new FakeRegisters();
  regs.pc = 0xffff_8000_1000_0000n;
  return { regions, device, regs };
}

describe("decodeDataAbort", () => {
  it("reads every ISS field", () => {
    const esr = dataAbortEsr({ size: 2, sse: true, srt: 17, sf: false, write: true, dfsc: 0x06 });
    expect(decodeDataAbort(esr)).toEqual({
      valid: true,
      size: 2,
      signExtend: true,
      register: 17,
      sixtyFourBit: false,
      write: true,
      faultStatus: 0x06,
    });
    expect(decodeDataAbort(dataAbortEsr({ isv: false, size: 1, srt: 0, write: false })).valid).toBe(false);
  });

  it("rejects a syndrome that is not a data abort", () => {
    expect(() => decodeDataAbort(0x5a000000)).toThrow("ESR_EL2 0x5a000000 is not a data abort (EC 0x16)");
  });
});

describe("extendLoadedValue", () => {
  const s = (size: AccessSize, signExtend: boolean, sixtyFourBit: boolean) => ({
    ...decodeDataAbort(dataAbortEsr({ size, srt: 0, write: false })),
    signExtend,
    sixtyFourBit,
  });
  it("zero-extends without SSE", () => {
    expect(extendLoadedValue(0xffn, s(1, false, true))).toBe(0xffn);
    expect(extendLoadedValue(0x1_8000n, s(2, false, true))).toBe(0x8000n);
  });
  it("sign-extends to 64 bits with SSE and SF", () => {
    expect(extendLoadedValue(0x80n, s(1, true, true))).toBe(0xffff_ffff_ffff_ff80n);
    expect(extendLoadedValue(0x8000_0000n, s(4, true, true))).toBe(0xffff_ffff_8000_0000n);
    expect(extendLoadedValue(0x7fn, s(1, true, true))).toBe(0x7fn);
  });
  it("sign-extends to 32 bits and clears the upper half for a W register", () => {
    expect(extendLoadedValue(0x8001n, s(2, true, false))).toBe(0xffff_8001n);
    expect(extendLoadedValue(0xffff_ffff_ffff_ffffn, s(8, false, false))).toBe(0xffff_ffffn);
  });
});

describe("emulateDataAbort", () => {
  it("writes the low bytes of Rt for every size at every byte lane", () => {
    for (const size of [1, 2, 4, 8] as const) {
      for (let lane = 0; lane < 8; lane++) {
        const { regions, device, regs } = setup();
        regs.setX(5, 0x8877_6655_4433_2211n);
        const esr = dataAbortEsr({ size, srt: 5, write: true });
        const outcome = emulateDataAbort(regions, { vcpuId: 0, regs, ipa: 0x5000_0008 + lane, esr });
        expect(outcome.kind).toBe("emulated");
        const expected = 0x8877_6655_4433_2211n & ((1n << BigInt(size * 8)) - 1n);
        expect(device.log).toEqual([`w0:${8 + lane}:${size}:${expected.toString(16)}`]);
        expect(Array.from(device.bytes.slice(8 + lane, 8 + lane + size))).toEqual(
          [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88].slice(0, size),
        );
        expect(device.bytes[8 + lane - 1]).toBe(0);
        expect(device.bytes[8 + lane + size]).toBe(0);
        expect(regs.pc).toBe(0xffff_8000_1000_0004n);
      }
    }
  });

  it("stores zero from XZR (SRT 31)", () => {
    const { regions, device, regs } = setup();
    device.bytes.fill(0xaa);
    const outcome = emulateDataAbort(regions, {
      vcpuId: 1,
      regs,
      ipa: 0x5000_0000,
      esr: dataAbortEsr({ size: 4, srt: 31, write: true }),
    });
    expect(outcome.kind).toBe("emulated");
    expect(device.log).toEqual(["w1:0:4:0"]);
  });

  it("discards a load into XZR but still performs the read and advances the PC", () => {
    const { regions, device, regs } = setup();
    const outcome = emulateDataAbort(regions, {
      vcpuId: 0,
      regs,
      ipa: 0x5000_0010,
      esr: dataAbortEsr({ size: 4, srt: 31, write: false }),
    });
    expect(outcome.kind).toBe("emulated");
    expect(device.log).toEqual(["r0:16:4"]);
    expect(regs.x.every((v) => v === 0n)).toBe(true);
    expect(regs.pc).toBe(0xffff_8000_1000_0004n);
  });

  it("replaces the whole destination register on a load (no stale upper bits)", () => {
    const { regions, device, regs } = setup();
    device.bytes.set([0x80, 0x91], 4);
    regs.setX(3, 0xdead_beef_dead_beefn);
    emulateDataAbort(regions, {
      vcpuId: 0,
      regs,
      ipa: 0x5000_0004,
      esr: dataAbortEsr({ size: 1, srt: 3, write: false }),
    });
    expect(regs.getX(3)).toBe(0x80n);
    emulateDataAbort(regions, {
      vcpuId: 0,
      regs,
      ipa: 0x5000_0004,
      esr: dataAbortEsr({ size: 2, sse: true, sf: false, srt: 3, write: false }),
    });
    expect(regs.getX(3)).toBe(0xffff_9180n);
    emulateDataAbort(regions, {
      vcpuId: 0,
      regs,
      ipa: 0x5000_0004,
      esr: dataAbortEsr({ size: 2, sse: true, sf: true, srt: 3, write: false }),
    });
    expect(regs.getX(3)).toBe(0xffff_ffff_ffff_9180n);
  });

  it("leaves registers and PC alone when there is no handler", () => {
    const { regions, regs } = setup();
    regs.setX(1, 7n);
    const outcome = emulateDataAbort(regions, {
      vcpuId: 0,
      regs,
      ipa: 0x6000_0000,
      esr: dataAbortEsr({ size: 4, srt: 1, write: false }),
    });
    expect(outcome.kind).toBe("no-handler");
    expect(regs.getX(1)).toBe(7n);
    expect(regs.pc).toBe(0xffff_8000_1000_0000n);
  });

  it("does not emulate an access without a valid syndrome (ISV = 0)", () => {
    const { regions, device, regs } = setup();
    const outcome = emulateDataAbort(regions, {
      vcpuId: 0,
      regs,
      ipa: 0x5000_0000,
      esr: dataAbortEsr({ isv: false, size: 1, srt: 0, write: true }),
    });
    expect(outcome).toMatchObject({ kind: "no-syndrome", region: { name: "dev" } });
    expect(device.log).toEqual([]);
    expect(regs.pc).toBe(0xffff_8000_1000_0000n);
  });

  it("rejects an access that runs past the end of the region", () => {
    const { regions, regs } = setup();
    const outcome = emulateDataAbort(regions, {
      vcpuId: 0,
      regs,
      ipa: 0x5000_003c,
      esr: dataAbortEsr({ size: 8, srt: 0, write: false }),
    });
    expect(outcome).toMatchObject({
      kind: "rejected",
      reason: "the 8-byte access at 0x5000003c runs past the end of 'dev' [0x50000000..0x50000040)",
    });
    expect(regs.pc).toBe(0xffff_8000_1000_0000n);
  });

  it("turns a handler's GuestAccessError into a rejected outcome and rethrows anything else", () => {
    const regions = new MmioRegions();
    const regs = new FakeRegisters();
    regions.register("picky", 0x1000, 0x100, {
      read: () => {
        throw new GuestAccessError("halfword reads are not allowed here");
      },
      write: () => {
        throw new TypeError("bug");
      },
    });
    expect(
      emulateDataAbort(regions, {
        vcpuId: 0,
        regs,
        ipa: 0x1000,
        esr: dataAbortEsr({ size: 2, srt: 0, write: false }),
      }),
    ).toMatchObject({ kind: "rejected", reason: "halfword reads are not allowed here" });
    expect(() =>
      emulateDataAbort(regions, {
        vcpuId: 0,
        regs,
        ipa: 0x1000,
        esr: dataAbortEsr({ size: 2, srt: 0, write: true }),
      }),
    ).toThrow("bug");
    expect(regs.pc).toBe(0n);
  });
});

describe("MmioRegions", () => {
  const nop: MmioDevice = { read: () => 0n, write: () => undefined };
  it("rejects overlapping ranges, naming both", () => {
    const regions = new MmioRegions();
    regions.register("vgic", 0x800_0000, 0x1000, nop);
    regions.register("virtio", 0x800_1000, 0x200, nop);
    expect(() => regions.register("uart", 0x800_0ff0, 0x20, nop)).toThrow(
      "cannot register 'uart' at [0x8000ff0..0x8001010): it overlaps 'vgic' at [0x8000000..0x8001000); " +
        "give each emulated device its own guest-physical range",
    );
    expect(() => regions.register("big", 0x7ff_0000, 0x2_0000, nop)).toThrow("it overlaps 'vgic'");
    expect(regions.find(0x800_0fff)?.name).toBe("vgic");
    expect(regions.find(0x800_1000)?.name).toBe("virtio");
    expect(regions.find(0x800_1200)).toBeUndefined();
  });
  it("rejects empty or negative ranges", () => {
    expect(() => new MmioRegions().register("x", 0x1000, 0, nop)).toThrow(
      "cannot register 'x': base 0x1000 and size 0x0 must be non-negative integers and the size non-zero",
    );
  });
});
