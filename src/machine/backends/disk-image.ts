// A raw disk-image file as a virtio-blk back-end: sector n is bytes [512n, 512n + 512) of the file.
// Every operation is done when it returns, in the order it was made: a write has reached the file
// (the host kernel's page cache) before the next request starts, so a host process killed at any
// moment leaves every completed write in the file; FLUSH is fsync, so what the guest flushed also
// survives the host machine going down.

import * as nodeFs from "node:fs";
import type { BlockBackend, BlockDone } from "../devices/virtio/blk.ts";

const SECTOR = 512;

/** The file operations the image uses (node:fs by default; tests inject their own). */
export interface DiskImageFs {
  openSync(path: string, flags: string): number;
  closeSync(fd: number): void;
  fstatSync(fd: number): { size: number };
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  fsyncSync(fd: number): void;
  ftruncateSync(fd: number, length: number): void;
}

export interface DiskImageOptions {
  /** Open the file read-only and offer VIRTIO_BLK_F_RO. */
  readOnly?: boolean;
  /** Create the file with this many bytes (a whole number of sectors) when it does not exist. */
  createSize?: number;
  /** What GET_ID answers (default: the file's name, cut to 20 bytes). */
  serial?: string;
  /** The physical block size the driver is told (default 512). */
  physicalBlockSize?: number;
  fs?: DiskImageFs;
}

export class DiskImage implements BlockBackend {
  readonly capacity: number;
  readonly readOnly: boolean;
  readonly serial: string;
  readonly physicalBlockSize: number | undefined;
  /** Operations done, for tests and statistics. */
  readonly counts = { reads: 0, writes: 0, flushes: 0 };
  private fd: number | undefined;
  private readonly fs: DiskImageFs;

  private constructor(
    readonly path: string,
    fd: number,
    size: number,
    options: DiskImageOptions,
    fs: DiskImageFs,
  ) {
    this.fd = fd;
    this.fs = fs;
    this.capacity = Math.floor(size / SECTOR);
    this.readOnly = options.readOnly ?? false;
    this.serial = options.serial ?? (path.split(/[\\/]/).pop() ?? path).slice(0, 20);
    this.physicalBlockSize = options.physicalBlockSize;
  }

  /**
   * Opens a raw image. A file whose size is not a whole number of sectors is refused (the guest could
   * not reach its tail, and an image that size is usually the wrong file).
   */
  static open(path: string, options: DiskImageOptions = {}): DiskImage {
    const fs = options.fs ?? (nodeFs as unknown as DiskImageFs);
    let fd: number;
    try {
      fd = fs.openSync(path, options.readOnly ? "r" : "r+");
    } catch (e) {
      if (
        (e as { code?: string }).code !== "ENOENT" ||
        options.createSize === undefined ||
        options.readOnly
      ) {
        throw new Error(`disk image ${path}: cannot open it: ${(e as Error).message}`, { cause: e });
      }
      const size = options.createSize;
      if (!Number.isSafeInteger(size) || size <= 0 || size % SECTOR !== 0) {
        throw new Error(
          `disk image ${path}: cannot create it with ${size} bytes; give a positive multiple of 512`,
          { cause: e },
        );
      }
      fd = fs.openSync(path, "w+");
      fs.ftruncateSync(fd, size);
    }
    const size = fs.fstatSync(fd).size;
    if (size % SECTOR !== 0 || size === 0) {
      fs.closeSync(fd);
      throw new Error(
        `disk image ${path}: ${size} bytes is not a whole, non-zero number of 512-byte sectors; ` +
          `resize it (truncate -s) to a multiple of 512`,
      );
    }
    return new DiskImage(path, fd, size, options, fs);
  }

  read(sector: number, into: Uint8Array, done: BlockDone): void {
    const fd = this.fd;
    if (fd === undefined) return done(`${this.path} is closed`);
    let error: string | undefined;
    try {
      let got = 0;
      while (got < into.length) {
        const n = this.fs.readSync(fd, into, got, into.length - got, sector * SECTOR + got);
        if (n === 0) break;
        got += n;
      }
      into.fill(0, got); // beyond the end of a file that shrank under us
      this.counts.reads++;
    } catch (e) {
      error = `reading ${this.path}: ${(e as Error).message}`;
    }
    done(error);
  }

  write(sector: number, data: Uint8Array, done: BlockDone): void {
    const fd = this.fd;
    if (fd === undefined) return done(`${this.path} is closed`);
    if (this.readOnly) return done(`${this.path} is read-only`);
    let error: string | undefined;
    try {
      let put = 0;
      while (put < data.length)
        put += this.fs.writeSync(fd, data, put, data.length - put, sector * SECTOR + put);
      this.counts.writes++;
    } catch (e) {
      error = `writing ${this.path}: ${(e as Error).message}`;
    }
    done(error);
  }

  flush(done: BlockDone): void {
    const fd = this.fd;
    if (fd === undefined) return done(`${this.path} is closed`);
    let error: string | undefined;
    try {
      if (!this.readOnly) this.fs.fsyncSync(fd);
      this.counts.flushes++;
    } catch (e) {
      error = `fsync of ${this.path}: ${(e as Error).message}`;
    }
    done(error);
  }

  /** Flushes and closes the file; later operations fail. */
  close(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    try {
      if (!this.readOnly) this.fs.fsyncSync(fd);
    } finally {
      this.fs.closeSync(fd);
    }
  }
}
