// An in-memory console for scripted sessions (tests): type input, wait for output.

import type { Console } from "../devices/console.ts";

export class HarnessConsole implements Console {
  /**
   * Appended per write: a guest's PL011 writes one byte at a time, and re-joining every chunk on each
   * write made a Linux boot's console quadratic (~0.7 s of a 3 s minimal-kernel boot).
   */
  private text = "";
  private onData: ((bytes: Uint8Array) => void) | undefined;
  private onEnd: (() => void) | undefined;
  /** Each waiter sees every chunk written after it started. */
  private readonly waiters = new Set<(chunk: string) => void>();
  private closedInput = false;

  /** Everything the machine has written, decoded as Latin-1 (one char per byte). */
  get output(): string {
    return this.text;
  }

  write(bytes: Uint8Array): void {
    const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
    this.text += chunk;
    for (const waiter of [...this.waiters]) waiter(chunk);
  }

  attachInput(onData: (bytes: Uint8Array) => void, onEnd: () => void): void {
    this.onData = onData;
    this.onEnd = onEnd;
    if (this.closedInput) onEnd();
  }

  /** Sends `text` as if typed at once. */
  type(text: string): void {
    if (!this.onData) throw new Error("the console is not attached to a machine yet");
    this.onData(Buffer.from(text, "latin1"));
  }

  /** Ends the input, as end-of-file on a pipe. */
  endInput(): void {
    this.closedInput = true;
    this.onEnd?.();
  }

  close(): void {}

  /**
   * Resolves with the output once it contains `expected` after position `from`; rejects
   * after `timeoutMs` with the output so far.
   */
  waitFor(expected: string | RegExp, options: { from?: number; timeoutMs?: number } = {}): Promise<string> {
    const from = options.from ?? 0;
    if (
      typeof expected === "string"
        ? this.text.indexOf(expected, from) >= 0
        : expected.test(this.text.slice(from))
    )
      return Promise.resolve(this.output);
    // A string is looked for only in each new chunk and the end of what came before it (which a match
    // may start in): searching the whole output on every write would make it flatten the output each
    // time, quadratic in a long run.
    const keep = typeof expected === "string" ? expected.length - 1 : 0;
    let carry = keep > 0 ? this.text.slice(Math.max(from, this.text.length - keep)) : "";
    const found = (chunk: string): boolean => {
      if (typeof expected !== "string") return expected.test(this.text.slice(from));
      const window = carry + chunk;
      carry = keep > 0 ? window.slice(-keep) : "";
      return window.includes(expected);
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `console never showed ${String(expected)}; output so far:\n${JSON.stringify(this.output)}`,
          ),
        );
      }, options.timeoutMs ?? 5000);
      const check = (chunk: string): void => {
        if (!found(chunk)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(this.output);
      };
      this.waiters.add(check);
    });
  }
}
