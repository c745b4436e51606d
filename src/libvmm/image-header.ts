// The arm64 Linux Image header (Documentation/arch/arm64/booting.rst): what a VMM needs to place the
// kernel (text_offset) and to know how much RAM it covers (image_size, which includes the BSS). A file
// without the header is a raw binary, loaded where QEMU loads one.
import { gunzipSync } from "node:zlib";

export const ARM64_IMAGE_MAGIC = 0x644d5241; // "ARM\x64", little-endian, at offset 56
export const ARM64_IMAGE_HEADER_SIZE = 64;
export const MAGIC_OFFSET = 56;
/** Where the header keeps text_offset and image_size (64-bit little-endian). */
export const TEXT_OFFSET_FIELD = 8;
export const IMAGE_SIZE_FIELD = 16;
const TWO_MIB = 0x20_0000;
const FLAG_BIG_ENDIAN = 1n;

export class KernelImageError extends Error {}

export interface Arm64ImageHeader {
  /** Where the Image goes relative to a 2 MiB-aligned RAM base. */
  textOffset: number;
  /** Bytes of RAM the kernel occupies from its load address, BSS included. */
  imageSize: number;
  /** Page size the kernel was built for, in bytes, or undefined when the header does not say. */
  pageSize: number | undefined;
}

export interface Arm64Image {
  header: Arm64ImageHeader;
  /** The raw (decompressed) Image. */
  bytes: Uint8Array;
  /** The input was gzip-compressed. */
  wasCompressed: boolean;
  /**
   * The file has no arm64 Image header: like QEMU's -kernel, it is loaded as a raw binary at RAM base
   * + 0x80000 and entered at its first byte, with no BSS beyond the file.
   */
  rawBinary: boolean;
}

/** Where QEMU's arm64 boot loader puts a raw binary: RAM base + 512 KiB (hw/arm/boot.c's KERNEL64_LOAD_ADDR). */
export const RAW_BINARY_OFFSET = 0x8_0000;
const ELF_MAGIC = 0x464c457f; // "\x7fELF", little-endian

const PAGE_SIZES = [undefined, 4096, 16384, 65536] as const;

/** Reads and checks the 64-byte header of a raw arm64 Image; `source` names the file in errors. */
export function parseArm64ImageHeader(bytes: Uint8Array, source: string): Arm64ImageHeader {
  if (bytes.length < ARM64_IMAGE_HEADER_SIZE) {
    throw new KernelImageError(
      `${source}: ${bytes.length} bytes is too short for an arm64 Image (its header alone is 64 bytes)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(MAGIC_OFFSET, true);
  if (magic !== ARM64_IMAGE_MAGIC) {
    throw new KernelImageError(
      `${source}: not an arm64 Linux Image: the magic at offset 56 is 0x${magic.toString(16).padStart(8, "0")}, ` +
        `expected 0x644d5241 ("ARM\\x64"). Pass the kernel's arch/arm64/boot/Image (raw or gzip-compressed), ` +
        `not vmlinux or a zImage`,
    );
  }
  const textOffset = view.getBigUint64(TEXT_OFFSET_FIELD, true);
  const imageSize = view.getBigUint64(IMAGE_SIZE_FIELD, true);
  const flags = view.getBigUint64(24, true);
  if (textOffset % 4096n !== 0n || textOffset >= BigInt(TWO_MIB)) {
    throw new KernelImageError(
      `${source}: text_offset 0x${textOffset.toString(16)} is not a 4 KiB-aligned offset below 2 MiB; ` +
        `the header is corrupt`,
    );
  }
  if (imageSize === 0n) {
    throw new KernelImageError(
      `${source}: image_size is 0, so the kernel is older than Linux 3.17 and does not say how much RAM it ` +
        `needs; use a newer kernel`,
    );
  }
  if (imageSize < BigInt(ARM64_IMAGE_HEADER_SIZE) || imageSize > 0x1_0000_0000n) {
    throw new KernelImageError(
      `${source}: image_size 0x${imageSize.toString(16)} is implausible; the header is corrupt`,
    );
  }
  if ((flags & FLAG_BIG_ENDIAN) !== 0n) {
    throw new KernelImageError(`${source}: the kernel is big-endian; virtkit's guests are little-endian`);
  }
  return {
    textOffset: Number(textOffset),
    imageSize: Number(imageSize),
    pageSize: PAGE_SIZES[Number((flags >> 1n) & 3n)],
  };
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function hasImageMagic(bytes: Uint8Array): boolean {
  return (
    bytes.length >= ARM64_IMAGE_HEADER_SIZE &&
    new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MAGIC_OFFSET, true) ===
      ARM64_IMAGE_MAGIC
  );
}

function isElf(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === ELF_MAGIC
  );
}

/**
 * Accepts an arm64 Image, raw or gzip-compressed, and returns it uncompressed with its checked header.
 * A file with neither the header nor gzip's magic is a raw binary (as QEMU loads one); an ELF file
 * (vmlinux) or a gzip file without an Image inside is refused, since neither boots that way.
 */
export function loadArm64Image(bytes: Uint8Array, source: string): Arm64Image {
  if (!isGzip(bytes)) {
    if (hasImageMagic(bytes) || isElf(bytes)) {
      return { header: parseArm64ImageHeader(bytes, source), bytes, wasCompressed: false, rawBinary: false };
    }
    if (bytes.length === 0) throw new KernelImageError(`${source}: the kernel file is empty`);
    const header = { textOffset: RAW_BINARY_OFFSET, imageSize: bytes.length, pageSize: undefined };
    return { header, bytes, wasCompressed: false, rawBinary: true };
  }
  let raw: Uint8Array;
  try {
    const inflated = gunzipSync(bytes);
    raw = new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.length);
  } catch (err) {
    throw new KernelImageError(`${source}: gzip data that does not decompress: ${(err as Error).message}`);
  }
  const header = parseArm64ImageHeader(raw, `${source} (after gunzip)`);
  return { header, bytes: raw, wasCompressed: true, rawBinary: false };
}
