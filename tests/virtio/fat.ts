// Reads the root directory of the FAT32 file system in a disk image's first MBR partition, so a test
// can see on the host what a guest wrote (short 8.3 names; the files' bytes, the folders as empty).
import { readFileSync } from "node:fs";
import { mbrPartitions, parseMbr } from "../../src/sddf/index.ts";

const SECTOR = 512;
const END_OF_CHAIN = 0x0fff_fff8;
const ATTR = { volumeLabel: 0x08, directory: 0x10, longName: 0x0f } as const;

/** The root directory's entries by 8.3 name ("NOTE.TXT"): a file's contents, an empty buffer for a folder. */
export function fatFiles(imagePath: string): Map<string, Buffer> {
  const disk = readFileSync(imagePath);
  const mbr = parseMbr(disk.subarray(0, SECTOR));
  if (typeof mbr === "string") throw new Error(`${imagePath}: ${mbr}`);
  const partition = mbrPartitions(mbr)[0];
  if (!partition) throw new Error(`${imagePath}: no partition`);
  const fs = disk.subarray(partition.startLba * SECTOR, (partition.startLba + partition.sectors) * SECTOR);
  const bytesPerSector = fs.readUInt16LE(11);
  const sectorsPerCluster = fs.readUInt8(13);
  const reserved = fs.readUInt16LE(14);
  const fats = fs.readUInt8(16);
  const fatSectors = fs.readUInt32LE(36);
  const rootCluster = fs.readUInt32LE(44);
  if (fs.readUInt16LE(510) !== 0xaa55 || fatSectors === 0)
    throw new Error(`${imagePath}: no FAT32 file system`);
  const clusterBytes = bytesPerSector * sectorsPerCluster;
  const dataStart = (reserved + fats * fatSectors) * bytesPerSector;
  const fatEntry = (cluster: number): number =>
    fs.readUInt32LE(reserved * bytesPerSector + cluster * 4) & 0x0fff_ffff;
  const chain = (first: number): Buffer => {
    const parts: Buffer[] = [];
    for (let c = first; c >= 2 && c < END_OF_CHAIN; c = fatEntry(c)) {
      parts.push(fs.subarray(dataStart + (c - 2) * clusterBytes, dataStart + (c - 1) * clusterBytes));
      if (parts.length > fs.length / clusterBytes) throw new Error(`${imagePath}: a cluster chain loops`);
    }
    return Buffer.concat(parts);
  };
  const root = chain(rootCluster);
  const files = new Map<string, Buffer>();
  for (let at = 0; at + 32 <= root.length && root[at] !== 0; at += 32) {
    const attr = root[at + 11]!;
    if (root[at] === 0xe5 || attr === ATTR.longName || attr & ATTR.volumeLabel) continue;
    const base = root.toString("latin1", at, at + 8).trimEnd();
    const ext = root.toString("latin1", at + 8, at + 11).trimEnd();
    const first = (root.readUInt16LE(at + 20) << 16) | root.readUInt16LE(at + 26);
    const size = root.readUInt32LE(at + 28);
    files.set(
      ext ? `${base}.${ext}` : base,
      attr & ATTR.directory ? Buffer.alloc(0) : chain(first).subarray(0, size),
    );
  }
  return files;
}
