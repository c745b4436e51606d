// The MaaXBoard and ODROID-C4 as boards: their facts, the running board (devices, firmware), the
// guest device trees they give Linux, and the Microkit checks of their physical memory, through the
// library and through `virtkit check --board` as a user runs it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/kernel/time.ts";
import { BOARDS, boardNamed } from "../../src/machine/boards/index.ts";
import type { Board, BoardDescription } from "../../src/machine/boards/board.ts";
import { HarnessConsole } from "../../src/machine/backends/harness-console.ts";
import { guestLayout } from "../../src/guest/layout.ts";
import { guestDtb } from "../../src/guest/dtb/guest-dtb.ts";
import { ensureGuestImages } from "../../src/guest/images.ts";
import { cellsOf, findNode, getProperty, readFdt, stringsOf } from "../../src/libvmm/fdt.ts";
import { parseSystemFile } from "../../src/sdf/index.ts";
import { microkitPlatform } from "../../src/microkit/platform.ts";
import { errorOf, parse, pd, system } from "../sdf/helpers.ts";

const PSCI_VERSION = 0x8400_0000n;
const PSCI_SYSTEM_OFF = 0x8400_0008n;
const NOT_SUPPORTED = 0xffff_ffff_ffff_ffffn;

function create(
  description: BoardDescription,
  onPowerOff?: () => void,
): { board: Board; console: HarnessConsole } {
  const console = new HarnessConsole();
  const board = description.create({
    console,
    host: { post: (event) => event(), openSource: () => () => {} },
    clock: new VirtualClock(),
    onPowerOff,
  });
  return { board, console };
}

describe("the board list", () => {
  it("has QEMU virt, the MaaXBoard and the ODROID-C4 by their Microkit names", () => {
    expect(BOARDS.map((b) => b.name)).toEqual(["qemu_virt_aarch64", "maaxboard", "odroidc4"]);
    expect(boardNamed("maaxboard").summary).toContain("i.MX8MQ");
    expect(boardNamed("odroidc4").summary).toContain("S905X3");
    expect(() => boardNamed("zcu102")).toThrow(
      "Error: unknown board 'zcu102'; virtkit has qemu_virt_aarch64, maaxboard, odroidc4",
    );
  });
});

