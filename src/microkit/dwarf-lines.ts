// The DWARF line table (.debug_line, versions 2–5) of a PD's ELF, read to name the source line of a
// faulting instruction, as a debugger would: file:line for a PC.

interface Row {
  address: number;
  file: string;
  line: number;
}

interface Sequence {
  start: number;
  end: number;
  rows: Row[];
}

// Line-number program opcodes and entry formats (DWARF 5, section 6.2).
const DW_LNS_copy = 1;
const DW_LNS_advance_pc = 2;
const DW_LNS_advance_line = 3;
const DW_LNS_set_file = 4;
const DW_LNS_const_add_pc = 8;
const DW_LNS_fixed_advance_pc = 9;
const DW_LNE_end_sequence = 1;
const DW_LNE_set_address = 2;
const DW_LNCT_path = 1;
const DW_LNCT_directory_index = 2;
const DW_FORM = {
  block: 0x09,
  data1: 0x0b,
  data2: 0x05,
  data4: 0x06,
  data8: 0x07,
  data16: 0x1e,
  string: 0x08,
  strp: 0x0e,
  udata: 0x0f,
  line_strp: 0x1f,
} as const;

class Reader {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    public at = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u8(): number {
    return this.view.getUint8(this.at++);
  }
  i8(): number {
    return this.view.getInt8(this.at++);
  }
  u16(): number {
    const v = this.view.getUint16(this.at, true);
    this.at += 2;
    return v;
  }
  u32(): number {
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }
  u64(): number {
    const v = Number(this.view.getBigUint64(this.at, true));
    this.at += 8;
    return v;
  }
  uleb(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const byte = this.u8();
      result += (byte & 0x7f) * scale;
      scale *= 128;
      if ((byte & 0x80) === 0) return result;
    }
  }
  sleb(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const byte = this.u8();
      result += (byte & 0x7f) * scale;
      scale *= 128;
      if ((byte & 0x80) === 0) return byte & 0x40 ? result - scale : result;
    }
  }
  cString(): string {
    const start = this.at;
    while (this.bytes[this.at] !== 0) this.at++;
    return new TextDecoder().decode(this.bytes.subarray(start, this.at++));
  }
}

function stringAt(section: Uint8Array | undefined, offset: number): string {
  if (!section) return "?";
  return new Reader(section, offset).cString();
}

/** The line table of one ELF, answering "which source line holds this address". */
export class LineTable {
  private readonly sequences: Sequence[] = [];

  constructor(debugLine: Uint8Array, sections: { lineStr?: Uint8Array; str?: Uint8Array }) {
    const reader = new Reader(debugLine);
    while (reader.at < debugLine.length) {
      let length = reader.u32();
      const offsetSize = length === 0xffff_ffff ? 8 : 4;
      if (offsetSize === 8) length = reader.u64();
      const end = reader.at + length;
      this.readUnit(reader, end, offsetSize, sections);
      reader.at = end;
    }
  }

  /** `file:line` of the instruction at `address`, or undefined when no sequence covers it. */
  lookup(address: number): string | undefined {
    const sequence = this.sequences.find((s) => address >= s.start && address < s.end);
    if (!sequence) return undefined;
    let best: Row | undefined;
    for (const row of sequence.rows) if (row.address <= address) best = row;
    return best && `${best.file.split("/").pop()}:${best.line}`;
  }

