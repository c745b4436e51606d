// A hostile bare-metal guest (tests/guests/virtio_fuzz.c) as the VM of examples/virtio, booted as a raw-binary
// kernel: it feeds the VMM's virtio console, block, net and sound devices adversarial and random descriptor
// chains, random MMIO accesses and notifications of queues never set up, over the real sDDF driver PDs. The
// host process lives, the native PD sharing the UART keeps answering, every broken chain is reported with the
// VM, device, queue and descriptor the guest broke, and each device still serves a valid request afterwards.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { HarnessConsole } from "../../src/machine/backends/harness-console.ts";
import { createUserNetwork } from "../../src/machine/backends/net/user-network.ts";
import { memoryBlockBackend } from "../../src/machine/devices/virtio/blk.ts";
import { bootSystemFile } from "../../src/microkit/index.ts";
import { LIBVMM_VIRTIO_PLACEMENT } from "../../src/libvmm/index.ts";
import { MbrPartitionType, mbrSector } from "../../src/sddf/index.ts";
import { hex } from "../../src/util/hex.ts";
import { ensureCpuTestTools } from "../cpu/toolchain.ts";
import { buildGuest } from "../guests/build.ts";

const toolsProblem = ensureCpuTestTools();
if (toolsProblem && process.env.CI) throw new Error(toolsProblem);
const suite = toolsProblem ? describe.skip : describe;

const VIRTIO_SYSTEM = join(import.meta.dirname, "../../examples/virtio/virtio.system");
/** A raw binary (no arm64 Image header) boots at RAM base + 0x80000, as QEMU's -kernel loads one. */
const GUEST_LOAD_ADDRESS = 0x4008_0000;
const SECTOR = 512;
const PARTITION_LBA = 2048;
const DISK_BYTES = 16 * 1024 * 1024;
/** The partition's first sector: a boot sector's signature, and no byte 0x01 (a random chain's header word). */
const BOOT_SECTOR_TEXT = "virtkit fuzz disk";

/** Each device as the VMM names it and its queues (virtio 1.2 §5.1.2, §5.2.2, §5.3.2, §5.14.2). */
const DEVICES = {
  "virtio-console": { base: LIBVMM_VIRTIO_PLACEMENT.console.base, queues: ["receiveq0", "transmitq0"] },
  "virtio-blk": { base: LIBVMM_VIRTIO_PLACEMENT.blk.base, queues: ["requestq"] },
  "virtio-net": { base: LIBVMM_VIRTIO_PLACEMENT.net.base, queues: ["receiveq1", "transmitq1"] },
  "virtio-snd": { base: LIBVMM_VIRTIO_PLACEMENT.sound.base, queues: ["controlq", "eventq", "txq", "rxq"] },
} as const;
type DeviceName = keyof typeof DEVICES;
const deviceName = (name: string): DeviceName => {
  if (!(name in DEVICES)) throw new Error(`the guest named an unknown device ${name}`);
  return name as DeviceName;
};
/** How the VMM names a device of the VM "linux" in its reports. */
const reportName = (device: DeviceName) => `linux: ${device} at ${hex(DEVICES[device].base)}`;
const NEEDS_RESET = "set DEVICE_NEEDS_RESET (0x40) in Status";

function fuzzDisk() {
  const bytes = new Uint8Array(DISK_BYTES);
  bytes.set(
    mbrSector([
      {
        type: MbrPartitionType.FAT32_LBA,
        startLba: PARTITION_LBA,
        sectors: DISK_BYTES / SECTOR - PARTITION_LBA,
      },
    ]),
  );
  const boot = PARTITION_LBA * SECTOR;
  bytes.set(new TextEncoder().encode(BOOT_SECTOR_TEXT), boot);
  bytes.set([0x55, 0xaa], boot + 510);
  return { bytes, backend: memoryBlockBackend(bytes) };
}

