// A device tree the user brings: a .dtb is checked and used as is; a .dts is compiled with dtc, which
// virtkit does not need otherwise and so does not install.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFdt, FdtError } from "../../libvmm/fdt.ts";

export function loadUserDeviceTree(path: string): Uint8Array {
  const bytes = path.endsWith(".dts") ? compileDts(path) : new Uint8Array(readFileSync(path));
  readFdt(bytes, path);
  return bytes;
}

export function compileDts(path: string): Uint8Array {
  const result = spawnSync("dtc", ["-I", "dts", "-O", "dtb", path], { maxBuffer: 16 * 1024 * 1024 });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
    throw new FdtError(
      `${path}: compiling a .dts needs dtc, which is not installed; install Debian's device-tree-compiler ` +
        `(apt-get install device-tree-compiler) or pass a compiled .dtb`,
    );
  }
  if (result.status !== 0) {
    throw new FdtError(`${path}: dtc could not compile it:\n${result.stderr.toString().trim()}`);
  }
  return new Uint8Array(result.stdout);
}
