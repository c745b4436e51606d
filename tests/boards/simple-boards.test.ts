// libvmm's CI checks for the `simple` example on every board virtkit has (clocksource, login, a
// command, poweroff), each UART model driven by its Linux driver (earlycon and console, characters both
// ways, interrupts), and seed 004's MaaXBoard lessons: the SiP call the VMM must answer, and guest RAM
// too small for the images, refused before boot. All on virtkit's own core, with the minimal kernel.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { boardNamed } from "../../src/machine/boards/index.ts";
import { LinuxSession } from "../system/linux-session.ts";
import { maaxboardVmm } from "../../examples/simple/maaxboard/vmm.ts";

const EXAMPLES = join(import.meta.dirname, "../../examples/simple");
const systemFor = (board: string) => join(EXAMPLES, board, "simple.system");

/** What each board's guest shows of its UART: the driver's probe line and its /proc/interrupts entry. */
const BOARDS = [
  {
    name: "qemu_virt_aarch64",
    probe: /9000000\.pl011: ttyAMA0 at MMIO 0x9000000 \(irq = \d+, base_baud = 0\) is a PL011 rev1/,
    interrupt: /^ *(\d+): +(\d+) +GIC-0 +33 Level +uart-pl011$/m,
  },
  {
    name: "maaxboard",
    probe: /30860000\.serial: ttymxc0 at MMIO 0x30860000 \(irq = \d+, base_baud = 1562500\) is a IMX/,
    interrupt: /^ *(\d+): +(\d+) +GICv3 +58 Level +30860000\.serial$/m,
  },
  {
    name: "odroidc4",
    probe: /ff803000\.serial: ttyAML0 at MMIO 0xff803000 \(irq = \d+, base_baud = 1500000\) is a meson_uart/,
    interrupt: /^ *(\d+): +(\d+) +GIC-0 +225 Edge +ttyAML0$/m,
  },
];

/** The count of the UART's interrupt in /proc/interrupts. */
async function uartInterrupts(session: LinuxSession, pattern: RegExp): Promise<number> {
  const table = await session.run("cat /proc/interrupts");
  const match = pattern.exec(table);
  expect(match, table).not.toBeNull();
  return Number(match![2]);
}

describe.each(BOARDS)("the simple example on $name", ({ name, probe, interrupt }) => {
  it("passes libvmm's CI checks: clocksource, login, a command, poweroff", async () => {
    const board = boardNamed(name);
    const session = await LinuxSession.boot("minimal", { system: systemFor(name), board });
    const boot = await session.waitFor("clocksource: Switched to clocksource arch_sys_counter");
    expect(boot).toContain("Booting Linux on physical CPU 0x0000000000");
    expect(boot).toContain("psci: PSCIv1.1 detected in firmware.");
    await session.waitFor("buildroot login: ");
    expect(session.console.output).toMatch(probe);
    session.type("root\n");
    await session.waitFor("# ");
    expect(await session.run("uname -m")).toBe("aarch64\n");
    // The UART's interrupt keeps arriving while the guest sleeps in WFI and its timer fires.
    expect(await session.run("sleep 1; echo slept")).toBe("slept\n");
    await session.powerOff();
    expect(session.console.output).toContain("VMM|INFO: linux: the guest powered off (PSCI SYSTEM_OFF)");
  }, 600_000);

  it("drives the board's UART with its Linux driver: characters both ways, interrupts, the console", async () => {
    const board = boardNamed(name);
    const session = await LinuxSession.boot("minimal", { system: systemFor(name), board });
    await session.login();
    const before = await uartInterrupts(session, interrupt);
    expect(before).toBeGreaterThan(0);
    // A typed line longer than the UART's receive FIFO, echoed back: input waits for FIFO space.
    const line = Array.from({ length: 60 }, (_, i) => String.fromCharCode(97 + (i % 26))).join("");
    expect(await session.run(`echo ${line}`)).toBe(`${line}\n`);
    // Output far beyond the transmit FIFO and the tty's buffer.
    const numbers = await session.run("seq 1 3000");
    expect(numbers.split("\n").slice(0, -1)).toEqual(Array.from({ length: 3000 }, (_, i) => String(i + 1)));
    expect(await uartInterrupts(session, interrupt)).toBeGreaterThan(before);
    // A kernel message reaches the console through the driver's console write while the tty is in use.
    session.type("echo virtkit-console-check > /dev/kmsg\n");
    await session.waitFor("] virtkit-console-check\r\n");
    session.system.stop();
    await session.done;
  }, 600_000);
});

