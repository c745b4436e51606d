// The arm64 Linux Image header (Documentation/arch/arm64/booting.rst): what a VMM needs to place the
// kernel (text_offset) and to know how much RAM it covers (image_size, which includes the BSS).
import { gunzipSync } from "node:zlib";

export const ARM64_IMAGE_MAGIC = 0x644d5241; // "ARM\x64", little-endian, at offset 56
export const ARM64_IMAGE_HEADER_SIZE = 64;
const MAGIC_OFFSET = 56;
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
}

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
  const textOffset = view.getBigUint64(8, true);
  const imageSize = view.getBigUint64(16, true);
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

/** Accepts a raw or gzip-compressed arm64 Image and returns it raw, with its checked header. */
export function loadArm64Image(bytes: Uint8Array, source: string): Arm64Image {
  if (!isGzip(bytes)) return { header: parseArm64ImageHeader(bytes, source), bytes, wasCompressed: false };
  let raw: Uint8Array;
  try {
    const inflated = gunzipSync(bytes);
    raw = new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.length);
  } catch (err) {
    throw new KernelImageError(`${source}: gzip data that does not decompress: ${(err as Error).message}`);
  }
  return { header: parseArm64ImageHeader(raw, `${source} (after gunzip)`), bytes: raw, wasCompressed: true };
}
