// MS-DOS MBR and GPT partition tables, as the sDDF block virtualiser reads them (blk/components/{msdos_mbr,gpt}.h), with their checks.

/** A partition in logical sectors (LBAs) of the disk. */
export interface Partition {
  /** Table index: 0–3 for MBR primaries, the entry index for GPT. */
  index: number;
  startLba: number;
  sectors: number;
  /** MBR type byte, or the GPT type GUID. */
  type: string;
  /** GPT partition name (empty for MBR). */
  name: string;
}

export const MBR = { partitions: 446, entrySize: 16, signature: 510, signatureValue: 0xaa55 } as const;
/** MBR partition type bytes the virtualiser cares about, and FAT32 (LBA) for new disks. */
export const MbrPartitionType = { EMPTY: 0x00, FAT32_LBA: 0x0c, GPT_PROTECTIVE: 0xee } as const;
/** Offsets in a 16-byte MBR partition entry. */
const MBR_ENTRY = { type: 4, startLba: 8, sectors: 12 } as const;

/** GPT header fields (UEFI spec 5.3.2). */
export const GPT_HEADER = {
  signature: 0,
  revision: 8,
  headerSize: 12,
  crc32: 16,
  currentLba: 24,
  backupLba: 32,
  firstUsableLba: 40,
  lastUsableLba: 48,
  diskGuid: 56,
  entriesLba: 72,
  numEntries: 80,
  entrySize: 84,
  entriesCrc32: 88,
  minSize: 92,
} as const;
/** GPT partition entry fields. */
export const GPT_ENTRY = {
  typeGuid: 0,
  uniqueGuid: 16,
  firstLba: 32,
  lastLba: 40,
  name: 56,
  nameBytes: 72,
} as const;
export const GPT_SIGNATURE = "EFI PART";
/** Upper bound on a partition entry array the virtualiser will read (the usual one is 16 KiB). */
export const GPT_MAX_ENTRY_ARRAY = 1024 * 1024;

export interface MbrPartitionEntry {
  index: number;
  type: number;
  startLba: number;
  sectors: number;
}

export interface Mbr {
  partitions: MbrPartitionEntry[];
  /** Partition 0 is a protective MBR: the disk is partitioned with GPT. */
  protective: boolean;
}

/** Parses the MBR in the first 512 bytes of `sector0`, or explains why it is not one. */
export function parseMbr(sector0: Uint8Array): Mbr | string {
  if (sector0.length < 512) return "sector 0 is shorter than 512 bytes";
  const view = new DataView(sector0.buffer, sector0.byteOffset, 512);
  if (view.getUint16(MBR.signature, true) !== MBR.signatureValue) {
    return `invalid MBR signature 0x${view.getUint16(MBR.signature, true).toString(16)} (expected 0xaa55)`;
  }
  const partitions = [0, 1, 2, 3].map((index) => {
    const at = MBR.partitions + index * MBR.entrySize;
    return {
      index,
      type: view.getUint8(at + MBR_ENTRY.type),
      startLba: view.getUint32(at + MBR_ENTRY.startLba, true),
      sectors: view.getUint32(at + MBR_ENTRY.sectors, true),
    };
  });
  return { partitions, protective: partitions[0]!.type === MbrPartitionType.GPT_PROTECTIVE };
}

export interface GptHeader {
  currentLba: number;
  backupLba: number;
  entriesLba: number;
  numEntries: number;
  entrySize: number;
  entriesCrc32: number;
}

const u64 = (view: DataView, at: number): number => {
  const value = view.getBigUint64(at, true);
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(value);
};