describe("the MaaXBoard's i.MX8M SoC driver and its SiP call (seed 004)", () => {
  const board = boardNamed("maaxboard");

  it("with the example's SiP handler, the driver reads revision 2.1 and the boot continues", async () => {
    const session = await LinuxSession.boot("minimal", { system: systemFor("maaxboard"), board });
    const boot = await session.waitFor("buildroot login: ");
    expect(boot).toContain("earlycon: ec_imx6q0 at MMIO 0x0000000030860000 (options '115200')");
    expect(boot).toContain("SoC: i.MX8MQ revision 2.1");
    expect(session.console.output).not.toContain("Unhandled SMC");
    session.type("root\n");
    await session.waitFor("# ");
    // The driver registered the SoC with the unique ID it read from the fuses (OCOTP).
    expect(await session.run("cat /sys/devices/soc0/soc_id /sys/devices/soc0/revision")).toBe(
      "i.MX8MQ\n2.1\n",
    );
    expect(await session.run("cat /sys/devices/soc0/serial_number")).toBe("2C8A1B0D7E4593F1\n");
    session.system.stop();
    await session.done;
  }, 600_000);

  it("without it, the VMM reports service 0x2, function 0x6 and the guest stops in the driver's probe", async () => {
    const session = await LinuxSession.boot("minimal", {
      system: systemFor("maaxboard"),
      board,
      programs: { VMM: maaxboardVmm({ sipHandler: false }) },
    });
    const boot = await session.waitFor("the rest of the system keeps running");
    expect(boot).toContain("VMM|ERROR: Unhandled SMC: unknown value service: 0x2, function number: 0x6");
    expect(boot).toMatch(
      /VMM\|ERROR: linux: vCPU 0 stopped: SiP call 0xc2000006 has no answer: this VMM registered no SiP handler .*, at pc 0x[0-9a-f]+ \(smc #0x0\); the rest of the system keeps running/,
    );
    // The SoC driver's initcall comes before the UART driver's, which never probes: earlycon showed all.
    expect(boot).toContain("printk: bootconsole [ec_imx6q0] enabled");
    expect(boot).not.toContain("SoC: i.MX8MQ revision");
    expect(boot).not.toMatch(BOARDS[1]!.probe);
    session.system.stop();
    await session.done;
    expect(session.console.output).not.toContain("buildroot login:");
  }, 600_000);
});

describe("guest RAM too small for the images (seed 004's memory lesson)", () => {
  it("is refused before boot, with the sizes and the smallest region that would fit", async () => {
    const example = readFileSync(systemFor("maaxboard"), "utf8");
    const small = example.replace('size="0xf_000_000"', 'size="0x4_000_000"');
    expect(small).not.toBe(example);
    const dir = mkdtempSync(join(tmpdir(), "virtkit-small-ram-"));
    const system = join(dir, "small.system");
    writeFileSync(system, small);
    const session = await LinuxSession.boot("minimal", {
      system,
      board: boardNamed("maaxboard"),
      programs: { VMM: maaxboardVmm() },
    });
    const report = await session.waitFor("MON|ERROR: faulting PD: VMM");
    expect(report).toContain("VMM|ERROR: linux: the guest cannot boot:");
    expect(report).toMatch(
      /VMM\|ERROR: {3}guest RAM region 'guest_ram' is too small for the guest's images: it is 64 MiB \(0x4000000 bytes\) at 0x40000000-0x44000000, but the kernel \(image_size\) needs 0x40000000-0x[0-9a-f]+, the DTB 0x44000000-0x[0-9a-f]+ and the initrd 0x44500000-0x[0-9a-f]+$/m,
    );
    expect(report).toMatch(
      /VMM\|ERROR: {3}the smallest region that holds them all is 0x4[0-9a-f]{6} bytes \([\d.]+ MiB; 0x4[0-9a-f]00000 keeps 2 MiB pages\): make 'guest_ram' at least that big in the \.system file/,
    );
    expect(session.console.output).not.toContain("Booting Linux");
    session.system.stop();
    await session.done;
  }, 600_000);
});
