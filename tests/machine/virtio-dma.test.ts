// DeviceDma over the board's RAM and over a VMM's regions of guest RAM: the same checks, and accesses that
// cross from one region into an adjacent one.
import { describe, expect, it } from "vitest";
import { DeviceDma, DmaRangeError } from "../../src/machine/devices/virtio/dma.ts";
import { PhysicalMemory } from "../../src/machine/physical-memory.ts";

describe("DeviceDma", () => {
  it("reaches the board's RAM by physical address", () => {
    const memory = new PhysicalMemory({ ramBase: 0x4000_0000, ramSize: 0x10000, reservedForCore: 0 });
    const dma = new DeviceDma(memory);
    dma.setU32(0x4000_0010, 0x1234_5678);
    expect(memory.ram[0x10]).toBe(0x78);
    expect(dma.u16(0x4000_0012)).toBe(0x1234);
    expect(dma.isRam(0x4000_fff8, 8)).toBe(true);
    expect(dma.isRam(0x4000_fff8, 9)).toBe(false);
    expect(dma.isRam(0x3fff_ffff, 1)).toBe(false);
    expect(() => dma.u32(0x4001_0000)).toThrow(DmaRangeError);
    expect(dma.describeRam()).toBe("[0x40000000, 0x40010000)");
  });

  it("reaches regions of guest RAM (a VMM's mappings) by guest-physical address", () => {
    const low = new Uint8Array(0x1000);
    const high = new Uint8Array(0x1000);
    const dma = new DeviceDma({
      regions: [
        { gpa: 0x8000_1000, bytes: high },
        { gpa: 0x8000_0000, bytes: low },
      ],
    });
    dma.setU16(0x8000_0002, 0xbeef);
    expect(low[2]).toBe(0xef);
    expect(dma.isRam(0x8000_0000, 0x2000)).toBe(true);
    expect(dma.isRam(0x8000_0000, 0x2001)).toBe(false);
    // A u32, a u64 and a copy that straddle the two regions.
    dma.setU32(0x8000_0ffe, 0xa1b2_c3d4);
    expect([low[0xffe], low[0xfff], high[0], high[1]]).toEqual([0xd4, 0xc3, 0xb2, 0xa1]);
    expect(dma.u32(0x8000_0ffe)).toBe(0xa1b2_c3d4);
    dma.write(0x8000_0ffc, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    expect(dma.u64(0x8000_0ffc)).toBe(0x0403_0201 + 0x0807_0605 * 0x1_0000_0000);
    const back = new Uint8Array(8);
    dma.read(0x8000_0ffc, back);
    expect(Array.from(back)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(dma.describeRam()).toBe("[0x80000000, 0x80001000), [0x80001000, 0x80002000)");
  });

  it("refuses ranges with a gap, negative or unsafe numbers, and checks a whole copy before moving a byte", () => {
    const a = new Uint8Array(0x100);
    const b = new Uint8Array(0x100);
    const dma = new DeviceDma({
      regions: [
        { gpa: 0x1000, bytes: a },
        { gpa: 0x1200, bytes: b },
      ],
    });
    expect(dma.isRam(0x10f0, 0x20)).toBe(false);
    expect(dma.isRam(-1, 1)).toBe(false);
    expect(dma.isRam(0x1000, -1)).toBe(false);
    expect(dma.isRam(2 ** 60, 1)).toBe(false);
    expect(dma.isRam(4096.5, 1)).toBe(false);
    expect(() => dma.write(0x10f0, new Uint8Array(0x20).fill(9))).toThrow(DmaRangeError);
    expect(a.every((x) => x === 0)).toBe(true);
    expect(() => new DeviceDma({ regions: [] })).toThrow(/at least one RAM region/);
  });
});
