import { parseSystemText, SdfError } from "../../src/sdf/index.ts";
import type { ParseOptions, SystemDescription } from "../../src/sdf/index.ts";
import { boardNamed } from "../../src/machine/boards/index.ts";
import { microkitPlatform } from "../../src/microkit/platform.ts";

/** What the tests vary: the core count (`--cores`) and search paths, on the default board. */
export interface TestParseOptions {
  cores?: number;
  searchPaths?: string[];
  board?: string;
}

export function parseOptions(options: TestParseOptions = {}): ParseOptions {
  return {
    platform: microkitPlatform(boardNamed(options.board), options.cores),
    searchPaths: options.searchPaths,
  };
}

export const FILE = "test.system";

/** A document whose first body line is line 2, so locations in tests read off directly. */
export function system(...body: string[]): string {
  return ["<system>", ...body, "</system>"].join("\n");
}

/** A one-line protection domain with a program image, optional attributes and children. */
export function pd(name: string, attributes = "", ...children: string[]): string {
  return `  <protection_domain name="${name}"${attributes ? ` ${attributes}` : ""}><program_image path="${name}.elf"/>${children.join("")}</protection_domain>`;
}

export function parse(text: string, options?: TestParseOptions, file = FILE): SystemDescription {
  return parseSystemText(text, file, parseOptions(options));
}

/** The message of the SdfError the text produces; fails if it parses or throws anything else. */
export function errorOf(text: string, options?: TestParseOptions, file = FILE): string {
  try {
    parseSystemText(text, file, parseOptions(options));
  } catch (err) {
    if (err instanceof SdfError) return err.message;
    throw err;
  }
  throw new Error("expected the system description to be rejected");
}

/**
 * A protection domain spread over lines: the open tag, its program image, then each child on
 * its own line at column 5. `open` is everything after `<protection_domain `.
 */
export function pdLines(open: string, ...children: string[]): string[] {
  const name = /name="([^"]*)"/.exec(open)?.[1] ?? "pd";
  return [
    `  <protection_domain ${open}>`,
    `    <program_image path="${name}.elf"/>`,
    ...children.map((child) => `    ${child}`),
    "  </protection_domain>",
  ];
}
