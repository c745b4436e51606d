// A PD's ELF file as the Microkit tool reads it: loadable segments, the entry point, the symbol
// table (for setvars, the IPC buffer and fault reports) and section contents (for DWARF lines).

export class ElfFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ElfFormatError";
  }
}

const ELF_MAGIC = 0x464c457f;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const EM_AARCH64 = 183;
const PT_LOAD = 1;
const SHT_SYMTAB = 2;
const STT_FUNC = 2;
const STT_OBJECT = 1;

export interface ElfSegment {
  vaddr: number;
  memsz: number;
  /** The bytes in the file (p_filesz of them); the rest of memsz is zero. */
  data: Uint8Array;
  read: boolean;
  write: boolean;
  execute: boolean;
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  kind: "func" | "object" | "other";
}

/** True when the bytes start like an ELF file (how a program_image is told from a TypeScript module). */
export function isElf(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === ELF_MAGIC
  );
}

export class ElfFile {
  readonly entry: number;
  readonly segments: readonly ElfSegment[];
  readonly symbols: ReadonlyMap<string, ElfSymbol>;
  private readonly sections = new Map<string, Uint8Array>();
  private readonly functions: ElfSymbol[];

  constructor(
    readonly bytes: Uint8Array,
    readonly path: string,
  ) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (!isElf(bytes)) throw new ElfFormatError(`${path} is not an ELF file`);
    if (bytes[4] !== ELFCLASS64 || bytes[5] !== ELFDATA2LSB) {
      throw new ElfFormatError(`${path} is not a 64-bit little-endian ELF file`);
    }
    const machine = dv.getUint16(18, true);
    if (machine !== EM_AARCH64) {
      throw new ElfFormatError(
        `${path} is for ELF machine ${machine}, not AArch64 (183): build it with aarch64-linux-gnu-gcc`,
      );
    }
    this.entry = Number(dv.getBigUint64(24, true));
    const phoff = Number(dv.getBigUint64(32, true));
    const shoff = Number(dv.getBigUint64(40, true));
    const phentsize = dv.getUint16(54, true);
    const phnum = dv.getUint16(56, true);
    const shentsize = dv.getUint16(58, true);
    const shnum = dv.getUint16(60, true);
    const shstrndx = dv.getUint16(62, true);
    const segments: ElfSegment[] = [];
    for (let i = 0; i < phnum; i++) {
      const at = phoff + i * phentsize;
      if (dv.getUint32(at, true) !== PT_LOAD) continue;
      const flags = dv.getUint32(at + 4, true);
      const offset = Number(dv.getBigUint64(at + 8, true));
      const filesz = Number(dv.getBigUint64(at + 32, true));
      const memsz = Number(dv.getBigUint64(at + 40, true));
      if (offset + filesz > bytes.length)
        throw new ElfFormatError(`${path}: segment ${i} runs past the file`);
      segments.push({
        vaddr: Number(dv.getBigUint64(at + 16, true)),
        memsz,
        data: bytes.subarray(offset, offset + filesz),
        read: (flags & 4) !== 0,
        write: (flags & 2) !== 0,
        execute: (flags & 1) !== 0,
      });
    }
    this.segments = segments;
    const headers = Array.from({ length: shnum }, (_, i) => {
      const at = shoff + i * shentsize;
      return {
        name: dv.getUint32(at, true),
        type: dv.getUint32(at + 4, true),
        offset: Number(dv.getBigUint64(at + 24, true)),
        size: Number(dv.getBigUint64(at + 32, true)),
        link: dv.getUint32(at + 40, true),
        entsize: Number(dv.getBigUint64(at + 56, true)),
      };
    });
    const names = headers[shstrndx];
    const text = new TextDecoder();
    const cString = (table: { offset: number; size: number }, at: number): string => {
      let end = table.offset + at;
      while (end < table.offset + table.size && bytes[end] !== 0) end++;
      return text.decode(bytes.subarray(table.offset + at, end));
    };
    const symbols = new Map<string, ElfSymbol>();
    for (const header of headers) {
      if (names)
        this.sections.set(
          cString(names, header.name),
          bytes.subarray(header.offset, header.offset + header.size),
        );
      if (header.type !== SHT_SYMTAB) continue;
      const strtab = headers[header.link]!;
      for (let at = header.offset; at + 24 <= header.offset + header.size; at += header.entsize || 24) {
        const name = cString(strtab, dv.getUint32(at, true));
        const type = bytes[at + 4]! & 0xf;
        if (!name) continue;
        symbols.set(name, {
          name,
          value: Number(dv.getBigUint64(at + 8, true)),
          size: Number(dv.getBigUint64(at + 16, true)),
          kind: type === STT_FUNC ? "func" : type === STT_OBJECT ? "object" : "other",
        });
      }
    }
    this.symbols = symbols;
    this.functions = [...symbols.values()].filter((s) => s.kind === "func").sort((a, b) => a.value - b.value);
  }

  section(name: string): Uint8Array | undefined {
    return this.sections.get(name);
  }

  /** The function containing `address`, with the offset into it (`name+0x1c`). */
  functionAt(address: number): { name: string; offset: number } | undefined {
    const fn = this.functions.find((f) => address >= f.value && address < f.value + Math.max(f.size, 1));
    return fn && { name: fn.name, offset: address - fn.value };
  }
}
