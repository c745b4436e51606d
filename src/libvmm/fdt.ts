// Flattened device trees (the Devicetree Specification, chapter 5): the tree model, a writer and a
// reader. Version 17 blobs; properties keep their order so a read-write round trip is exact.

export const FDT_MAGIC = 0xd00dfeed;
const FDT_VERSION = 17;
const FDT_LAST_COMPATIBLE_VERSION = 16;
const HEADER_SIZE = 40;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;

export interface FdtProperty {
  name: string;
  value: Uint8Array;
}

export interface FdtNode {
  /** `""` for the root, otherwise `name` or `name@unit-address`. */
  name: string;
  properties: FdtProperty[];
  children: FdtNode[];
}

export interface MemoryReservation {
  address: bigint;
  size: bigint;
}

export interface FlattenedDeviceTree {
  root: FdtNode;
  reservations: MemoryReservation[];
  bootCpuId: number;
}

export class FdtError extends Error {}

// ---- property values -------------------------------------------------------------------------

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Big-endian 32-bit cells. */
export function u32(...cells: number[]): Uint8Array {
  const bytes = new Uint8Array(cells.length * 4);
  const view = new DataView(bytes.buffer);
  cells.forEach((cell, i) => {
    if (!Number.isInteger(cell) || cell < 0 || cell > 0xffff_ffff)
      throw new FdtError(`${cell} is not a 32-bit cell`);
    view.setUint32(i * 4, cell);
  });
  return bytes;
}

/** Each value as two cells (#address-cells = #size-cells = 2). */
export function u64(...values: number[]): Uint8Array {
  return u32(
    ...values.flatMap((value) => {
      if (!Number.isSafeInteger(value) || value < 0)
        throw new FdtError(`${value} is not a 64-bit cell value`);
      return [Math.floor(value / 0x1_0000_0000), value % 0x1_0000_0000];
    }),
  );
}

/** A string, or a string list, each NUL-terminated. */
export function str(...strings: string[]): Uint8Array {
  return encoder.encode(strings.map((s) => `${s}\0`).join(""));
}

export const EMPTY = new Uint8Array(0);

export function node(name: string, properties: [string, Uint8Array][], children: FdtNode[] = []): FdtNode {
  return { name, properties: properties.map(([n, value]) => ({ name: n, value })), children };
}

// ---- looking things up -------------------------------------------------------------------------

/** The node at an absolute path; a path component without `@unit` matches a node with one. */
export function findNode(root: FdtNode, path: string): FdtNode | undefined {
  let current: FdtNode | undefined = root;
  for (const part of path.split("/").filter((p) => p !== "")) {
    const children: FdtNode[] = current.children;
    current = children.find((c) => c.name === part) ?? children.find((c) => c.name.split("@")[0] === part);
    if (!current) return undefined;
  }
  return current;
}

export function getProperty(n: FdtNode, name: string): Uint8Array | undefined {
  return n.properties.find((p) => p.name === name)?.value;
}

/** A property read as 32-bit cells. */
export function cellsOf(value: Uint8Array): number[] {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return Array.from({ length: Math.floor(value.length / 4) }, (_, i) => view.getUint32(i * 4));
}

/** A 1- or 2-cell number, as `linux,initrd-start` may be either. */
export function numberOf(value: Uint8Array): number {
  const cells = cellsOf(value);
  if (value.length === 4) return cells[0]!;
  if (value.length === 8) return cells[0]! * 0x1_0000_0000 + cells[1]!;
  throw new FdtError(`a ${value.length}-byte property is not a 1- or 2-cell number`);
}

export function stringsOf(value: Uint8Array): string[] {
  const text = decoder.decode(value);
  return (text.endsWith("\0") ? text.slice(0, -1) : text).split("\0");
}

// ---- writer ------------------------------------------------------------------------------------

