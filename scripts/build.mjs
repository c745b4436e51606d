// Builds the wasm CPU core from AssemblyScript sources when they exist.
import { existsSync, mkdirSync, statSync, readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cpuDir = join(root, "src/machine/cpu");
const entry = join(cpuDir, "index.ts");
const out = join(root, "build/cpu.wasm");

function newestSource(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    newest = Math.max(newest, st.isDirectory() ? newestSource(path) : st.mtimeMs);
  }
  return newest;
}

if (!existsSync(entry)) {
  console.log("build: no CPU core sources yet");
} else if (existsSync(out) && statSync(out).mtimeMs >= newestSource(cpuDir)) {
  console.log("build: build/cpu.wasm is up to date");
} else {
  mkdirSync(join(root, "build"), { recursive: true });
  const asc = join(root, "node_modules/assemblyscript/bin/asc.js");
  execFileSync(
    process.execPath,
    [asc, entry, "--outFile", out, "--optimizeLevel", "3", "--shrinkLevel", "0", "--runtime", "stub",
      "--noAssert", "--importMemory", "--sharedMemory=false", "--initialMemory", "1", "--maximumMemory", "32768",
      "--enable", "simd", "--enable", "bulk-memory", "--textFile", join(root, "build/cpu.wat")],
    { stdio: "inherit" },
  );
  console.log("build: wrote build/cpu.wasm");
}
