// Just enough ELF64 to check what a binary is for (busybox must be AArch64, not the host's x86-64) and
// to read a kernel module's .modinfo section (its name and the modules it depends on).

export const EM_AARCH64 = 183;
const EM_NAMES: Record<number, string> = { 3: "i386", 40: "ARM (32-bit)", 62: "x86-64", 183: "AArch64" };

export class ElfError extends Error {}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkElf64(bytes: Uint8Array, source: string): void {
  if (bytes.length < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError(`${source}: not an ELF file`);
  }
  if (bytes[4] !== 2 || bytes[5] !== 1) throw new ElfError(`${source}: not a little-endian 64-bit ELF file`);
}

/** Throws unless the ELF file is for AArch64, naming the machine it is for. */
export function checkAarch64Elf(bytes: Uint8Array, source: string): void {
  checkElf64(bytes, source);
  const machine = view(bytes).getUint16(18, true);
  if (machine !== EM_AARCH64) {
    throw new ElfError(
      `${source}: built for ${EM_NAMES[machine] ?? `ELF machine ${machine}`}, but the guest needs AArch64 ` +
        `(the package must be the arm64 one, e.g. busybox-static:arm64)`,
    );
  }
}

/** The contents of the named section, or undefined when the file has none. */
export function elfSection(bytes: Uint8Array, name: string, source: string): Uint8Array | undefined {
  checkElf64(bytes, source);
  const v = view(bytes);
  const shoff = Number(v.getBigUint64(0x28, true));
  const shentsize = v.getUint16(0x3a, true);
  const shnum = v.getUint16(0x3c, true);
  const shstrndx = v.getUint16(0x3e, true);
  const header = (i: number): { name: number; offset: number; size: number } => {
    const at = shoff + i * shentsize;
    if (at + 0x28 > bytes.length) throw new ElfError(`${source}: section header ${i} lies outside the file`);
    return {
      name: v.getUint32(at, true),
      offset: Number(v.getBigUint64(at + 0x18, true)),
      size: Number(v.getBigUint64(at + 0x20, true)),
    };
  };
  const names = header(shstrndx);
  const decoder = new TextDecoder();
  for (let i = 0; i < shnum; i++) {
    const section = header(i);
    const start = names.offset + section.name;
    const end = bytes.indexOf(0, start);
    if (decoder.decode(bytes.subarray(start, end)) === name) {
      return bytes.subarray(section.offset, section.offset + section.size);
    }
  }
  return undefined;
}
