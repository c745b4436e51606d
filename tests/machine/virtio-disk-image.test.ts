// The raw disk-image back-end: sectors map onto the file, writes reach it in order, FLUSH is fsync, and
// a host process killed with SIGKILL right after the guest's flush leaves the flushed data in the file.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import * as nodeFs from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DiskImage, type DiskImageFs } from "../../src/machine/backends/disk-image.ts";
import { VirtioBlk } from "../../src/machine/devices/virtio/blk.ts";
import { VirtioBlkRequest as T } from "../../src/machine/devices/virtio/constants.ts";
import { RecordingIrq, VirtioTestDriver, guestRam } from "./virtio-test-driver.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "virtkit-disk-"));
  dirs.push(d);
  return d;
}

function check(done: (f: (e?: string) => void) => void): void {
  let result: string | undefined | null = null;
  done((e) => (result = e));
  expect(result).toBeUndefined();
}

/** node:fs with every call recorded. */
function recordingFs(log: string[]): DiskImageFs {
  const fs = nodeFs as unknown as DiskImageFs;
  return {
    openSync: (p, f) => fs.openSync(p, f),
    closeSync: (fd) => (log.push("close"), fs.closeSync(fd)),
    fstatSync: (fd) => fs.fstatSync(fd),
    ftruncateSync: (fd, n) => (log.push(`truncate ${n}`), fs.ftruncateSync(fd, n)),
    readSync: (fd, b, o, l, p) => (log.push(`read ${p} ${l}`), fs.readSync(fd, b, o, l, p)),
    writeSync: (fd, b, o, l, p) => (log.push(`write ${p} ${l}`), fs.writeSync(fd, b, o, l, p)),
    fsyncSync: (fd) => (log.push("fsync"), fs.fsyncSync(fd)),
  };
}