describe("the MaaXBoard", () => {
  const maaxboard = boardNamed("maaxboard");

  it("has Microkit's map: 2 GiB of RAM at 0x40000000, a GICv3, UART1 on INTID 58", () => {
    expect(maaxboard.ram).toEqual({ base: 0x4000_0000, size: 0x8000_0000 });
    expect(maaxboard.gic).toMatchObject({
      version: 3,
      distributor: { base: 0x3880_0000, size: 0x1_0000 },
      redistributors: { base: 0x3888_0000, size: 0x10_0000 },
    });
    expect(maaxboard.uart).toEqual({ base: 0x3086_0000, size: 0x1_0000, irq: 58 });
    expect(maaxboard.virtioMmio).toBeUndefined();
  });

  it("runs with the i.MX UART on the console, the fuses and the firmware's PSCI", () => {
    let poweredOff = false;
    const { board, console } = create(maaxboard, () => (poweredOff = true));
    expect(board.memory.isRam(0x4000_0000, 0x8000_0000)).toBe(true);
    expect(board.memory.isRam(0x3fff_f000)).toBe(false);
    expect(board.gicVcpuInterface).toBe(0x3102_0000);
    const uart = board.deviceAt(0x3086_0040)!;
    expect(uart.device).toMatchObject({ name: "imx-uart" });
    uart.device.write(0x40, 4, 0x4bn, 0); // UTXD, as the firmware left the UART enabled
    board.debugPutc(0x21);
    expect(console.output).toBe("K!");
    const ocotp = board.deviceAt(0x3035_0000)!.device;
    expect(ocotp.read(0x40, 4, 0)).toBe(0xff00_55aan); // B1 silicon's magic word
    expect([ocotp.read(0x420, 4, 0), ocotp.read(0x410, 4, 0)]).toEqual([0x2c8a_1b0dn, 0x7e45_93f1n]);
    expect(board.deviceAt(0x3038_0000)).toBeUndefined(); // the clock controller is not modelled
    expect(board.secureMonitorCall([PSCI_VERSION])[0]).toBe(0x1_0001n);
    expect(board.secureMonitorCall([0xc200_0006n])[0]).toBe(NOT_SUPPORTED);
    expect(board.secureMonitorCall([PSCI_SYSTEM_OFF])[0]).toBe(0n);
    expect(poweredOff).toBe(true);
  });

  it("has no virtio-mmio slot for a NIC", () => {
    expect(() =>
      maaxboard.create({
        console: new HarnessConsole(),
        host: { post: () => {}, openSource: () => () => {} },
        clock: new VirtualClock(),
        nic: { slot: 0, mac: "52:55:00:d1:55:01", wire: { send: () => {}, attach: () => {} } as never },
      }),
    ).toThrow("board maaxboard has no virtio-mmio slot for a NIC");
  });

  it("gives its guest an i.MX8MQ device tree: GICv3, UART1 with its alias and clocks, the fuses", () => {
    const layout = guestLayout(maaxboard);
    const tree = readFdt(guestDtb(layout.deviceTree(0x1000)), "maaxboard").root;
    expect(stringsOf(getProperty(tree, "compatible")!)).toEqual(["avnet,maaxboard", "fsl,imx8mq"]);
    expect(stringsOf(getProperty(tree, "model")!)).toEqual(["Avnet MaaXBoard"]);
    expect(stringsOf(getProperty(findNode(tree, "/intc@38800000")!, "compatible")!)).toEqual(["arm,gic-v3"]);
    const uart = findNode(tree, "/serial@30860000")!;
    expect(stringsOf(getProperty(uart, "compatible")!)).toEqual(["fsl,imx8mq-uart", "fsl,imx6q-uart"]);
    expect(cellsOf(getProperty(uart, "interrupts")!)).toEqual([0, 26, 4]); // SPI 26, level-high
    expect(stringsOf(getProperty(uart, "clock-names")!)).toEqual(["ipg", "per"]);
    expect(stringsOf(getProperty(findNode(tree, "/aliases")!, "serial0")!)).toEqual(["/serial@30860000"]);
    const chosen = findNode(tree, "/chosen")!;
    expect(stringsOf(getProperty(chosen, "stdout-path")!)).toEqual(["/serial@30860000"]);
    expect(stringsOf(getProperty(chosen, "bootargs")!)[0]).toBe(
      "console=ttymxc0,115200 earlycon=ec_imx6q,0x30860000,115200",
    );
    const efuse = findNode(tree, "/efuse@30350000")!;
    expect(stringsOf(getProperty(efuse, "compatible")!)).toEqual(["fsl,imx8mq-ocotp", "syscon"]);
    expect(getProperty(efuse, "clocks")).toBeDefined(); // the SoC driver enables it before its SiP call
    expect(findNode(tree, "/memory@40000000")).toBeDefined();
  });
});

describe("guest images for the boards", () => {
  it("refuses Debian's cloud kernel, which has no i.MX or Meson UART driver", async () => {
    const cacheRoot = mkdtempSync(join(tmpdir(), "virtkit-boards-cache-"));
    for (const [board, kind] of [
      ["maaxboard", "i.MX"],
      ["odroidc4", "Meson"],
    ] as const) {
      await expect(
        ensureGuestImages({ board: boardNamed(board), kernel: "debian", cacheRoot }),
      ).rejects.toThrow(
        `--kernel debian: Debian's cloud kernel has no driver for the ${board} guest's ${kind} UART, so the guest would have no console`,
      );
    }
  });
});

