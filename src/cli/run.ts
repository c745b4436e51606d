// `virtkit run`: boot a system description (or a system image) with its PDs and attach the console.

import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { Option, type Command } from "commander";
import type { RegisterCommand } from "./commands.ts";
import type { ClockMode } from "../kernel/index.ts";
import { CPU_TIERS, type CpuTier } from "../machine/cpu.ts";
import {
  addSystemOptions,
  loadSystemTarget,
  systemTarget,
  type SystemOptions,
  type SystemTarget,
} from "./check.ts";
import { ProgramError, bootSystem, type SystemDisk } from "../microkit/index.ts";
import { boardNamed } from "../machine/boards/index.ts";
import { addNetworkOptions, systemNetwork, type NetworkOptions } from "./network.ts";
import { addDeviceOptions, systemDisk, type DeviceOptions } from "./devices.ts";
import type { Console } from "../machine/devices/console.ts";
import { StdioConsole, TerminalConsole } from "../machine/backends/stream-console.ts";

interface RunOptions extends SystemOptions, NetworkOptions, DeviceOptions {
  console?: "tty" | "stdio";
  kernel?: string;
  initrd?: string;
  dtb?: string;
  append?: string;
  clock?: ClockMode;
  cpu?: CpuTier;
}

export const registerRun: RegisterCommand = (program, setExitCode) => {
  addDeviceOptions(
    addNetworkOptions(
      addSystemOptions(
        program
          .command("run")
          .description(
            "Run a Microkit system: a .system file, or the image the SDK's microkit tool wrote (virtkit sdk). " +
              "A PD's program_image is an ELF file, or else a TypeScript module (x.elf is x.ts or x.js beside " +
              "the .system file, or in a --search-path folder). The console is the board's PL011 UART. " +
              "In a terminal, keys go to the system as typed and Ctrl-A x quits. Exits 0 when nothing " +
              "can happen any more.",
          )
          .argument(
            "<system>",
            "a .system file, a system image, or a folder holding exactly one .system file",
          )
          .addOption(
            new Option(
              "--console <kind>",
              "tty: raw terminal (default in a terminal); stdio: plain pipes",
            ).choices(["tty", "stdio"]),
          )
          .addOption(
            new Option(
              "--clock <clock>",
              "realtime (default with --console tty): guest time follows the wall clock; virtual (default " +
                "with --console stdio): deterministic, idle time skipped, and paced by the wall clock only " +
                "once input has ended",
            ).choices(["virtual", "realtime"]),
          )
          .addOption(
            new Option(
              "--cpu <tier>",
              "jit (default, or VIRTKIT_CPU): hot blocks translated to wasm; interp: every guest instruction " +
                "interpreted (same results and instruction counts)",
            ).choices(CPU_TIERS),
          )
          .option(
            "--kernel <kernel>",
            "the guest kernel of VMMs that boot Linux (examples/simple): minimal (default), debian, an arm64 " +
              "Image file, or any other file, which boots as a raw binary at RAM base + 0x80000 as with QEMU",
          )
          .option("--initrd <file>", "the guest's initramfs instead of the built one, or none")
          .option("--dtb <file>", "the guest's device tree (.dtb or .dts), given to it as is")
          .option("--append <args>", "the guest kernel's command line (/chosen/bootargs), as QEMU's -append"),
      ),
    ),
  ).action(async (target: string, options: RunOptions, command: Command) => {
    const description = loadSystemTarget(systemFileOf(target, options.board), options, command);
    if (!description) {
      setExitCode(1);
      return;
    }
    let disk: SystemDisk | undefined;
    try {
      disk = systemDisk(options, description, boardNamed(options.board));
    } catch (error) {
      process.stderr.write(`Error: ${(error as Error).message}\n`);
      setExitCode(1);
      return;
    }
    const kind = options.console ?? (process.stdin.isTTY && process.stdout.isTTY ? "tty" : "stdio");
    if (kind === "tty" && !process.stdin.isTTY) {
      process.stderr.write("Error: --console tty needs a terminal on stdin; use --console stdio for pipes\n");
      setExitCode(1);
      return;
    }
    // A person at a terminal sees the guest's clock follow theirs; scripts get the reproducible one.
    const clock: ClockMode = options.clock ?? (kind === "tty" ? "realtime" : "virtual");
    let stop = (): void => {};
    const console: Console =
      kind === "tty"
        ? new TerminalConsole(process.stdin, process.stdout, () => stop())
        : new StdioConsole(process.stdin, process.stdout, () => stop());
    try {
      const system = await bootSystem(description, {
        console,
        board: boardNamed(options.board),
        searchPaths: options.searchPath,
        guestBoot: {
          kernel: options.kernel,
          initrd: options.initrd,
          dtb: options.dtb,
          append: options.append,
        },
        clock,
        cpu: options.cpu,
        // The user-mode network is the default only on a board with a NIC slot (QEMU virt's virtio-mmio).
        network:
          boardNamed(options.board).virtioMmio || command.getOptionValueSource("net") === "cli"
            ? systemNetwork(options)
            : undefined,
        disk,
        hostOutput: { soundDirectory: options.soundDir },
      });
      stop = () => system.stop();
      if (kind === "tty") {
        process.stderr.write("virtkit: console attached; Ctrl-A x quits\r\n");
        if (clock === "virtual") {
          process.stderr.write(
            "virtkit: virtual clock (deterministic); idle time is skipped, so guest clocks run ahead\r\n",
          );
        }
      }
      await system.run();
      setExitCode(0);
    } catch (error) {
      console.close();
      if (!(error instanceof ProgramError)) throw error;
      process.stderr.write(`${error.message}\n`);
      setExitCode(1);
    }
  });
};

/** A .system file, a system image (unpacked), or the only .system file in a folder (or in its folder for `board`). */
function systemFileOf(target: string, board: string): SystemTarget {
  let isFolder: boolean;
  try {
    isFolder = statSync(target).isDirectory();
  } catch {
    return { ok: false, error: `Error: cannot read '${target}': no such file or folder` };
  }
  if (!isFolder) return systemTarget(target);
  let systems = systemFilesIn(target);
  // An example folder keeps its system in a folder per board (examples/simple/qemu_virt_aarch64/).
  const boardFolder = join(target, board);
  if (systems.length === 0 && existsSync(boardFolder) && systemFilesIn(boardFolder).length === 1) {
    return { ok: true, path: join(boardFolder, systemFilesIn(boardFolder)[0]!) };
  }
  if (systems.length === 0) {
    systems = readdirSync(target, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .flatMap((entry) => systemFilesIn(join(target, entry.name)).map((name) => join(entry.name, name)))
      .sort();
  }
  if (systems.length === 1) return { ok: true, path: join(target, systems[0]!) };
  if (systems.length === 0) return { ok: false, error: `Error: folder '${target}' holds no .system file` };
  return {
    ok: false,
    error: `Error: folder '${target}' holds ${systems.join(", ")}: name the one to run, e.g. ${join(target, systems[0]!)}`,
  };
}

function systemFilesIn(folder: string): string[] {
  return readdirSync(folder)
    .filter((name) => name.endsWith(".system"))
    .sort();
}
