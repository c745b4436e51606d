// The AArch64 GNU binutils, installed through Debian, as the reference for disassembly tests.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDebianPackages } from "../../src/host/debian-packages.ts";

/** True when aarch64-linux-gnu-as/objdump are usable; under CI a missing toolchain is an error, not a skip. */
export function binutilsAvailable(): boolean {
  try {
    ensureDebianPackages(["binutils-aarch64-linux-gnu"], () => undefined);
    return true;
  } catch (error) {
    if (process.env.CI) throw error;
    return false;
  }
}

export interface ObjdumpLine {
  address: bigint;
  word: number;
  /** objdump's text, normalised: single spaces, no `//` comments, branch targets as 0x… addresses. */
  text: string;
}

/** Assembles `source` and returns objdump's listing of it. */
export function assembleAndDisassemble(source: string, march = "armv8.5-a"): ObjdumpLine[] {
  const dir = mkdtempSync(join(tmpdir(), "virtkit-a64-"));
  writeFileSync(join(dir, "in.s"), source);
  execFileSync("aarch64-linux-gnu-as", [`-march=${march}`, "-o", join(dir, "in.o"), join(dir, "in.s")]);
  const listing = execFileSync("aarch64-linux-gnu-objdump", ["-d", join(dir, "in.o")], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  const lines: ObjdumpLine[] = [];
  for (const line of listing.split("\n")) {
    const m = /^\s*([0-9a-f]+):\s+([0-9a-f]{8})\s+(.*)$/.exec(line);
    if (!m) continue;
    const text = m[3]!
      .replace(/\s*\/\/.*$/, "")
      .replace(/^\.inst\s+(0x[0-9a-f]+).*$/, ".word $1")
      .replace(/\s+/g, " ")
      .trim()
      .replace(/\b([0-9a-f]+) <[^>]+>/, (_, target: string) => `0x${target}`);
    lines.push({ address: BigInt(`0x${m[1]}`), word: parseInt(m[2]!, 16), text });
  }
  return lines;
}
