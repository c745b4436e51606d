// Scripted console sessions with a Linux guest of the `simple` example, as libvmm's CI drives QEMU:
// wait for a line, type, wait for the prompt. The system runs in this process on virtkit's own CPU core.
import { join } from "node:path";
import {
  bootSystemFile,
  type BootOptions,
  type RunningSystem,
  type SystemNetwork,
} from "../../src/microkit/index.ts";
import type { BoardDescription } from "../../src/machine/boards/index.ts";
import type { ClockMode } from "../../src/kernel/index.ts";
import { HarnessConsole } from "../../src/machine/backends/harness-console.ts";
import { ensureGuestImages } from "../../src/guest/images.ts";
import { streamProgress } from "../../src/guest/progress.ts";

export const SIMPLE_SYSTEM = join(
  import.meta.dirname,
  "../../examples/simple/qemu_virt_aarch64/simple.system",
);

/** The timeout of one wait: booting to the login prompt takes 5-60 s of host time. */
export const WAIT_MS = 120_000;

export class LinuxSession {
  /** Where the next wait starts looking, so each wait sees only new output. */
  private cursor = 0;
  private commands = 0;

  private constructor(
    readonly system: RunningSystem,
    readonly console: HarnessConsole,
    /** Settles when the run ends (the board powered off). */
    readonly done: Promise<void>,
  ) {}

  /**
   * Boots the simple example (or `options.system`) with `kernel` (`minimal` or `debian`), building
   * its images if missing; `options.network` is what the board's NIC is plugged into.
   */
  static async boot(
    kernel: string,
    options: {
      system?: string;
      network?: SystemNetwork;
      clock?: ClockMode;
      /** The board the system is for (default qemu_virt_aarch64). */
      board?: BoardDescription;
      /** PD programs given directly, by PD name, instead of the modules the system names. */
      programs?: BootOptions["programs"];
      /** The disk in the board's disk slot. */
      disk?: BootOptions["disk"];
      /** Where host back-end PDs write files (sound). */
      hostOutput?: BootOptions["hostOutput"];
    } = {},
  ): Promise<LinuxSession> {
    // The images are built here first so that a first run shows the build's progress instead of a
    // silent wait.
    await ensureGuestImages({ kernel, board: options.board, onProgress: streamProgress(process.stderr) });
    const console = new HarnessConsole();
    const system = await bootSystemFile(options.system ?? SIMPLE_SYSTEM, {
      console,
      guestBoot: { kernel },
      network: options.network,
      clock: options.clock,
      board: options.board,
      programs: options.programs,
      disk: options.disk,
      hostOutput: options.hostOutput,
    });
    return new LinuxSession(system, console, system.run());
  }

  /** Resolves with the output up to and including `text` once it appears after the previous match. */
  async waitFor(text: string, timeoutMs = WAIT_MS): Promise<string> {
    const output = await this.console.waitFor(text, { from: this.cursor, timeoutMs });
    const at = output.indexOf(text, this.cursor);
    const seen = output.slice(this.cursor, at + text.length);
    this.cursor = at + text.length;
    return seen;
  }

  type(text: string): void {
    this.console.type(text);
  }

  /** Logs in as root at the login prompt and waits for the shell's prompt. */
  async login(): Promise<void> {
    await this.waitFor("buildroot login: ");
    this.type("root\n");
    await this.waitFor("# ");
  }

  /**
   * Runs a shell command and returns its output. Markers the shell prints, but the echo of the typed
   * line does not contain (the quotes split them), frame the output.
   */
  async run(command: string): Promise<string> {
    const id = ++this.commands;
    this.type(`echo "<<""${id}<<"; ${command}; echo ">>""${id}>>"\n`);
    await this.waitFor(`<<${id}<<\r\n`);
    const output = await this.waitFor(`>>${id}>>`);
    await this.waitFor("# ");
    return output.slice(0, -`>>${id}>>`.length).replace(/\r/g, "");
  }

  /** Types `poweroff` and waits for `marker` (the kernel's last line on a UART console) and the run's end. */
  async powerOff(marker = "reboot: Power down"): Promise<void> {
    this.type("poweroff\n");
    await this.waitFor(marker);
    await this.done;
  }
}