describe("the ODROID-C4", () => {
  const odroid = boardNamed("odroidc4");

  it("has Microkit's map: RAM from 0 around the secure monitor, a GIC-400, UART_AO on INTID 225", () => {
    expect(odroid.ram).toEqual({ base: 0, size: 0xf580_0000 });
    expect(odroid.microkit.ramRegions).toEqual([
      { base: 0, size: 0x500_0000 },
      { base: 0x530_0000, size: 0xf580_0000 - 0x530_0000 },
    ]);
    expect(odroid.gic).toMatchObject({ version: 2, distributor: { base: 0xffc0_1000 } });
    expect(odroid.uart).toEqual({ base: 0xff80_3000, size: 0x1000, irq: 225 });
  });

  it("runs with the Meson UART on the console", () => {
    const { board, console } = create(odroid);
    expect(board.memory.isRam(0, 0xf580_0000)).toBe(true);
    expect(board.gicVcpuInterface).toBe(0xffc0_6000);
    const uart = board.deviceAt(0xff80_3000)!;
    expect(uart.device).toMatchObject({ name: "meson-uart" });
    uart.device.write(0, 4, 0x43n, 0); // WFIFO
    board.debugPutc(0x34);
    expect(console.output).toBe("C4");
    expect(board.secureMonitorCall([PSCI_VERSION])[0]).toBe(0x1_0000n);
    expect(board.secureMonitorCall([0x8200_0020n])[0]).toBe(NOT_SUPPORTED); // meson_sm's calls
  });

  it("gives its guest an S905X3 device tree: GIC-400, UART_AO edge-triggered with its crystal clocks", () => {
    const layout = guestLayout(odroid);
    const tree = readFdt(guestDtb(layout.deviceTree(0x1000)), "odroidc4").root;
    expect(stringsOf(getProperty(tree, "compatible")!)).toEqual(["hardkernel,odroid-c4", "amlogic,sm1"]);
    const uart = findNode(tree, "/serial@ff803000")!;
    expect(stringsOf(getProperty(uart, "compatible")!)).toEqual([
      "amlogic,meson-gx-uart",
      "amlogic,meson-ao-uart",
    ]);
    expect(cellsOf(getProperty(uart, "interrupts")!)).toEqual([0, 193, 1]); // SPI 193, edge-rising
    expect(stringsOf(getProperty(uart, "clock-names")!)).toEqual(["xtal", "pclk", "baud"]);
    expect(cellsOf(getProperty(findNode(tree, "/xtal")!, "clock-frequency")!)).toEqual([24_000_000]);
    expect(stringsOf(getProperty(findNode(tree, "/aliases")!, "serial0")!)).toEqual(["/serial@ff803000"]);
    const cpu = findNode(tree, "/cpus/cpu@0")!;
    expect(stringsOf(getProperty(cpu, "compatible")!)).toEqual(["arm,cortex-a55"]);
    expect(findNode(tree, "/memory@20000000")).toBeDefined();
  });
});

