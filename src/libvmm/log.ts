// libvmm prefixes every line with the VMM PD's name and a level, e.g. `vmm|ERROR: …`.

export interface VmmLog {
  info(message: string): void;
  error(message: string): void;
}

/** A log that writes whole lines, each prefixed `<pd>|INFO: ` or `<pd>|ERROR: `. */
export function createVmmLog(pdName: string, writeLine: (line: string) => void): VmmLog {
  const emit = (level: string, message: string) => {
    for (const line of message.split("\n")) writeLine(`${pdName}|${level}: ${line}`);
  };
  return {
    info: (message) => emit("INFO", message),
    error: (message) => emit("ERROR", message),
  };
}
