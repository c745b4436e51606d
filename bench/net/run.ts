// `npm run bench:net`: TCP throughput over the guest's virtio-net NIC, guest→host and host→guest,
// on virtkit (the network example: the NIC passed through, virtkit's user-mode network, NAT to a host
// socket) and in qemu-system-aarch64 (TCG, `-netdev user`, the same kernel and initramfs) in the same
// run, alternating, medians of the rounds; results in bench/results/net-<date>.json and .md.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { ensureGuestImages } from "../../src/guest/images.ts";
import { streamProgress } from "../../src/guest/progress.ts";
import { ensureDebianPackages } from "../../src/host/debian-packages.ts";
import { createUserNetwork } from "../../src/machine/backends/net/user-network.ts";
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

const NETWORK_SYSTEM = join(import.meta.dirname, "../../examples/network/qemu_virt_aarch64/network.system");
const RESULTS = join(import.meta.dirname, "../results");
const ROUNDS = 3;

async function virtkitGuest(): Promise<Guest> {
  const session = await LinuxSession.boot("minimal", {
    system: NETWORK_SYSTEM,
    clock: "realtime",
    network: { connect: ({ clock, host }) => createUserNetwork({ clock, host }) },
  });
  await session.login();
  await session.run("udhcpc -i eth0 -q -s /etc/udhcpc/default.script");
  return { name: "virtkit", run: (c) => session.run(c), stop: () => session.powerOff() };
}

function markdown(date: string, rows: ThroughputRow[]): string {
  return [
    `# Network benchmark, ${date}`,
    "",
    `TCP throughput (MiB/s) of a ${TRANSFER_BYTES / MEBIBYTE} MiB transfer between a host socket on 127.0.0.1 and the`,
    "guest (busybox `nc` over the guest's virtio-net NIC, reached through each machine's user-mode NAT at",
    "10.0.2.2), timed on the host from accepting the connection to its end. virtkit: the network example",
    "(`examples/network`), the NIC passed through, virtkit's user-mode network, realtime clock. QEMU:",
    "`qemu-system-aarch64 -M virt,gic-version=2 -cpu cortex-a53 -m 256M -netdev user` (TCG), the same kernel",
    `and initramfs. Medians of ${ROUNDS} rounds, virtkit and QEMU alternating; ratio = virtkit / QEMU (above 1.0`,
    "virtkit is faster).",
    `Host: ${cpus()[0]?.model ?? "unknown"}, ${cpus().length} cores, Node ${process.versions.node}.`,
    "",
    "| direction | virtkit MiB/s (rounds) | QEMU MiB/s (rounds) | ratio |",
    "|---|---|---|---|",
    ...rows.map(throughputTableRow),
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  ensureDebianPackages(["qemu-system-arm"]);
  const images = await ensureGuestImages({ kernel: "minimal", onProgress: streamProgress(process.stderr) });
  const rows: ThroughputRow[] = [
    { label: "guest → host", virtkitMiBs: [], qemuMiBs: [] },
    { label: "host → guest", virtkitMiBs: [], qemuMiBs: [] },
  ];
  process.stderr.write("bench:net: booting both guests\n");
  const virtkit = await virtkitGuest();
  const qemu = await bootQemuGuest(images);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [guest, key] of [
      [virtkit, "virtkitMiBs"],
      [qemu, "qemuMiBs"],
    ] as const) {
      rows[0]![key].push(await guestToHost(guest));
      rows[1]![key].push(await hostToGuest(guest));
      process.stderr.write(`bench:net: round ${round + 1} ${guest.name} done\n`);
    }
  }
  await virtkit.stop();
  await qemu.stop();
  const date = resultDate();
  mkdirSync(RESULTS, { recursive: true });
  const base = join(RESULTS, `net-${date}`);
  writeFileSync(
    `${base}.json`,
    `${JSON.stringify({ date, transferBytes: TRANSFER_BYTES, rows }, null, 2)}\n`,
  );
  const report = markdown(date, rows);
  writeFileSync(`${base}.md`, report);
  process.stdout.write(report);
}

await main();
