// A small WebAssembly binary encoder: just what translated blocks need (modules of block functions,
// imported memory and globals, i32/i64 integer code, structured control flow).

/** Opcodes of the WebAssembly 2.0 core instruction set that translated blocks use. */
export const Op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  return: 0x0f,
  call: 0x10,
  returnCall: 0x12,
  returnCallIndirect: 0x13,
  drop: 0x1a,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  globalGet: 0x23,
  globalSet: 0x24,
  i32Load: 0x28,
  i64Load: 0x29,
  i32Load16U: 0x2f,
  i64Load8S: 0x30,
  i64Load8U: 0x31,
  i64Load16S: 0x32,
  i64Load16U: 0x33,
  i64Load32S: 0x34,
  i64Load32U: 0x35,
  i32Store: 0x36,
  i64Store: 0x37,
  i64Store8: 0x3c,
  i64Store16: 0x3d,
  i64Store32: 0x3e,
  i32Const: 0x41,
  i64Const: 0x42,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32Ne: 0x47,
  i32LtU: 0x49,
  i32GtU: 0x4b,
  i64Eqz: 0x50,
  i64Eq: 0x51,
  i64Ne: 0x52,
  i64LtS: 0x53,
  i64LtU: 0x54,
  i64GtS: 0x55,
  i64GtU: 0x56,
  i64LeS: 0x57,
  i64LeU: 0x58,
  i64GeS: 0x59,
  i64GeU: 0x5a,
  i32Clz: 0x67,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  i32Or: 0x72,
  i32Shl: 0x74,
  i32ShrS: 0x75,
  i32ShrU: 0x76,
  i32Xor: 0x73,
  i64Clz: 0x79,
  i64Add: 0x7c,
  i64Sub: 0x7d,
  i64Mul: 0x7e,
  i64DivS: 0x7f,
  i64DivU: 0x80,
  i64And: 0x83,
  i64Or: 0x84,
  i64Xor: 0x85,
  i64Shl: 0x86,
  i64ShrS: 0x87,
  i64ShrU: 0x88,
  i64Rotr: 0x8a,
  i32WrapI64: 0xa7,
  i64ExtendI32U: 0xad,
  i64Extend8S: 0xc2,
  i64Extend16S: 0xc3,
  i64Extend32S: 0xc4,
} as const;

export const I32 = 0x7f;
export const I64 = 0x7e;
/** Block type of a structured instruction with no result. */
export const VOID = 0x40;

/** A growable byte buffer with the encodings the binary format uses. */
export class Bytes {
  private buf: Uint8Array<ArrayBuffer> = new Uint8Array(256);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    bigger.set(this.buf);
    this.buf = bigger;
  }

  byte(b: number): this {
    if (this.length === this.buf.length) this.reserve(1);
    this.buf[this.length++] = b;
    return this;
  }

  bytes(bs: Uint8Array | readonly number[]): this {
    this.reserve(bs.length);
    this.buf.set(bs, this.length);
    this.length += bs.length;
    return this;
  }

  /** A 32-bit integer as a 5-byte (padded) signed LEB128, to be overwritten by patchS32 later. */
  paddedS32(v: number): number {
    const at = this.length;
    this.reserve(5);
    this.length += 5;
    this.patchS32(at, v);
    return at;
  }

  patchS32(at: number, v: number): void {
    let x = v | 0;
    for (let i = 0; i < 5; i++) {
      this.buf[at + i] = (x & 0x7f) | (i < 4 ? 0x80 : 0);
      x >>= 7;
    }
  }

  /** Drops everything from `length` on. */
  truncate(length: number): void {
    this.length = length;
  }

  /** Unsigned LEB128 of a non-negative integer below 2^32. */
  u32(v: number): this {
    let x = v >>> 0;
    do {
      const b = x & 0x7f;
      x >>>= 7;
      this.byte(x ? b | 0x80 : b);
    } while (x);
    return this;
  }

  /** Signed LEB128 of a 32-bit integer (i32.const). */
  s32(v: number): this {
    let x = v | 0;
    for (;;) {
      const b = x & 0x7f;
      x >>= 7;
      if ((x === 0 && !(b & 0x40)) || (x === -1 && b & 0x40)) return this.byte(b);
      this.byte(b | 0x80);
    }
  }

  /** Signed LEB128 of a 64-bit integer given as its two's-complement bit pattern (i64.const). */
  s64(v: bigint): this {
    // Most constants are small: the 32-bit encoder gives the same bytes without BigInt arithmetic.
    if (v < 0x8000_0000n && v >= -0x8000_0000n) return this.s32(Number(v));
    let x = BigInt.asIntN(64, v);
    for (;;) {
      const b = Number(x & 0x7fn);
      x >>= 7n;
      if ((x === 0n && !(b & 0x40)) || (x === -1n && b & 0x40)) return this.byte(b);
      this.byte(b | 0x80);
    }
  }

  name(s: string): this {
    const utf8 = new TextEncoder().encode(s);
    return this.u32(utf8.length).bytes(utf8);
  }

  /** A length-prefixed copy of another buffer (sections, function bodies). */
  sized(inner: Bytes): this {
    return this.u32(inner.length).bytes(inner.view());
  }

  view(): Uint8Array<ArrayBuffer> {
    return this.buf.subarray(0, this.length);
  }
}

