// Progress of long image builds (the kernel takes minutes): phases, and a running count of build-output
// lines so a person can see it is alive. On a terminal one line is redrawn; elsewhere plain lines.

export type ProgressEvent =
  | { type: "phase"; phase: string }
  | { type: "output"; phase: string; lines: number; line: string }
  | { type: "done"; phase: string; seconds: number };

export type OnProgress = (event: ProgressEvent) => void;

export const silentProgress: OnProgress = () => {};

const SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏";
/** How often a non-terminal display reports the line count. */
const PLAIN_LINE_INTERVAL = 2000;

interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/** Renders progress events on a stream: a redrawn spinner line on a TTY, plain lines otherwise. */
export function streamProgress(stream: ProgressStream): OnProgress {
  const tty = stream.isTTY === true;
  let drawn = false;
  const clear = (): void => {
    if (drawn) stream.write("\r\x1b[2K");
    drawn = false;
  };
  return (event) => {
    switch (event.type) {
      case "phase":
        clear();
        stream.write(`virtkit: ${event.phase}\n`);
        return;
      case "output":
        if (tty) {
          const width = Math.max(20, (stream.columns ?? 80) - 1);
          const head = `${SPINNER[event.lines % SPINNER.length]} ${event.lines} lines  `;
          const text = (head + event.line.trim()).slice(0, width);
          stream.write(`\r\x1b[2K${text}`);
          drawn = true;
        } else if (event.lines % PLAIN_LINE_INTERVAL === 0) {
          stream.write(`virtkit:   ${event.phase}: ${event.lines} lines of output\n`);
        }
        return;
      case "done":
        clear();
        stream.write(`virtkit: ${event.phase}: done in ${event.seconds.toFixed(1)} s\n`);
        return;
    }
  };
}

/** Times a synchronous or asynchronous phase, reporting its start and end. */
export async function inPhase<T>(
  onProgress: OnProgress,
  phase: string,
  run: () => T | Promise<T>,
): Promise<T> {
  onProgress({ type: "phase", phase });
  const start = performance.now();
  const result = await run();
  onProgress({ type: "done", phase, seconds: (performance.now() - start) / 1000 });
  return result;
}
