// The system-description toolchain: a Microkit .system file → a checked, fully resolved model.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { SystemDescription } from "./model.ts";
import { buildModel, checkSetvarRegions } from "./build-model.ts";
import { checkSystem } from "./checks.ts";
import { SdfError } from "./errors.ts";
import { promotePageSizes } from "./page-size.ts";
import { parseSystemElement } from "./parse-system.ts";
import { placeMemoryRegions } from "./placement.ts";
import type { Platform } from "./platform.ts";
import { parseXml } from "./xml.ts";

export type * from "./model.ts";
export { SdfError, formatLocation } from "./errors.ts";
export type { Platform } from "./platform.ts";

export interface ParseOptions {
  /** The board and seL4 build the system is checked for (the Microkit tool's --board and --config). */
  platform: Platform;
  /** Folders searched for prefill files after the folder of the .system file. */
  searchPaths?: string[];
}

/**
 * Reads and checks a .system file. Throws SdfError (message: one line with `file:line:col`)
 * when the file cannot be read or is not a valid system description.
 */
export function parseSystemFile(path: string, options: ParseOptions): SystemDescription {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const reason = err instanceof Error && "code" in err ? describeReadError(String(err.code)) : String(err);
    throw new SdfError(`Error: cannot read '${path}': ${reason}`, { file: path, line: 0, column: 0 });
  }
  return parseSystemText(text, path, options);
}

/** Checks a system description given as text; `file` names it in messages and anchors prefill paths. */
export function parseSystemText(text: string, file: string, options: ParseOptions): SystemDescription {
  const { platform } = options;
  const searchPaths = [dirname(resolve(file)), ...(options.searchPaths ?? []).map((dir) => resolve(dir))];
  const root = parseXml(text, file);
  const system = parseSystemElement(root, platform, searchPaths);
  const warnings = checkSystem(system, platform);
  promotePageSizes(system);
  checkSetvarRegions(system);
  const paddrs = placeMemoryRegions(system.memoryRegions, platform);
  return buildModel(system, paddrs, platform, file, warnings);
}

function describeReadError(code: string): string {
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "it is a directory";
  if (code === "EACCES") return "permission denied";
  return code;
}
