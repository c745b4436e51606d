// Consoles over the host process's stdin/stdout: plain pipes (`--console stdio`), or the
// terminal in raw mode (`--console tty`) so every key reaches the machine as typed.

import type { Console } from "../devices/console.ts";

const CTRL_A = 0x01;
const TERMINATING_SIGNALS: NodeJS.Signals[] = ["SIGTERM", "SIGHUP"];

/** Plain stdio: bytes in, bytes out; end of input ends the console's input. */
export class StdioConsole implements Console {
  private pending: Uint8Array[] = [];
  private flushScheduled = false;
  private outputClosed = false;

  constructor(
    protected readonly input: NodeJS.ReadableStream = process.stdin,
    private readonly output: NodeJS.WritableStream = process.stdout,
    /** Called once if the reader of the output goes away (e.g. `| head`). */
    onOutputClosed: () => void = () => {},
  ) {
    output.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
      if (this.outputClosed) return;
      this.outputClosed = true;
      this.pending = [];
      onOutputClosed();
    });
  }

  write(bytes: Uint8Array): void {
    if (this.outputClosed) return;
    this.pending.push(bytes.slice());
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  attachInput(onData: (bytes: Uint8Array) => void, onEnd: () => void): void {
    this.input.on("data", (chunk: Buffer | string) => onData(this.filter(toBytes(chunk))));
    this.input.on("end", onEnd);
    this.input.on("close", onEnd);
    this.input.resume();
  }

  close(): void {
    this.flush();
    this.input.pause();
    (this.input as NodeJS.ReadStream).unref?.();
  }

  /** Subclasses intercept host-side key sequences here. */
  protected filter(bytes: Uint8Array): Uint8Array {
    return bytes;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || this.outputClosed) return;
    this.output.write(Buffer.concat(this.pending));
    this.pending = [];
  }
}

/**
 * The host terminal in raw mode, as QEMU's `-nographic` console: every key (Ctrl-C
 * included) goes to the machine; Ctrl-A x quits; Ctrl-A Ctrl-A sends one Ctrl-A. Output
 * post-processing stays on, so "\n" still starts a new line. The terminal is restored on
 * close and on process exit.
 */
export class TerminalConsole extends StdioConsole {
  private escape = false;
  private readonly restore = (): void => {
    if (this.tty.isTTY) this.tty.setRawMode(false);
  };
  /** Killed from outside: put the terminal back, then die of the same signal. */
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.close();
    process.kill(process.pid, signal);
  };

  constructor(
    private readonly tty: NodeJS.ReadStream = process.stdin,
    output: NodeJS.WritableStream = process.stdout,
    private readonly onQuit: () => void = () => {},
  ) {
    super(tty, output, onQuit);
  }

  override attachInput(onData: (bytes: Uint8Array) => void, onEnd: () => void): void {
    this.tty.setRawMode(true);
    process.once("exit", this.restore);
    for (const signal of TERMINATING_SIGNALS) process.once(signal, this.onSignal);
    super.attachInput(onData, onEnd);
  }

  override close(): void {
    super.close();
    this.restore();
    process.removeListener("exit", this.restore);
    for (const signal of TERMINATING_SIGNALS) process.removeListener(signal, this.onSignal);
  }

  protected override filter(bytes: Uint8Array): Uint8Array {
    const out: number[] = [];
    for (const byte of bytes) {
      if (this.escape) {
        this.escape = false;
        if (byte === 0x78 /* x */) this.onQuit();
        else if (byte === CTRL_A) out.push(CTRL_A);
        continue;
      }
      if (byte === CTRL_A) this.escape = true;
      else out.push(byte);
    }
    return Uint8Array.from(out);
  }
}

function toBytes(chunk: Buffer | string): Uint8Array {
  return typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
}
