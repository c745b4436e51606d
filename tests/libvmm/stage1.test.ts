import { describe, expect, it } from "vitest";
import { GuestRam } from "../../src/libvmm/guest-ram.ts";
import {
  guestInstructionReader,
  translateGuestVirtual,
  type Stage1Register,
} from "../../src/libvmm/stage1.ts";

const RAM_BASE = 0x4000_0000;

/** Guest RAM with 4 KiB-granule tables: TTBR1 (T1SZ 16, 4 levels) maps a kernel page and a 2 MiB block. */
function setup() {
  const bytes = new Uint8Array(0x80_0000);
  const ram = new GuestRam([{ gpa: RAM_BASE, bytes }]);
  const view = new DataView(bytes.buffer);
  const put = (tableGpa: number, index: number, value: bigint) =>
    view.setBigUint64(tableGpa - RAM_BASE + index * 8, value, true);
  const [l0, l1, l2, l3] = [0x4010_0000, 0x4010_1000, 0x4010_2000, 0x4010_3000];
  const va = 0xffff_8000_1020_3456n;
  const idx = (level: number) => Number((va >> BigInt(12 + 9 * (3 - level))) & 0x1ffn);
  put(l0, idx(0), BigInt(l1) | 3n);
  put(l1, idx(1), BigInt(l2) | 3n);
  put(l2, idx(2), BigInt(l3) | 3n);
  put(l3, idx(3), 0x4030_0000n | 0x703n); // page, AF and attributes set
  put(l2, idx(2) + 1, 0x4060_0000n | 0x701n); // the next 2 MiB: a block
  view.setUint32(0x30_0000 + 0x456, 0xd503207f, true); // wfi, at the page's offset
  const registers: Record<Stage1Register, bigint> = {
    SCTLR_EL1: 0x30d0_0801n,
    TCR_EL1: (2n << 30n) | (16n << 16n) | 16n, // TG1 4K, T1SZ 16, T0SZ 16
    TTBR0_EL1: 0n,
    TTBR1_EL1: BigInt(l0),
  };
  return { ram, registers, va };
}

describe("translateGuestVirtual", () => {
  it("walks four levels to a page and three to a 2 MiB block", () => {
    const { ram, registers, va } = setup();
    const read = (n: Stage1Register) => registers[n];
    expect(translateGuestVirtual(ram, read, va)).toBe(0x4030_0456n);
    expect(translateGuestVirtual(ram, read, va + 0x20_0000n - 0x3456n + 0x1_2345n)).toBe(0x4061_2345n);
  });

  it("returns guest-physical addresses unchanged with the MMU off", () => {
    const { ram, registers } = setup();
    const read = (n: Stage1Register) => (n === "SCTLR_EL1" ? 0x30d0_0800n : registers[n]);
    expect(translateGuestVirtual(ram, read, 0x4008_0000n)).toBe(0x4008_0000n);
  });

  it("gives up on unmapped addresses, non-canonical ones and other granules", () => {
    const { ram, registers, va } = setup();
    const read = (n: Stage1Register) => registers[n];
    expect(translateGuestVirtual(ram, read, va + 0x40_0000n)).toBeUndefined();
    expect(translateGuestVirtual(ram, read, 0x0001_0000_0000_0000n)).toBeUndefined();
    expect(translateGuestVirtual(ram, read, 0x1000n)).toBeUndefined(); // TTBR0 points at no table
    const granule64k = (n: Stage1Register) => (n === "TCR_EL1" ? (3n << 30n) | (16n << 16n) : registers[n]);
    expect(translateGuestVirtual(ram, granule64k, va)).toBeUndefined();
  });
});

describe("guestInstructionReader", () => {
  it("reads the instruction at a kernel virtual PC", () => {
    const { ram, registers, va } = setup();
    const read = guestInstructionReader(ram, (_vcpu, n) => registers[n]);
    expect(read(0, va)).toBe(0xd503207f);
    expect(read(0, va + 0x40_0000n)).toBeUndefined();
  });
});