suite("examples/virtio under a hostile bare-metal guest (virtio_fuzz)", () => {
  it("reports every broken chain by VM, device, queue and descriptor; the host, the other PDs and the devices survive", async () => {
    const kernel = buildGuest("virtio_fuzz", GUEST_LOAD_ADDRESS).bin;
    const disk = fuzzDisk();
    const console = new HarnessConsole();
    const soundDirectory = mkdtempSync(join(tmpdir(), "virtkit-fuzz-sound-"));
    onTestFinished(() => rmSync(soundDirectory, { recursive: true, force: true }));
    const started = performance.now();
    const system = await bootSystemFile(VIRTIO_SYSTEM, {
      console,
      guestBoot: { kernel, initrd: "none" },
      disk: { backend: disk.backend },
      network: { connect: ({ clock, host }) => createUserNetwork({ clock, host }) },
      hostOutput: { soundDirectory },
    });
    const done = system.run();
    // Polled, not HarnessConsole.waitFor: its search after every write re-reads the whole output, and the
    // random console chains make a lot of it.
    const wait = async (text: string) => {
      for (const deadline = performance.now() + 60_000; !console.output.includes(text);) {
        if (performance.now() > deadline) throw new Error(`no "${text}" in:\n${console.output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    // The fuzzing is over when the guest waits for input; the native PD on the same UART still answers.
    await wait("console: waiting for input");
    console.type("\x1c1\r");
    console.type("ping\r");
    await wait('hello: you said "ping"');
    console.type("\x1c0\r");
    console.type("bye\r");
    await done;
    const seconds = (performance.now() - started) / 1000;
    const output = console.output.replace(/\r/g, "");
    const lines = output.split("\n");

    expect(output, output.slice(-4000)).toContain("virtio_fuzz: done");
    expect(lines.filter((l) => l.includes("FAIL"))).toEqual([]);
    expect(output).toContain("hello: a native PD on the same UART as the guest");
    // Nothing escaped the devices: no vCPU stopped, no internal error, no PD faulted, and the sDDF
    // components behind the VMM saw only well-formed requests (their only line: the client switches).
    expect(output).not.toMatch(/vCPU \d+ stopped|internal error|virtkit bug|MON\|ERROR/);
    const sddfLines = (output.match(/[A-Z_ ]+\|(ERR|ERROR|LOG): .*/g) ?? []).filter(
      (l) => !l.startsWith("VMM|") && !/^VIRT_RX\|LOG: switching to client \d$/.test(l),
    );
    expect(sddfLines).toEqual([]);

    // Every report is the VMM's error about one of the VM's devices.
    // (A report may follow bytes a random chain sent to the console on the same line.)
    const reports = output.match(/VMM\|ERROR: .*/g) ?? [];
    for (const r of reports) {
      expect(r).toMatch(/^VMM\|ERROR: linux: virtio-(console|blk|net|snd) at 0x1[3567]0000: /);
    }
    // Each chain the guest broke on purpose is reported, naming the descriptor (or ring entry) it broke.
    const unmatched = [...reports];
    const expectations = lines.filter((l) => l.startsWith("expect "));
    expect(expectations.length).toBeGreaterThanOrEqual(4 * 11); // each kind of broken chain on each device
    for (const e of expectations) {
      const m = /^expect (\S+) (\d+): (.*)$/.exec(e)!;
      const device = deviceName(m[1]!);
      const queue = Number(m[2]);
      const where = m[3]!;
      const subject =
        `VMM|ERROR: ${reportName(device)}: queue ${queue} (${DEVICES[device].queues[queue]})` +
        (where.startsWith("has ") ? ` ${where}` : `: ${where}`);
      // "descriptor 1" is not "descriptor 12".
      const names = (r: string) =>
        r.startsWith(subject) && !(/\d$/.test(subject) && /^\d/.test(r.slice(subject.length)));
      const at = unmatched.findIndex((r) => names(r) && r.includes(NEEDS_RESET));
      expect(at, `no report for "${e}" among:\n${unmatched.join("\n")}`).toBeGreaterThanOrEqual(0);
      unmatched.splice(at, 1);
    }
    // Every DEVICE_NEEDS_RESET the guest saw (on purpose or at random) came with a report.
    for (const device of Object.keys(DEVICES) as DeviceName[]) {
      const seen = Number(new RegExp(`^reset seen ${device} (\\d+)$`, "m").exec(output)?.[1]);
      const reported = reports.filter(
        (r) => r.startsWith(`VMM|ERROR: ${reportName(device)}: queue `) && r.includes(NEEDS_RESET),
      ).length;
      expect(seen, device).toBeGreaterThan(10);
      expect(reported, device).toBeGreaterThanOrEqual(seen);
    }

    // The random well-formed requests were answered in their own status, some of each kind.
    for (const device of ["virtio-blk", "virtio-snd"]) {
      // blk: OK, IOERR, UNSUPP; sound: OK, BAD_MSG, NOT_SUPP; never a fourth (sound's IO_ERR: the back-end failed).
      const [ok, failed, unsupported] = (
        new RegExp(
          `^random requests: \\d+ rounds on ${device}, \\d+ answered, statuses (\\d+) (\\d+) (\\d+) 0$`,
          "m",
        ).exec(output) ?? []
      )
        .slice(1)
        .map(Number);
      expect(
        [ok, failed, unsupported].every((n) => n! > 0),
        device,
      ).toBe(true);
    }

    // Their level-triggered SPIs came, and none after its level had dropped (nothing in InterruptStatus).
    const irqs =
      /^interrupts: virtio-console (\d+) virtio-blk (\d+) virtio-net (\d+) virtio-snd (\d+), with nothing in InterruptStatus: (\d+) (\d+) (\d+) (\d+)$/m
        .exec(output)
        ?.slice(1)
        .map(Number);
    expect(irqs?.slice(0, 4).every((n) => n > 0)).toBe(true);
    expect(irqs?.slice(4)).toEqual([0, 0, 0, 0]);

    // After all that, one valid request per device.
    expect(output).toContain("console ok: still writing");
    expect(output).toContain("blk overlapping writes: 40 rounds, 0 mismatches");
    expect(output).toContain('blk ok: sector 0 ends 0x55 0xaa, sector 1 reads back "written by virtio_fuzz"');
    expect(output).toMatch(/net ok: ARP reply, 10\.0\.2\.2 is at [0-9a-f:]{17}/);
    expect(output).toMatch(/sound ok: PCM_INFO answered for [1-9]\d* streams/);
    expect(output).toContain('console ok: received "bye"');
    const pattern = "written by virtio_fuzz";
    const written = disk.bytes.subarray(
      (PARTITION_LBA + 1) * SECTOR,
      (PARTITION_LBA + 1) * SECTOR + pattern.length,
    );
    expect(new TextDecoder().decode(written)).toBe(pattern);
    expect(disk.backend.flushes).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(60);
  }, 120_000);
});
