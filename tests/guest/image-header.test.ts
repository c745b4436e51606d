import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { loadArm64Image, parseArm64ImageHeader } from "../../src/libvmm/image-header.ts";

interface HeaderFields {
  textOffset?: bigint;
  imageSize?: bigint;
  flags?: bigint;
  magic?: number;
}

/** A synthetic Image: the 64-byte header as booting.rst lays it out, then some code bytes. */
function image(fields: HeaderFields = {}, length = 4096): Uint8Array {
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x91005a4d, true); // code0: the "MZ" of the EFI stub
  view.setBigUint64(8, fields.textOffset ?? 0n, true);
  view.setBigUint64(16, fields.imageSize ?? 0x46_0000n, true);
  view.setBigUint64(24, fields.flags ?? 0b1010n, true); // little-endian, 4 KiB pages, anywhere in RAM
  view.setUint32(56, fields.magic ?? 0x644d5241, true);
  return bytes;
}

describe("arm64 Image header", () => {
  it("reads text_offset, image_size and the page size", () => {
    expect(parseArm64ImageHeader(image({ textOffset: 0x80000n }), "Image")).toEqual({
      textOffset: 0x80000,
      imageSize: 0x46_0000,
      pageSize: 4096,
    });
  });

  it("accepts a gzip-compressed Image and returns it raw", () => {
    const raw = image();
    const loaded = loadArm64Image(gzipSync(raw), "Image.gz");
    expect(loaded.wasCompressed).toBe(true);
    expect(loaded.bytes).toEqual(raw);
    expect(loadArm64Image(raw, "Image").wasCompressed).toBe(false);
  });

  it("loads a file without the header as a raw binary at RAM base + 0x80000, as QEMU does", () => {
    const program = Uint8Array.of(0x1f, 0x20, 0x03, 0xd5, 0x00, 0x00, 0x00, 0x14); // nop; b .
    const loaded = loadArm64Image(program, "program.bin");
    expect(loaded).toEqual({
      header: { textOffset: 0x80000, imageSize: 8, pageSize: undefined },
      bytes: program,
      wasCompressed: false,
      rawBinary: true,
    });
    expect(loadArm64Image(image(), "Image").rawBinary).toBe(false);
    expect(() => loadArm64Image(new Uint8Array(0), "empty")).toThrow("empty: the kernel file is empty");
  });

  it("rejects files that are not arm64 Images, saying what is wrong", () => {
    const elf = new Uint8Array(40);
    elf.set([0x7f, 0x45, 0x4c, 0x46]);
    expect(() => loadArm64Image(elf, "tiny")).toThrow(/tiny: 40 bytes is too short for an arm64 Image/);
    const vmlinux = image({ magic: 0x464c457f });
    vmlinux.set([0x7f, 0x45, 0x4c, 0x46]);
    expect(() => loadArm64Image(vmlinux, "vmlinux")).toThrow(
      /vmlinux: not an arm64 Linux Image: the magic at offset 56 is 0x464c457f, expected 0x644d5241/,
    );
    expect(() => loadArm64Image(gzipSync(new Uint8Array(100)), "zeros.gz")).toThrow(
      /zeros.gz \(after gunzip\): not an arm64 Linux Image/,
    );
    expect(() => loadArm64Image(new Uint8Array([0x1f, 0x8b, 1, 2, 3]), "bad.gz")).toThrow(
      /bad.gz: gzip data that does not decompress/,
    );
  });

  it("rejects corrupt or unusable headers", () => {
    expect(() => parseArm64ImageHeader(image({ textOffset: 0x80010n }), "k")).toThrow(
      /text_offset 0x80010 is not a 4 KiB-aligned/,
    );
    expect(() => parseArm64ImageHeader(image({ textOffset: 0x200000n }), "k")).toThrow(/below 2 MiB/);
    expect(() => parseArm64ImageHeader(image({ imageSize: 0n }), "k")).toThrow(
      /image_size is 0, so the kernel is older than Linux 3.17/,
    );
    expect(() => parseArm64ImageHeader(image({ flags: 1n }), "k")).toThrow(/big-endian/);
  });
});