export interface GlobalImport {
  module: string;
  name: string;
  type: typeof I32 | typeof I64;
}

/** A function every module has after its own blocks: parameters, no result, no locals. */
export interface SharedFunction {
  params: readonly number[];
  /** Its code, without the final `end`. */
  body: Bytes;
}

/**
 * Modules of functions of type () -> i32 over an imported memory and function table, imported mutable
 * globals (indices in the order given) and any number of imported functions of the same type ("links":
 * their function indices come first, so the module's own functions follow them, exported as "0", "1",
 * ...), then the shared function (not exported). The memory, table and global imports are encoded once.
 */
export class ModuleTemplate {
  private readonly types: Bytes;
  private readonly fixedImports: Bytes;
  private readonly fixedImportCount: number;
  private readonly sharedCode: Bytes;

  constructor(
    memory: { module: string; name: string },
    table: { module: string; name: string },
    globals: readonly GlobalImport[],
    private readonly linkModule: string,
    shared: SharedFunction,
  ) {
    this.types = new Bytes().u32(2).byte(0x60).u32(0).u32(1).byte(I32);
    this.types.byte(0x60).u32(shared.params.length).bytes(shared.params).u32(0);
    const sharedBody = new Bytes().u32(0).bytes(shared.body.view()).byte(Op.end);
    this.sharedCode = new Bytes().sized(sharedBody);
    this.fixedImports = new Bytes().name(memory.module).name(memory.name).byte(0x02).byte(0x00).u32(1);
    // The funcref table (no minimum size) that return_call_indirect enters translated blocks through.
    this.fixedImports.name(table.module).name(table.name).byte(0x01).byte(0x70).byte(0x00).u32(0);
    for (const g of globals) this.fixedImports.name(g.module).name(g.name).byte(0x03).byte(g.type).byte(0x01);
    this.fixedImportCount = 2 + globals.length;
  }

  /**
   * The module whose functions have these locals (no parameters) and bodies (without the final
   * `end`), importing `links` functions named "0", "1", ... from the link module.
   */
  encode(locals: readonly number[], bodies: readonly Bytes[], links: number): Uint8Array<ArrayBuffer> {
    const out = new Bytes().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    out.byte(1).sized(this.types);
    const imports = new Bytes().u32(this.fixedImportCount + links).bytes(this.fixedImports.view());
    for (let i = 0; i < links; i++) imports.name(this.linkModule).name(String(i)).byte(0x00).u32(0);
    out.byte(2).sized(imports);
    const functions = new Bytes().u32(bodies.length + 1);
    const exports = new Bytes().u32(bodies.length);
    const code = new Bytes().u32(bodies.length + 1);
    // Runs of locals of one type are declared together.
    const runs: { type: number; count: number }[] = [];
    for (const type of locals) {
      const last = runs.at(-1);
      if (last?.type === type) last.count++;
      else runs.push({ type, count: 1 });
    }
    const declaredLocals = new Bytes().u32(runs.length);
    for (const { type, count } of runs) declaredLocals.u32(count).byte(type);
    bodies.forEach((body, i) => {
      functions.u32(0);
      exports
        .name(String(i))
        .byte(0x00)
        .u32(links + i);
      code.u32(declaredLocals.length + body.length + 1);
      code.bytes(declaredLocals.view()).bytes(body.view()).byte(Op.end);
    });
    functions.u32(1);
    code.bytes(this.sharedCode.view());
    out.byte(3).sized(functions);
    out.byte(7).sized(exports);
    out.byte(10).sized(code);
    return out.view();
  }
}
