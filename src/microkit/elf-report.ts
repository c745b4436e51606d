// What the tool will load for each ELF PD: the file, its entry point, segments and the setvars it patches.

import { readFileSync } from "node:fs";
import type { SystemDescription } from "../sdf/index.ts";
import { hex } from "../util/hex.ts";
import { ElfFile } from "./elf-file.ts";
import { IPC_BUFFER_SYMBOL, PD_STACK_TOP, resolveElfImage } from "./elf-loader.ts";
import { pdSetvars } from "./setvars.ts";

/** Report lines for every PD whose program_image is an ELF file (none when all are TypeScript). */
export function elfReport(description: SystemDescription, searchPaths: readonly string[]): string[] {
  const lines: string[] = [];
  for (const pd of description.allProtectionDomains) {
    const path = resolveElfImage(pd.programImage.path, description.file, searchPaths);
    if (!path) continue;
    const elf = new ElfFile(new Uint8Array(readFileSync(path)), path);
    lines.push("", `  ${pd.name}: ${path}`, `    entry ${hex(elf.entry)}`);
    for (const segment of elf.segments) {
      const rights = `${segment.read ? "r" : "-"}${segment.write ? "w" : "-"}${segment.execute ? "x" : "-"}`;
      lines.push(
        `    segment [${hex(segment.vaddr)}..${hex(segment.vaddr + segment.memsz)}) ${rights}, ${hex(segment.data.length)} bytes from the file`,
      );
    }
    const ipc = elf.symbols.get(IPC_BUFFER_SYMBOL);
    lines.push(`    IPC buffer ${ipc ? hex(ipc.value) : `missing (${IPC_BUFFER_SYMBOL})`}`);
    lines.push(`    stack [${hex(PD_STACK_TOP - pd.stackSize)}..${hex(PD_STACK_TOP)})`);
    for (const [symbol, value] of Object.entries(pdSetvars(pd))) {
      const at = elf.symbols.get(symbol);
      lines.push(
        `    setvar ${symbol} = ${hex(value)} ${at ? `at ${hex(at.value)}` : "(no such symbol: loading fails)"}`,
      );
    }
  }
  return lines.length === 0 ? [] : ["", "ELF images", ...lines];
}