  private readUnit(
    r: Reader,
    end: number,
    offsetSize: number,
    sections: { lineStr?: Uint8Array; str?: Uint8Array },
  ): void {
    const version = r.u16();
    if (version < 2 || version > 5) return;
    if (version >= 5) r.at += 2; // address_size, segment_selector_size
    const headerLength = offsetSize === 8 ? r.u64() : r.u32();
    const programStart = r.at + headerLength;
    const minInstructionLength = r.u8();
    if (version >= 4) r.u8(); // maximum_operations_per_instruction
    r.u8(); // default_is_stmt
    const lineBase = r.i8();
    const lineRange = r.u8();
    const opcodeBase = r.u8();
    const opcodeLengths = Array.from({ length: opcodeBase - 1 }, () => r.u8());
    const files = version >= 5 ? this.filesV5(r, offsetSize, sections) : this.filesV4(r);
    r.at = programStart;

    let address = 0;
    let file = version >= 5 ? 0 : 1;
    let line = 1;
    let rows: Row[] = [];
    const emit = (): void => void rows.push({ address, file: files[file] ?? "?", line });
    while (r.at < end) {
      const opcode = r.u8();
      if (opcode >= opcodeBase) {
        const adjusted = opcode - opcodeBase;
        address += Math.floor(adjusted / lineRange) * minInstructionLength;
        line += lineBase + (adjusted % lineRange);
        emit();
      } else if (opcode === 0) {
        const length = r.uleb();
        const next = r.at + length;
        const sub = r.u8();
        if (sub === DW_LNE_end_sequence) {
          if (rows.length > 0) this.sequences.push({ start: rows[0]!.address, end: address, rows });
          rows = [];
          address = 0;
          file = version >= 5 ? 0 : 1;
          line = 1;
        } else if (sub === DW_LNE_set_address) {
          address = length - 1 === 8 ? r.u64() : r.u32();
        }
        r.at = next;
      } else if (opcode === DW_LNS_copy) {
        emit();
      } else if (opcode === DW_LNS_advance_pc) {
        address += r.uleb() * minInstructionLength;
      } else if (opcode === DW_LNS_advance_line) {
        line += r.sleb();
      } else if (opcode === DW_LNS_set_file) {
        file = r.uleb();
      } else if (opcode === DW_LNS_const_add_pc) {
        address += Math.floor((255 - opcodeBase) / lineRange) * minInstructionLength;
      } else if (opcode === DW_LNS_fixed_advance_pc) {
        address += r.u16();
      } else {
        for (let i = 0; i < opcodeLengths[opcode - 1]!; i++) r.uleb();
      }
    }
  }

  private filesV4(r: Reader): string[] {
    const directories = [""];
    for (let dir = r.cString(); dir !== ""; dir = r.cString()) directories.push(dir);
    const files = [""];
    for (let name = r.cString(); name !== ""; name = r.cString()) {
      const dir = r.uleb();
      r.uleb(); // modification time
      r.uleb(); // length
      files.push(name.startsWith("/") || !directories[dir] ? name : `${directories[dir]}/${name}`);
    }
    return files;
  }

  private filesV5(
    r: Reader,
    offsetSize: number,
    sections: { lineStr?: Uint8Array; str?: Uint8Array },
  ): string[] {
    const entries = (): { path: string; directory: number }[] => {
      const formats = Array.from({ length: r.u8() }, () => ({ type: r.uleb(), form: r.uleb() }));
      return Array.from({ length: r.uleb() }, () => {
        const entry = { path: "", directory: 0 };
        for (const { type, form } of formats) {
          const value = this.attribute(r, form, offsetSize, sections);
          if (type === DW_LNCT_path) entry.path = String(value);
          if (type === DW_LNCT_directory_index) entry.directory = Number(value);
        }
        return entry;
      });
    };
    const directories = entries().map((d) => d.path);
    return entries().map((f) =>
      f.path.startsWith("/") ? f.path : `${directories[f.directory] ?? ""}/${f.path}`,
    );
  }

  private attribute(
    r: Reader,
    form: number,
    offsetSize: number,
    sections: { lineStr?: Uint8Array; str?: Uint8Array },
  ): string | number {
    const offset = (): number => (offsetSize === 8 ? r.u64() : r.u32());
    switch (form) {
      case DW_FORM.string:
        return r.cString();
      case DW_FORM.line_strp:
        return stringAt(sections.lineStr, offset());
      case DW_FORM.strp:
        return stringAt(sections.str, offset());
      case DW_FORM.udata:
        return r.uleb();
      case DW_FORM.data1:
        return r.u8();
      case DW_FORM.data2:
        return r.u16();
      case DW_FORM.data4:
        return r.u32();
      case DW_FORM.data8:
        return r.u64();
      case DW_FORM.data16:
        r.at += 16;
        return 0;
      case DW_FORM.block:
        r.at += r.uleb();
        return 0;
      default:
        throw new Error(`DWARF line table: form ${form} is not one a file entry uses`);
    }
  }
}