describe("the boards' physical memory in system descriptions", () => {
  it("checks each board's simple example, placing the ODROID-C4's guest RAM above the secure monitor", () => {
    for (const board of BOARDS) {
      const file = `examples/simple/${board.name}/simple.system`;
      const description = parseSystemFile(file, { platform: microkitPlatform(board) });
      expect(description.warnings).toEqual([]);
      const guestRam = description.memoryRegions.find((mr) => mr.name === "guest_ram")!;
      expect(guestRam.paddr).toBe(
        { qemu_virt_aarch64: 0x4000_0000, maaxboard: 0x4000_0000, odroidc4: 0x540_0000 }[board.name],
      );
    }
  });

  it("refuses a region that does not fit in the board's RAM, naming the board", () => {
    const huge = system('  <memory_region name="guest_ram" size="0x100_000_000" />', pd("vmm"));
    expect(errorOf(huge, { board: "maaxboard" })).toBe(
      "Error: memory region 'guest_ram' (size 0x100000000) does not fit in the free RAM of maaxboard [0x40000000..0xc0000000) @ test.system:2:3",
    );
    expect(errorOf(huge, { board: "odroidc4" })).toBe(
      "Error: memory region 'guest_ram' (size 0x100000000) does not fit in the free RAM of odroidc4 [0x0..0x5000000), [0x5300000..0xf5800000) @ test.system:2:3",
    );
  });

  it("refuses a phys_addr outside the board's physical memory or on the kernel's devices, naming the board", () => {
    const at = (paddr: string) =>
      system(`  <memory_region name="mr" size="0x1000" phys_addr="${paddr}" />`, pd("a"));
    expect(errorOf(at("0x10000000000"), { board: "maaxboard" })).toBe(
      "Error: memory region 'mr' physical address range [0x10000000000..0x10000001000) is not in any valid memory region of board maaxboard: it ends above 0x10000000000, the top of the board's physical address space @ test.system:2:3",
    );
    expect(errorOf(at("0x38800000"), { board: "maaxboard" })).toBe(
      "Error: memory region 'mr' physical address range [0x38800000..0x38801000) is not in any valid memory region of board maaxboard: it overlaps the GIC distributor [0x38800000..0x38810000), which the seL4 kernel keeps for itself @ test.system:2:3",
    );
    expect(errorOf(at("0x38900000"), { board: "maaxboard" })).toContain(
      "it overlaps the GIC redistributors [0x38880000..0x38980000)",
    );
    expect(errorOf(at("0xffc04000"), { board: "odroidc4" })).toContain(
      "of board odroidc4: it overlaps the GIC virtual interface control [0xffc04000..0xffc05000)",
    );
    expect(errorOf(at("0x8000000"), { board: "qemu_virt_aarch64" })).toContain(
      "of board qemu_virt_aarch64: it overlaps the GIC distributor [0x8000000..0x8010000)",
    );
    // Device memory and RAM are both valid: the UART, the GICV frame, RAM, the secure monitor's hole.
    for (const [paddr, board] of [
      ["0x30860000", "maaxboard"],
      ["0x31020000", "maaxboard"],
      ["0x50000000", "maaxboard"],
      ["0xffc06000", "odroidc4"],
      ["0x5000000", "odroidc4"],
      ["0x8040000", "qemu_virt_aarch64"],
    ] as const) {
      expect(parse(at(paddr), { board }).memoryRegions[0]!.paddr).toBe(Number(paddr));
    }
  });

  it("says so through `virtkit check --board`, with the valid ranges as a hint", () => {
    const file = join(mkdtempSync(join(tmpdir(), "virtkit-boards-")), "gic.system");
    writeFileSync(
      file,
      system('  <memory_region name="gicd" size="0x1000" phys_addr="0xffc01000" />', pd("a")) + "\n",
    );
    const run = (board: string) =>
      spawnSync(process.execPath, ["bin/virtkit.mjs", "check", "--board", board, file], { encoding: "utf8" });
    const odroid = run("odroidc4");
    expect(odroid.status).toBe(1);
    const [first, hint] = odroid.stderr.split("\n");
    expect(first).toBe(
      `Error: memory region 'gicd' physical address range [0xffc01000..0xffc02000) is not in any valid memory region of board odroidc4: it overlaps the GIC distributor [0xffc01000..0xffc02000), which the seL4 kernel keeps for itself @ ${file}:2:3`,
    );
    expect(hint).toBe(
      "hint: the valid ranges on odroidc4 are RAM [0x0..0x5000000), [0x5300000..0xf5800000) and device memory [0x5000000..0x5300000), [0xf5800000..0xffc01000), [0xffc03000..0xffc04000), [0xffc05000..0x10000000000)",
    );
    // The same address is device memory on the MaaXBoard.
    const maax = run("maaxboard");
    expect(maax.stderr).toBe("WARNING: unused memory region 'gicd' @ " + `${file}:2:3\n`);
    expect(maax.status).toBe(0);
  });
});
