// `virtkit run`'s storage and sound options: the virtio-blk disk in the board's disk slot (an image
// file, created partitioned on first use, or memory) and the folder sound back-ends write WAV files to.

import { existsSync } from "node:fs";
import type { Command } from "commander";
import type { BoardDescription } from "../machine/boards/index.ts";
import { virtioMmioSlot } from "../machine/boards/board.ts";
import { DiskImage } from "../machine/backends/disk-image.ts";
import { memoryBlockBackend } from "../machine/devices/virtio/blk.ts";
import type { SystemDisk } from "../microkit/index.ts";
import type { SystemDescription } from "../sdf/index.ts";
import { MbrPartitionType, mbrSector } from "../sddf/index.ts";

export interface DeviceOptions {
  disk?: string;
  soundDir?: string;
}

/** A new disk: 128 MiB, one FAT32 partition from 1 MiB (4 KiB-aligned, as sDDF's block virtualiser needs). */
export const NEW_DISK_BYTES = 128 * 1024 * 1024;
const SECTOR = 512;
const FIRST_PARTITION_LBA = 2048;

export function addDeviceOptions(command: Command): Command {
  return command
    .option(
      "--disk <file>",
      "the raw disk image in the board's virtio-blk slot (created, 128 MiB with one partition, if it " +
        "does not exist); memory: a fresh partitioned disk in memory; none: no disk. Default: memory " +
        "when the system maps the disk slot, else none",
    )
    .option("--sound-dir <folder>", "where sound back-ends write the WAV files of what guests play");
}

/** The partition table a new disk starts with. */
function partitionedDisk(bytes: number): Uint8Array {
  const sectors = bytes / SECTOR;
  return mbrSector([
    {
      type: MbrPartitionType.FAT32_LBA,
      startLba: FIRST_PARTITION_LBA,
      sectors: sectors - FIRST_PARTITION_LBA,
    },
  ]);
}

/** Whether a memory region of the system covers the board's disk slot (a driver will look for a disk there). */
function mapsDiskSlot(description: SystemDescription, board: BoardDescription): boolean {
  const facts = board.virtioMmio;
  if (!facts) return false;
  const slot = virtioMmioSlot(facts, facts.diskSlot);
  return description.memoryRegions.some(
    (mr) => mr.paddr !== undefined && slot.base >= mr.paddr && slot.base < mr.paddr + mr.size,
  );
}

/** Opens `--disk FILE`, writing a partition table into a file it creates. */
export function openDiskImage(path: string): DiskImage {
  const created = !existsSync(path);
  const image = DiskImage.open(path, { createSize: NEW_DISK_BYTES });
  if (created) {
    let failure: string | undefined;
    image.write(0, partitionedDisk(NEW_DISK_BYTES), (error) => (failure = error));
    image.flush((error) => (failure ??= error));
    if (failure) throw new Error(`disk image ${path}: cannot write its partition table: ${failure}`);
  }
  return image;
}

/** The disk `--disk` asks for (or the default for this system), undefined for none. */
export function systemDisk(
  options: DeviceOptions,
  description: SystemDescription,
  board: BoardDescription,
): SystemDisk | undefined {
  const choice = options.disk ?? (mapsDiskSlot(description, board) ? "memory" : "none");
  if (choice === "none") return undefined;
  if (choice === "memory") {
    const bytes = new Uint8Array(NEW_DISK_BYTES);
    bytes.set(partitionedDisk(NEW_DISK_BYTES));
    return { backend: memoryBlockBackend(bytes) };
  }
  return { backend: openDiskImage(choice) };
}