class ByteWriter {
  private buffer = new Uint8Array(4096);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return;
    const bigger = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n));
    bigger.set(this.buffer.subarray(0, this.length));
    this.buffer = bigger;
  }

  u32(value: number): void {
    this.reserve(4);
    new DataView(this.buffer.buffer).setUint32(this.length, value);
    this.length += 4;
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  align(to: number): void {
    const pad = (to - (this.length % to)) % to;
    this.reserve(pad);
    this.buffer.fill(0, this.length, this.length + pad);
    this.length += pad;
  }

  result(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

export function writeFdt(tree: FlattenedDeviceTree): Uint8Array {
  const structure = new ByteWriter();
  const strings = new ByteWriter();
  const stringOffsets = new Map<string, number>();
  const nameOffset = (name: string): number => {
    let offset = stringOffsets.get(name);
    if (offset === undefined) {
      offset = strings.length;
      stringOffsets.set(name, offset);
      strings.bytes(str(name));
    }
    return offset;
  };
  const emit = (n: FdtNode, path: string): void => {
    if (n.name.includes("/") || (path !== "" && n.name === "")) {
      throw new FdtError(`node "${n.name}" under "${path || "/"}" has an invalid name`);
    }
    structure.u32(FDT_BEGIN_NODE);
    structure.bytes(str(n.name));
    structure.align(4);
    for (const property of n.properties) {
      structure.u32(FDT_PROP);
      structure.u32(property.value.length);
      structure.u32(nameOffset(property.name));
      structure.bytes(property.value);
      structure.align(4);
    }
    for (const child of n.children) emit(child, `${path}/${child.name}`);
    structure.u32(FDT_END_NODE);
  };
  emit(tree.root, "");
  structure.u32(FDT_END);

  const reservations = new ByteWriter();
  const big = (value: bigint): void => {
    reservations.u32(Number(value >> 32n));
    reservations.u32(Number(value & 0xffff_ffffn));
  };
  for (const r of tree.reservations) {
    big(r.address);
    big(r.size);
  }
  big(0n);
  big(0n);

  const offRsvmap = HEADER_SIZE;
  const offStruct = offRsvmap + reservations.length;
  const offStrings = offStruct + structure.length;
  const total = offStrings + strings.length;
  const out = new ByteWriter();
  for (const field of [
    FDT_MAGIC,
    total,
    offStruct,
    offStrings,
    offRsvmap,
    FDT_VERSION,
    FDT_LAST_COMPATIBLE_VERSION,
    tree.bootCpuId,
    strings.length,
    structure.length,
  ]) {
    out.u32(field);
  }
  out.bytes(reservations.result());
  out.bytes(structure.result());
  out.bytes(strings.result());
  return out.result();
}

// ---- reader ------------------------------------------------------------------------------------

export interface FdtHeader {
  totalSize: number;
  offStruct: number;
  offStrings: number;
  offRsvmap: number;
  version: number;
  lastCompatibleVersion: number;
  bootCpuId: number;
  sizeStrings: number;
  sizeStruct: number;
}

/** Checks the magic and that every block lies inside the blob. */
export function readFdtHeader(bytes: Uint8Array, source: string): FdtHeader {
  if (bytes.length < HEADER_SIZE) {
    throw new FdtError(
      `${source}: ${bytes.length} bytes is too short for a device tree blob (the header is 40)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  if (magic !== FDT_MAGIC) {
    throw new FdtError(
      `${source}: not a device tree blob: magic 0x${magic.toString(16).padStart(8, "0")}, expected 0xd00dfeed ` +
        `(a .dts source must be compiled first)`,
    );
  }
  const [
    totalSize,
    offStruct,
    offStrings,
    offRsvmap,
    version,
    lastCompatibleVersion,
    bootCpuId,
    sizeStrings,
    sizeStruct,
  ] = Array.from({ length: 9 }, (_, i) => view.getUint32(4 + i * 4));
  const header: FdtHeader = {
    totalSize: totalSize!,
    offStruct: offStruct!,
    offStrings: offStrings!,
    offRsvmap: offRsvmap!,
    version: version!,
    lastCompatibleVersion: lastCompatibleVersion!,
    bootCpuId: bootCpuId!,
    sizeStrings: sizeStrings!,
    sizeStruct: sizeStruct!,
  };
  if (header.totalSize > bytes.length) {
    throw new FdtError(
      `${source}: the header says ${header.totalSize} bytes but the blob has only ${bytes.length}; it is truncated`,
    );
  }
  if (header.lastCompatibleVersion > FDT_VERSION) {
    throw new FdtError(
      `${source}: device tree format version ${header.lastCompatibleVersion} is newer than 17`,
    );
  }
  for (const [what, start, size] of [
    ["structure block", header.offStruct, header.sizeStruct],
    ["strings block", header.offStrings, header.sizeStrings],
  ] as const) {
    if (start + size > header.totalSize) {
      throw new FdtError(
        `${source}: the ${what} (${size} bytes at offset ${start}) runs past the blob's end (${header.totalSize})`,
      );
    }
  }
  return header;
}

export function readFdt(bytes: Uint8Array, source: string): FlattenedDeviceTree {
  const header = readFdtHeader(bytes, source);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reservations: MemoryReservation[] = [];
  for (let at = header.offRsvmap; ; at += 16) {
    if (at + 16 > header.totalSize)
      throw new FdtError(`${source}: the memory reservation map has no terminating entry`);
    const address = view.getBigUint64(at);
    const size = view.getBigUint64(at + 8);
    if (address === 0n && size === 0n) break;
    reservations.push({ address, size });
  }
  const end = header.offStruct + header.sizeStruct;
  let at = header.offStruct;
  const token = (): number => {
    if (at + 4 > end) throw new FdtError(`${source}: the structure block ends in the middle of a node`);
    const t = view.getUint32(at);
    at += 4;
    return t;
  };
  const cString = (from: number, limit: number, what: string): string => {
    const nul = bytes.indexOf(0, from);
    if (nul < 0 || nul >= limit) throw new FdtError(`${source}: unterminated ${what} at offset ${from}`);
    return decoder.decode(bytes.subarray(from, nul));
  };
  const align4 = (n: number): number => (n + 3) & ~3;
  const parseNode = (): FdtNode => {
    const name = cString(at, end, "node name");
    at = align4(at + encoder.encode(name).length + 1);
    const n: FdtNode = { name, properties: [], children: [] };
    for (;;) {
      const t = token();
      if (t === FDT_PROP) {
        const length = token();
        const nameOff = token();
        if (nameOff >= header.sizeStrings)
          throw new FdtError(`${source}: property name offset ${nameOff} is outside the strings block`);
        const propName = cString(
          header.offStrings + nameOff,
          header.offStrings + header.sizeStrings,
          "property name",
        );
        if (at + length > end)
          throw new FdtError(`${source}: property ${propName} of "${name}" runs past the structure block`);
        n.properties.push({ name: propName, value: bytes.slice(at, at + length) });
        at = align4(at + length);
      } else if (t === FDT_BEGIN_NODE) {
        n.children.push(parseNode());
      } else if (t === FDT_END_NODE) {
        return n;
      } else if (t !== FDT_NOP) {
        throw new FdtError(`${source}: unexpected token ${t} at offset ${at - 4} inside node "${name}"`);
      }
    }
  };
  let t = token();
  while (t === FDT_NOP) t = token();
  if (t !== FDT_BEGIN_NODE) throw new FdtError(`${source}: the structure block does not start with a node`);
  const root = parseNode();
  t = token();
  while (t === FDT_NOP) t = token();
  if (t !== FDT_END) throw new FdtError(`${source}: expected the end token after the root node, found ${t}`);
  return { root, reservations, bootCpuId: header.bootCpuId };
}
