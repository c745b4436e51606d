// Shared by the network and virtIO benchmarks: TCP transfers between a host socket on 127.0.0.1 and a
// guest shell (busybox nc through the machine's user-mode NAT at 10.0.2.2), timed on the host; the
// same guest booted in qemu-system-aarch64 to compare with; the statistics and table rows the reports use.
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { guestDtb } from "../../src/guest/dtb/guest-dtb.ts";
import type { GuestImages } from "../../src/guest/images.ts";
import { qemuVirtDeviceTree } from "../../src/guest/layout.ts";
import { boardNamed } from "../../src/machine/boards/index.ts";
import { QemuConsole } from "../../tests/guest/qemu-console.ts";

export const MEBIBYTE = 1 << 20;
export const TRANSFER_BYTES = 16 * MEBIBYTE;

/** A guest shell, on either machine. */
export interface Guest {
  name: string;
  run(command: string): Promise<string>;
  stop(): Promise<void>;
}

/** A host server for one transfer: it reports the seconds from accepting the guest to the end. */
function hostServer(onConnection: (socket: Socket, done: (bytes: number) => void) => void): {
  server: Server;
  result: Promise<{ seconds: number; bytes: number }>;
} {
  let finish!: (value: { seconds: number; bytes: number }) => void;
  const result = new Promise<{ seconds: number; bytes: number }>((resolve) => (finish = resolve));
  const server = createServer((socket) => {
    const start = performance.now();
    onConnection(socket, (bytes) => finish({ seconds: (performance.now() - start) / 1000, bytes }));
  });
  return { server, result };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** Guest → host: the guest pipes zeros into nc; the host counts until the connection ends. */
export async function guestToHost(guest: Guest): Promise<number> {
  const { server, result } = hostServer((socket, done) => {
    let bytes = 0;
    socket.on("data", (chunk) => (bytes += chunk.length));
    socket.on("end", () => done(bytes));
  });
  const port = await listen(server);
  const blocks = TRANSFER_BYTES / 65536;
  await guest.run(`dd if=/dev/zero bs=65536 count=${blocks} 2>/dev/null | nc 10.0.2.2 ${port}`);
  const { seconds, bytes } = await result;
  server.close();
  if (bytes !== TRANSFER_BYTES)
    throw new Error(`${guest.name}: the host got ${bytes} of ${TRANSFER_BYTES} bytes`);
  return TRANSFER_BYTES / MEBIBYTE / seconds;
}

/** Host → guest: the host sends the bytes and closes; the guest counts them. */
export async function hostToGuest(guest: Guest): Promise<number> {
  const chunk = new Uint8Array(65536).fill(0x5a);
  const { server, result } = hostServer((socket, done) => {
    let sent = 0;
    const pump = (): void => {
      while (sent < TRANSFER_BYTES) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once("drain", pump);
      }
      socket.end();
    };
    pump();
    socket.on("close", () => done(sent));
    socket.resume();
  });
  const port = await listen(server);
  const counted = await guest.run(`nc 10.0.2.2 ${port} | wc -c`);
  const { seconds } = await result;
  server.close();
  if (Number(counted.trim()) !== TRANSFER_BYTES) {
    throw new Error(`${guest.name}: the guest counted ${counted.trim()} of ${TRANSFER_BYTES} bytes`);
  }
  return TRANSFER_BYTES / MEBIBYTE / seconds;
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const round = (x: number): number => Math.round(x * 100) / 100;

/** The results file's date: 2026-12-03T1327Z. */
export function resultDate(): string {
  return new Date()
    .toISOString()
    .replace(/:\d\d\.\d+Z$/, "Z")
    .replace(":", "");
}

const QEMU_TIMEOUT_MS = 600_000;

/**
 * The guest in qemu-system-aarch64 (TCG, QEMU virt with virtkit's device tree for it), with a
 * virtio-net NIC on `-netdev user` and `devices` (more QEMU arguments); logged in, kernel messages off
 * the console (they would land in a command's output), eth0 configured by DHCP.
 */
export async function bootQemuGuest(images: GuestImages, devices: string[] = []): Promise<Guest> {
  const dtb = join(mkdtempSync(join(tmpdir(), "virtkit-bench-")), "qemu-virt.dtb");
  writeFileSync(dtb, guestDtb(qemuVirtDeviceTree(boardNamed())));
  const qemu = new QemuConsole([
    ...["-M", "virt,gic-version=2", "-cpu", "cortex-a53", "-m", "256M", "-nographic", "-no-reboot"],
    ...["-kernel", images.kernel, "-initrd", images.initrd!, "-dtb", dtb],
    ...devices,
    ...["-netdev", "user,id=net0", "-device", "virtio-net-device,netdev=net0"],
  ]);
  await qemu.waitFor("buildroot login: ", QEMU_TIMEOUT_MS);
  qemu.send("root\n");
  await qemu.waitFor("# ", QEMU_TIMEOUT_MS);
  await qemu.run("dmesg -n 1", QEMU_TIMEOUT_MS);
  await qemu.run("udhcpc -i eth0 -q -s /etc/udhcpc/default.script", QEMU_TIMEOUT_MS);
  return {
    name: "qemu",
    run: (c) => qemu.run(c, QEMU_TIMEOUT_MS),
    stop: async () => {
      qemu.send("poweroff\n");
      await qemu.exit(60_000);
    },
  };
}

/** One measurement's rounds on both machines. */
export interface ThroughputRow {
  label: string;
  virtkitMiBs: number[];
  qemuMiBs: number[];
}

/** A report table row: medians, the rounds, and the ratio virtkit / QEMU. */
export function throughputTableRow(r: ThroughputRow): string {
  return (
    `| ${r.label} | ${round(median(r.virtkitMiBs))} (${r.virtkitMiBs.map(round).join(", ")}) | ` +
    `${round(median(r.qemuMiBs))} (${r.qemuMiBs.map(round).join(", ")}) | ` +
    `${round(median(r.virtkitMiBs) / median(r.qemuMiBs))} |`
  );
}