describe("disk image back-end", () => {
  it("maps sectors onto the file and reads back what it wrote", () => {
    const path = join(tempDir(), "disk.img");
    writeFileSync(path, new Uint8Array(8 * 512).fill(0x11));
    const disk = DiskImage.open(path);
    expect(disk.capacity).toBe(8);
    expect(disk.serial).toBe("disk.img");
    check((f) => disk.write(2, new Uint8Array(1024).fill(0x22), f));
    const into = new Uint8Array(1536);
    check((f) => disk.read(1, into, f));
    expect([into[0], into[511], into[512], into[1535]]).toEqual([0x11, 0x11, 0x22, 0x22]);
    disk.close();
    const file = readFileSync(path);
    expect(file.subarray(1024, 2048).every((b) => b === 0x22)).toBe(true);
    expect(file.subarray(2048).every((b) => b === 0x11)).toBe(true);
  });

  it("writes in the order requests are made and fsyncs on FLUSH, after those writes", () => {
    const path = join(tempDir(), "disk.img");
    const log: string[] = [];
    const disk = DiskImage.open(path, { createSize: 64 * 512, fs: recordingFs(log) });
    expect(log).toEqual(["truncate 32768"]);
    check((f) => disk.write(3, new Uint8Array(512), f));
    check((f) => disk.write(1, new Uint8Array(1024), f));
    check((f) => disk.flush(f));
    check((f) => disk.write(0, new Uint8Array(512), f));
    expect(log.slice(1)).toEqual(["write 1536 512", "write 512 1024", "fsync", "write 0 512"]);
    expect(disk.counts).toEqual({ reads: 0, writes: 3, flushes: 1 });
    disk.close();
    expect(log.slice(-2)).toEqual(["fsync", "close"]);
  });

  it("refuses files that are not whole sectors, missing files, and writes to a read-only image", () => {
    const dir = tempDir();
    const odd = join(dir, "odd.img");
    writeFileSync(odd, new Uint8Array(1000));
    expect(() => DiskImage.open(odd)).toThrow(
      `disk image ${odd}: 1000 bytes is not a whole, non-zero number of 512-byte sectors; resize it (truncate -s) to a multiple of 512`,
    );
    expect(() => DiskImage.open(join(dir, "none.img"))).toThrow(/cannot open it: ENOENT/);
    expect(() => DiskImage.open(join(dir, "bad.img"), { createSize: 100 })).toThrow(
      /positive multiple of 512/,
    );
    const ro = join(dir, "ro.img");
    writeFileSync(ro, new Uint8Array(1024));
    const disk = DiskImage.open(ro, { readOnly: true });
    let error: string | undefined;
    disk.write(0, new Uint8Array(512), (e) => (error = e));
    expect(error).toBe(`${ro} is read-only`);
    disk.close();
    disk.read(0, new Uint8Array(512), (e) => (error = e));
    expect(error).toBe(`${ro} is closed`);
  });

  it("serves a virtio-blk device: the guest's writes land in the file", () => {
    const path = join(tempDir(), "disk.img");
    const disk = DiskImage.open(path, { createSize: 1024 * 512 });
    const memory = guestRam(0x4000_0000, 2 * 1024 * 1024);
    const blk = new VirtioBlk({ memory, irq: new RecordingIrq(), backend: disk });
    const d = new VirtioTestDriver(blk, memory, 0x4000_0000);
    const [q] = d.bringUp(1);
    const data = new TextEncoder().encode("All is well in the universe".padEnd(512, "."));
    const header = new Uint8Array(16);
    new DataView(header.buffer).setUint32(0, T.OUT, true);
    new DataView(header.buffer).setUint32(8, 100, true);
    const status = d.buffer(1, Uint8Array.of(0xff));
    d.addChain(q!, [
      { addr: d.buffer(16, header), len: 16 },
      { addr: d.buffer(512, data), len: 512 },
      { addr: status, len: 1, write: true },
    ]);
    d.notify(q!);
    expect(d.bytes(status, 1)[0]).toBe(0);
    expect(readFileSync(path).subarray(100 * 512, 101 * 512)).toEqual(Buffer.from(data));
    disk.close();
  });

  it("keeps what the guest flushed when the host process is killed with SIGKILL right after the flush", async () => {
    const dir = tempDir();
    const path = join(dir, "disk.img");
    const root = resolve(import.meta.dirname, "../..");
    const child = join(dir, "child.mts");
    // The child plays a guest: 40 writes of 4 KiB through the virtio-blk device, a FLUSH, and then it
    // says so and spins until it is killed.
    writeFileSync(
      child,
      `
import { DiskImage } from ${JSON.stringify(join(root, "src/machine/backends/disk-image.ts"))};
import { VirtioBlk } from ${JSON.stringify(join(root, "src/machine/devices/virtio/blk.ts"))};
import { RecordingIrq, VirtioTestDriver, guestRam } from ${JSON.stringify(join(root, "tests/machine/virtio-test-driver.ts"))};
const disk = DiskImage.open(${JSON.stringify(path)}, { createSize: 8 * 1024 * 1024 });
const memory = guestRam(0x40000000, 4 * 1024 * 1024);
const blk = new VirtioBlk({ memory, irq: new RecordingIrq(), backend: disk });
const d = new VirtioTestDriver(blk, memory, 0x40000000);
const [q] = d.bringUp(1, 128);
function req(type: number, sector: number, data?: Uint8Array) {
  const h = new Uint8Array(16);
  new DataView(h.buffer).setUint32(0, type, true);
  new DataView(h.buffer).setUint32(8, sector, true);
  const segs = [{ addr: d.buffer(16, h), len: 16 }];
  if (data) segs.push({ addr: d.buffer(data.length, data), len: data.length });
  segs.push({ addr: d.buffer(1), len: 1, write: true });
  d.addChain(q, segs);
}
for (let i = 0; i < 40; i++) req(1, i * 8, new Uint8Array(4096).fill(i + 1));
req(4, 0);
d.notify(q);
const used = d.takeUsed(q);
if (used.length !== 41) throw new Error("only " + used.length + " requests completed");
process.stdout.write("flushed\\n");
setInterval(() => {}, 1000);
`,
    );
    const proc = spawn(process.execPath, ["--import", "tsx", child], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    proc.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const signal = await new Promise<NodeJS.Signals | null>((resolvePromise, reject) => {
      proc.stdout.on("data", (b: Buffer) => {
        if (b.toString().includes("flushed")) proc.kill("SIGKILL");
      });
      proc.on("error", reject);
      proc.on("exit", (_code, sig) => resolvePromise(sig));
    });
    expect(stderr).toBe("");
    expect(signal).toBe("SIGKILL");
    expect(existsSync(path)).toBe(true);
    const file = readFileSync(path);
    for (let i = 0; i < 40; i++) {
      expect(file.subarray(i * 4096, (i + 1) * 4096).every((b) => b === i + 1)).toBe(true);
    }
  }, 30_000);
});