/** Parses and checks a GPT header (signature, size, CRC32), or explains what is wrong. */
export function parseGptHeader(sector: Uint8Array): GptHeader | string {
  if (sector.length < GPT_HEADER.minSize) return "the GPT header sector is too short";
  const view = new DataView(sector.buffer, sector.byteOffset, sector.length);
  const signature = new TextDecoder("latin1").decode(sector.subarray(0, 8));
  if (signature !== GPT_SIGNATURE) return `invalid GPT signature ${JSON.stringify(signature)}`;
  const headerSize = view.getUint32(GPT_HEADER.headerSize, true);
  if (headerSize < GPT_HEADER.minSize || headerSize > sector.length)
    return `invalid GPT header size ${headerSize}`;
  const header = sector.slice(0, headerSize);
  new DataView(header.buffer).setUint32(GPT_HEADER.crc32, 0, true);
  const stored = view.getUint32(GPT_HEADER.crc32, true);
  if (crc32(header) !== stored) return "GPT header CRC32 is incorrect";
  const parsed = {
    currentLba: u64(view, GPT_HEADER.currentLba),
    backupLba: u64(view, GPT_HEADER.backupLba),
    entriesLba: u64(view, GPT_HEADER.entriesLba),
    numEntries: view.getUint32(GPT_HEADER.numEntries, true),
    entrySize: view.getUint32(GPT_HEADER.entrySize, true),
    entriesCrc32: view.getUint32(GPT_HEADER.entriesCrc32, true),
  };
  if (parsed.entrySize < 128 || parsed.entrySize % 8 !== 0)
    return `invalid GPT entry size ${parsed.entrySize}`;
  if (parsed.numEntries * parsed.entrySize > GPT_MAX_ENTRY_ARRAY) {
    return `GPT partition entry array of ${parsed.numEntries} x ${parsed.entrySize} bytes is too large`;
  }
  return parsed;
}

/** Parses a GPT entry array (checked against the header's CRC32); unused entries are left out. */
export function parseGptEntries(header: GptHeader, entries: Uint8Array): Partition[] | string {
  const size = header.numEntries * header.entrySize;
  if (entries.length < size) return "the GPT partition entry array is truncated";
  if (crc32(entries.subarray(0, size)) !== header.entriesCrc32)
    return "CRC32 of the GPT partition entry array is incorrect";
  const view = new DataView(entries.buffer, entries.byteOffset, size);
  const partitions: Partition[] = [];
  for (let index = 0; index < header.numEntries; index++) {
    const at = index * header.entrySize;
    const type = guidString(entries.subarray(at, at + 16));
    if (type === "00000000-0000-0000-0000-000000000000") continue;
    const first = u64(view, at + GPT_ENTRY.firstLba);
    const last = u64(view, at + GPT_ENTRY.lastLba);
    if (last < first) continue;
    const name = new TextDecoder("utf-16le")
      .decode(entries.subarray(at + GPT_ENTRY.name, at + GPT_ENTRY.name + GPT_ENTRY.nameBytes))
      .replace(/\0.*$/s, "");
    partitions.push({ index, startLba: first, sectors: last - first + 1, type, name });
  }
  return partitions;
}

/** Sector 0 of a disk whose MBR lists `partitions` (at most four primaries), for making disk images. */
export function mbrSector(
  partitions: readonly { type: number; startLba: number; sectors: number }[],
): Uint8Array {
  if (partitions.length > 4) throw new Error(`an MBR holds 4 primary partitions, not ${partitions.length}`);
  const sector = new Uint8Array(512);
  const view = new DataView(sector.buffer);
  partitions.forEach((p, i) => {
    const at = MBR.partitions + i * MBR.entrySize;
    view.setUint8(at + MBR_ENTRY.type, p.type);
    view.setUint32(at + MBR_ENTRY.startLba, p.startLba, true);
    view.setUint32(at + MBR_ENTRY.sectors, p.sectors, true);
  });
  view.setUint16(MBR.signature, MBR.signatureValue, true);
  return sector;
}

/** MBR primaries that are not empty, as partitions. */
export function mbrPartitions(mbr: Mbr): Partition[] {
  return mbr.partitions
    .filter((p) => p.type !== MbrPartitionType.EMPTY)
    .map((p) => ({
      index: p.index,
      startLba: p.startLba,
      sectors: p.sectors,
      type: `0x${p.type.toString(16)}`,
      name: "",
    }));
}

/** The mixed-endian text form of a GUID. */
export function guidString(bytes: Uint8Array): string {
  const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  const le = (b: Uint8Array) => hex(b.slice().reverse());
  return `${le(bytes.subarray(0, 4))}-${le(bytes.subarray(4, 6))}-${le(bytes.subarray(6, 8))}-${hex(bytes.subarray(8, 10))}-${hex(bytes.subarray(10, 16))}`;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, reflected, as GPT uses). */
export function crc32(bytes: Uint8Array): number {
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const b of bytes) crc = crcTable[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
