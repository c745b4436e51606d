// `virtkit run examples/virtio --disk FILE` as a person runs it: the image is created partitioned on
// first use, what the guest synced is in the file even when the host process is killed right after,
// and a file that cannot be a disk is refused before boot.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureGuestImages } from "../../src/guest/images.ts";
import { mbrPartitions, parseMbr } from "../../src/sddf/index.ts";
import { NEW_DISK_BYTES } from "../../src/cli/devices.ts";
import { startVirtkit } from "../system/virtkit-process.ts";
import { fatFiles } from "./fat.ts";

const runVirtio = (args: string[]) => startVirtkit(["run", "--console", "stdio", "examples/virtio", ...args]);

describe("virtkit run examples/virtio --disk", () => {
  it("creates a partitioned image, and what the guest synced survives SIGKILL of virtkit", async () => {
    await ensureGuestImages({ kernel: "minimal" });
    const disk = join(mkdtempSync(join(tmpdir(), "virtkit-disk-")), "disk.img");
    const run = runVirtio(["--disk", disk, "--net", "none"]);
    await run.waitFor("buildroot login: ");

    const image = readFileSync(disk);
    expect(image.length).toBe(NEW_DISK_BYTES);
    const mbr = parseMbr(image.subarray(0, 512));
    if (typeof mbr === "string") throw new Error(mbr);
    expect(mbrPartitions(mbr)).toEqual([
      { index: 0, startLba: 2048, sectors: NEW_DISK_BYTES / 512 - 2048, type: "0xc", name: "" },
    ]);

    run.type("root\n");
    await run.waitFor("# ");
    run.type(
      "mkdosfs -F 32 /dev/vda >/dev/null && mount -t vfat /dev/vda /mnt && " +
        "seq 1 20000 > /mnt/kept.txt && sync && echo SYNC''ED\n",
    );
    await run.waitFor("SYNCED");
    run.child.kill("SIGKILL");
    expect(await run.exited).toEqual({ code: null, signal: "SIGKILL" });

    const kept = fatFiles(disk).get("KEPT.TXT");
    const expected = Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join("");
    expect(kept?.toString()).toBe(expected);
  }, 600_000);

  it("refuses a file that is not whole sectors, before booting", async () => {
    const bad = join(mkdtempSync(join(tmpdir(), "virtkit-disk-")), "odd.img");
    writeFileSync(bad, Buffer.alloc(1000));
    const run = runVirtio(["--disk", bad]);
    expect((await run.exited).code).toBe(1);
    expect(run.output()).toContain(
      `Error: disk image ${bad}: 1000 bytes is not a whole, non-zero number of 512-byte sectors; resize it (truncate -s) to a multiple of 512`,
    );
    expect(run.output()).not.toContain("MON|INFO");
  }, 60_000);
});
