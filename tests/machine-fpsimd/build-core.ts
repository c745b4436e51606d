// Builds build/cpu.wasm (scripts/build.mjs) for the tests that run the whole core. Test files run
// in parallel processes, so the build is serialised with a lock directory (mkdir is atomic);
// a lock older than ten minutes is left over from a killed run and is taken over.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "../..");
const lock = join(root, "build/.cpu-build.lock");
const STALE_MS = 10 * 60 * 1000;

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function buildCore(): void {
  mkdirSync(join(root, "build"), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_MS) rmSync(lock, { recursive: true, force: true });
      } catch {
        // The holder released it meanwhile.
      }
      sleep(200);
    }
  }
  try {
    execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { stdio: "inherit" });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
