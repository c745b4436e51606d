// The cpio "newc" format that the kernel unpacks into its initial rootfs
// (Documentation/driver-api/early-userspace/buffer-format.rst). Output is deterministic: entries are
// written in path order with inode numbers in that order, owner root and mtime 0.

export type CpioEntry =
  | { type: "directory"; path: string; mode?: number }
  | { type: "file"; path: string; data: Uint8Array; mode?: number }
  | { type: "symlink"; path: string; target: string }
  | { type: "device"; path: string; device: "char" | "block"; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const NEWC_MAGIC = "070701";
const TRAILER = "TRAILER!!!";

export class CpioError extends Error {}

/** `/bin/sh`, `bin/sh` and `./bin/sh` all name the archive path `bin/sh`. */
export function archivePath(path: string): string {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0 || parts.includes("..")) {
    throw new CpioError(`"${path}" is not a path inside the archive (empty, or contains "..")`);
  }
  return parts.join("/");
}

function hex8(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new CpioError(`value ${value} does not fit a cpio newc header field`);
  }
  return value.toString(16).padStart(8, "0");
}

const encoder = new TextEncoder();

function padTo4(length: number): number {
  return (4 - (length % 4)) % 4;
}

interface Record {
  name: string;
  mode: number;
  nlink: number;
  data: Uint8Array;
  rdevMajor: number;
  rdevMinor: number;
}

function toRecord(entry: CpioEntry): Record {
  const base = {
    name: archivePath(entry.path),
    nlink: 1,
    rdevMajor: 0,
    rdevMinor: 0,
    data: new Uint8Array(0),
  };
  switch (entry.type) {
    case "directory":
      return { ...base, mode: S_IFDIR | (entry.mode ?? 0o755), nlink: 2 };
    case "file":
      return { ...base, mode: S_IFREG | (entry.mode ?? 0o644), data: entry.data };
    case "symlink":
      return { ...base, mode: S_IFLNK | 0o777, data: encoder.encode(entry.target) };
    case "device":
      return {
        ...base,
        mode: (entry.device === "char" ? S_IFCHR : S_IFBLK) | (entry.mode ?? 0o600),
        rdevMajor: entry.major,
        rdevMinor: entry.minor,
      };
  }
}

function headerAndName(record: Record, ino: number): Uint8Array {
  const fields = [
    ino,
    record.mode,
    0, // uid
    0, // gid
    record.nlink,
    0, // mtime
    record.data.length,
    0, // devmajor
    0, // devminor
    record.rdevMajor,
    record.rdevMinor,
    encoder.encode(record.name).length + 1,
    0, // check
  ];
  const text = NEWC_MAGIC + fields.map(hex8).join("") + record.name + "\0";
  return encoder.encode(text + "\0".repeat(padTo4(encoder.encode(text).length)));
}

/** Serialises the entries as a newc archive. Every directory on a path must be an entry of its own. */
export function writeCpioNewc(entries: readonly CpioEntry[]): Uint8Array {
  const records = entries.map(toRecord).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const directories = new Set(records.filter((r) => (r.mode & S_IFDIR) === S_IFDIR).map((r) => r.name));
  for (let i = 0; i < records.length; i++) {
    const { name } = records[i]!;
    if (i > 0 && records[i - 1]!.name === name) throw new CpioError(`"${name}" appears twice in the archive`);
    const parent = name.includes("/") ? name.slice(0, name.lastIndexOf("/")) : undefined;
    if (parent !== undefined && !directories.has(parent)) {
      throw new CpioError(`"${name}" is in directory "${parent}", which is not in the archive`);
    }
  }
  const chunks: Uint8Array[] = [];
  records.forEach((record, index) => {
    chunks.push(headerAndName(record, index + 1));
    chunks.push(record.data, new Uint8Array(padTo4(record.data.length)));
  });
  chunks.push(
    headerAndName(
      { name: TRAILER, mode: 0, nlink: 1, data: new Uint8Array(0), rdevMajor: 0, rdevMinor: 0 },
      0,
    ),
  );
  const total = chunks.reduce((sum, c) => sum + c.length, 0);
  const archive = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    archive.set(chunk, offset);
    offset += chunk.length;
  }
  return archive;
}
