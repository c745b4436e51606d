// Drives a guest's serial console the way libvmm's CI does: wait for text, send input. Used to boot
// our images under Debian's qemu-system-aarch64, independently of virtkit's own emulator.
import { spawn, type ChildProcess } from "node:child_process";

export class QemuConsole {
  private output = "";
  /** Where the next waitFor starts looking, so each wait sees only new output. */
  private cursor = 0;
  private commands = 0;
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawn("qemu-system-aarch64", args, { stdio: ["pipe", "pipe", "pipe"] });
    const collect = (chunk: Buffer): void => {
      this.output += chunk.toString("utf8");
    };
    this.child.stdout!.on("data", collect);
    this.child.stderr!.on("data", collect);
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
  }

  /** Resolves once `text` appears after the previous match; rejects with the console so far on timeout. */
  async waitFor(text: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.output.indexOf(text, this.cursor);
      if (at >= 0) {
        const seen = this.output.slice(this.cursor, at + text.length);
        this.cursor = at + text.length;
        return seen;
      }
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `console never showed ${JSON.stringify(text)}; it shows:\n${this.output.slice(-3000)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  send(text: string): void {
    this.child.stdin!.write(text);
  }

  /**
   * Runs a shell command and returns its output. The output is framed by markers that the shell prints
   * but its echo of the typed line does not contain (the quotes split them), because the line editor
   * wraps and redraws long input.
   */
  async run(command: string, timeoutMs = 30_000): Promise<string> {
    const id = ++this.commands;
    this.send(`echo "<<""${id}<<"; ${command}; echo ">>""${id}>>"\n`);
    await this.waitFor(`<<${id}<<\r\n`, timeoutMs);
    const output = await this.waitFor(`>>${id}>>`, timeoutMs);
    await this.waitFor("# ", timeoutMs);
    return output.slice(0, -`>>${id}>>`.length).replace(/\r/g, "");
  }

  /** The exit code once QEMU ends by itself; kills it (and fails) when it does not in time. */
  async exit(timeoutMs: number): Promise<number | null> {
    const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), timeoutMs));
    const result = await Promise.race([this.exited, timer]);
    if (result === "timeout") {
      this.kill();
      throw new Error(`QEMU did not exit within ${timeoutMs} ms; console:\n${this.output.slice(-2000)}`);
    }
    return result;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}
