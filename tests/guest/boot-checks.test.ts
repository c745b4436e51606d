import { describe, expect, it } from "vitest";
import { BootLayoutError, checkGuestBootImages, type GuestBootImages } from "../../src/libvmm/boot-checks.ts";
import { guestDtb } from "../../src/guest/dtb/guest-dtb.ts";
import { guestLayout } from "../../src/guest/layout.ts";
import { boardNamed } from "../../src/machine/boards/index.ts";

const SIMPLE_LAYOUT = guestLayout(boardNamed());

const INITRD_SIZE = 0x12_3456;
const header = { textOffset: 0, imageSize: 0x60_0000, pageSize: 4096 };

function simple(overrides: Partial<GuestBootImages> = {}): GuestBootImages {
  return {
    ram: [SIMPLE_LAYOUT.ram],
    kernel: { address: 0x4000_0000, header },
    dtb: { address: SIMPLE_LAYOUT.dtbAddress, bytes: guestDtb(SIMPLE_LAYOUT.deviceTree(INITRD_SIZE)) },
    initrd: { address: SIMPLE_LAYOUT.initrdAddress, size: INITRD_SIZE },
    ...overrides,
  };
}

function problems(images: GuestBootImages): string[] {
  try {
    checkGuestBootImages(images);
  } catch (err) {
    expect(err).toBeInstanceOf(BootLayoutError);
    return (err as BootLayoutError).problems;
  }
  return [];
}

describe("checks before a guest boots", () => {
  it("accepts libvmm's simple layout with a DTB describing the initrd", () => {
    expect(problems(simple())).toEqual([]);
  });

  it("says by how much the DTB's initrd range is too small, or where it points instead", () => {
    const small = guestDtb(SIMPLE_LAYOUT.deviceTree(INITRD_SIZE - 100));
    expect(problems(simple({ dtb: { address: 0x4f00_0000, bytes: small } }))).toEqual([
      `the DTB's /chosen initrd range 0x4d000000-0x4d1233f2 is 100 bytes (0x64) too small for the ${INITRD_SIZE}-byte initrd; Linux would see a truncated archive`,
    ]);
    expect(problems(simple({ initrd: { address: 0x4c00_0000, size: INITRD_SIZE } }))).toEqual([
      "the DTB's /chosen says the initrd starts at 0x4d000000 but it is loaded at 0x4c000000",
    ]);
    const none = guestDtb({ ...SIMPLE_LAYOUT.deviceTree(0), chosen: { bootargs: "" } });
    expect(problems(simple({ dtb: { address: 0x4f00_0000, bytes: none } }))[0]).toMatch(
      /has no linux,initrd-start\/end/,
    );
  });

  it("names overlapping images and the size of the overlap", () => {
    const big = { ...header, imageSize: 0x0d10_0000 };
    expect(problems(simple({ kernel: { address: 0x4000_0000, header: big } }))).toContain(
      "kernel (image_size) at 0x40000000-0x4d100000 and initrd at 0x4d000000-0x4d123456 overlap by 1048576 bytes (0x100000)",
    );
  });

  it("says how far an image runs past RAM, or that it starts outside it", () => {
    const atEnd = simple({
      dtb: { address: 0x4fff_ff00, bytes: guestDtb(SIMPLE_LAYOUT.deviceTree(INITRD_SIZE)) },
    });
    expect(problems(atEnd)[0]).toMatch(
      /^DTB at 0x4fffff00-0x5000\w+ runs \d+ bytes \(0x\w+\) past the end of RAM region 0x40000000-0x50000000$/,
    );
    expect(problems(simple({ kernel: { address: 0x6000_0000, header } }))).toContain(
      "kernel (image_size) at 0x60000000-0x60600000 starts outside guest RAM (0x40000000-0x50000000)",
    );
  });

  it("checks the DTB's magic, size and alignment and the kernel's placement", () => {
    const found = problems(
      simple({
        kernel: { address: 0x4008_0000, header },
        dtb: { address: 0x4f00_0004, bytes: new Uint8Array(0x20_0010) },
      }),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        "the DTB does not start with the magic 0xd00dfeed (found 0x0)",
        "the DTB is 2097168 bytes (0x200010), 16 bytes (0x10) over Linux's 2 MiB limit",
        "the DTB address 0x4f000004 is not 8-byte aligned (off by 4)",
        "the kernel at 0x40080000 must sit at a 2 MiB-aligned address plus its text_offset 0x0; it is 524288 bytes (0x80000) past one",
      ]),
    );
  });
});
