// `npm run bench:virtio`: block and network throughput of a guest's virtIO devices. virtkit: the
// virtio example, the devices emulated by the VMM over sDDF (block virtualiser, virtio-blk driver, the
// board's disk on a raw image; net virtualisers, copier, virtio-net driver, the user-mode network).
// QEMU: qemu-system-aarch64 (TCG) with its own virtio-blk and virtio-net devices on a copy of the
// same disk image, the same kernel and initramfs. Alternating rounds, medians; results in
// bench/results/virtio-<date>.json and .md.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { ensureGuestImages } from "../../src/guest/images.ts";
import { streamProgress } from "../../src/guest/progress.ts";
import { ensureDebianPackages } from "../../src/host/debian-packages.ts";
import { createUserNetwork } from "../../src/machine/backends/net/user-network.ts";
import { NEW_DISK_BYTES, openDiskImage } from "../../src/cli/devices.ts";
import { LinuxSession } from "../../tests/system/linux-session.ts";
import {
  MEBIBYTE,
  TRANSFER_BYTES,
  guestToHost,
  hostToGuest,
  resultDate,
  bootQemuGuest,
  throughputTableRow,
  type Guest,
  type ThroughputRow,
} from "../lib/net-transfers.ts";

const VIRTIO_SYSTEM = join(import.meta.dirname, "../../examples/virtio/virtio.system");
const RESULTS = join(import.meta.dirname, "../results");
const ROUNDS = 3;
const BLOCK_MIB = 32;

/** A guest shell with the disk partition it may overwrite. */
interface DiskGuest extends Guest {
  /** The benchmark's partition: /dev/vda under virtkit (the virtualiser's partition 0), /dev/vda1 in QEMU. */
  partition: string;
}

/** MiB/s of a guest command moving BLOCK_MIB MiB, timed on the host around the whole command. */
async function timedMiBs(guest: Guest, command: string): Promise<number> {
  const start = performance.now();
  const out = await guest.run(command);
  const seconds = (performance.now() - start) / 1000;
  if (!out.includes(`${BLOCK_MIB}+0 records`)) throw new Error(`${guest.name}: ${command} said:\n${out}`);
  return BLOCK_MIB / seconds;
}

const writeDisk = (g: DiskGuest) =>
  timedMiBs(g, `dd if=/dev/zero of=${g.partition} bs=1M count=${BLOCK_MIB} oflag=direct 2>&1`);
const readDisk = (g: DiskGuest) =>
  timedMiBs(g, `dd if=${g.partition} of=/dev/null bs=1M count=${BLOCK_MIB} iflag=direct 2>&1`);

async function virtkitGuest(disk: string): Promise<DiskGuest> {
  const session = await LinuxSession.boot("minimal", {
    system: VIRTIO_SYSTEM,
    clock: "realtime",
    disk: { backend: openDiskImage(disk) },
    network: { connect: ({ clock, host }) => createUserNetwork({ clock, host }) },
  });
  await session.login();
  // Kernel messages (crng init, …) would land in the middle of a command's output.
  await session.run("dmesg -n 1");
  await session.run("udhcpc -i eth0 -q -s /etc/udhcpc/default.script");
  return {
    name: "virtkit",
    partition: "/dev/vda",
    run: (c) => session.run(c),
    stop: () => session.powerOff("linux: the guest powered off"),
  };
}

function markdown(date: string, rows: ThroughputRow[]): string {
  return [
    `# virtIO benchmark, ${date}`,
    "",
    "Throughput (MiB/s) of a guest's virtIO disk and NIC, timed on the host around each guest command",
    "(end to end, as a user at the console sees it). virtkit: `examples/virtio` — the guest's virtio-blk",
    "and virtio-net emulated by the VMM, their I/O through sDDF (block virtualiser and virtio-blk driver",
    `to the board's disk on a raw ${NEW_DISK_BYTES / MEBIBYTE} MiB image; net virtualisers, copier and virtio-net driver to`,
    "the board's NIC and the user-mode network), realtime clock. QEMU: `qemu-system-aarch64 -M",
    "virt,gic-version=2 -cpu cortex-a53 -m 256M` (TCG) with `virtio-blk-device` on a copy of the same",
    "image and `virtio-net-device` on `-netdev user`, the same kernel and initramfs.",
    `Block: busybox \`dd\` of ${BLOCK_MIB} MiB in 1 MiB blocks with O_DIRECT, to and from the partition`,
    `(/dev/vda on virtkit, /dev/vda1 in QEMU). Net: ${TRANSFER_BYTES / MEBIBYTE} MiB over TCP between busybox \`nc\` and a`,
    `host socket on 127.0.0.1 through each machine's NAT. Medians of ${ROUNDS} rounds, virtkit and QEMU alternating;`,
    "ratio = virtkit / QEMU (above 1.0 virtkit is faster).",
    `Host: ${cpus()[0]?.model ?? "unknown"}, ${cpus().length} cores, Node ${process.versions.node}.`,
    "",
    "| work | virtkit MiB/s (rounds) | QEMU MiB/s (rounds) | ratio |",
    "|---|---|---|---|",
    ...rows.map(throughputTableRow),
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  ensureDebianPackages(["qemu-system-arm"]);
  const images = await ensureGuestImages({
    kernel: "minimal",
    example: "virtio",
    onProgress: streamProgress(process.stderr),
  });
  const work = mkdtempSync(join(tmpdir(), "virtkit-bench-virtio-"));
  const virtkitDisk = join(work, "virtkit.img");
  openDiskImage(virtkitDisk).close(); // created with its partition table
  const qemuDisk = join(work, "qemu.img");
  copyFileSync(virtkitDisk, qemuDisk);
  const rows: ThroughputRow[] = [
    { label: "block write (dd, O_DIRECT)", virtkitMiBs: [], qemuMiBs: [] },
    { label: "block read (dd, O_DIRECT)", virtkitMiBs: [], qemuMiBs: [] },
    { label: "net guest → host (TCP)", virtkitMiBs: [], qemuMiBs: [] },
    { label: "net host → guest (TCP)", virtkitMiBs: [], qemuMiBs: [] },
  ];
  process.stderr.write("bench:virtio: booting both guests\n");
  const virtkit = await virtkitGuest(virtkitDisk);
  const qemu: DiskGuest = {
    ...(await bootQemuGuest(images, [
      ...["-drive", `file=${qemuDisk},if=none,format=raw,id=disk0`],
      ...["-device", "virtio-blk-device,drive=disk0"],
    ])),
    partition: "/dev/vda1",
  };
  for (let r = 0; r < ROUNDS; r++) {
    for (const [guest, key] of [
      [virtkit, "virtkitMiBs"],
      [qemu, "qemuMiBs"],
    ] as const) {
      rows[0]![key].push(await writeDisk(guest));
      rows[1]![key].push(await readDisk(guest));
      rows[2]![key].push(await guestToHost(guest));
      rows[3]![key].push(await hostToGuest(guest));
      process.stderr.write(`bench:virtio: round ${r + 1} ${guest.name} done\n`);
    }
  }
  await virtkit.stop();
  await qemu.stop();
  const date = resultDate();
  mkdirSync(RESULTS, { recursive: true });
  const base = join(RESULTS, `virtio-${date}`);
  writeFileSync(`${base}.json`, `${JSON.stringify({ date, blockMiB: BLOCK_MIB, rows }, null, 2)}\n`);
  const report = markdown(date, rows);
  writeFileSync(`${base}.md`, report);
  process.stdout.write(report);
}

await main();
