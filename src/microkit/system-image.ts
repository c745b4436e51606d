// The bootable image virtkit's `microkit` tool writes (build/loader.img): the .system file, the ELF
// of every PD and the prefill files in one file, so `virtkit run IMAGE` runs what the build made.

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, normalize } from "node:path";
import type { SystemDescription } from "../sdf/index.ts";
import type { ProtectionDomain } from "../sdf/model.ts";
import { ElfFile } from "./elf-file.ts";
import { elfProblems, resolveElfImage } from "./elf-loader.ts";
import { pdSetvars } from "./setvars.ts";
import { ProgramError, resolveProgramModule } from "./program.ts";

const MAGIC = "virtkit system image 1\n";
const SYSTEM_NAME = "system.system";

interface ImageHeader {
  board: string;
  config: string;
  system: string;
  files: { name: string; size: number }[];
}

export interface UnpackedImage {
  /** The fresh folder the image was unpacked into (the caller removes it when done). */
  folder: string;
  /** The .system file, in that folder beside the ELFs and prefills it names. */
  systemFile: string;
  board: string;
  config: string;
}

/** True when the file starts as a system image does. */
export function isSystemImage(path: string): boolean {
  const head = readFileSync(path).subarray(0, MAGIC.length);
  return head.toString("latin1") === MAGIC;
}

/**
 * The image of a checked system: every PD's program_image must be an ELF file (as the Microkit tool
 * needs), found beside the .system file or in a search path.
 */
export function buildSystemImage(
  description: SystemDescription,
  options: { board: string; config: string; searchPaths: readonly string[] },
): Uint8Array {
  const files = new Map<string, Uint8Array>([[SYSTEM_NAME, readFileSync(description.file)]]);
  const problems: string[] = [];
  for (const pd of description.allProtectionDomains) {
    const image = pd.programImage.path;
    const path = resolveElfImage(image, description.file, options.searchPaths);
    if (!path) {
      const module = typeScriptModule(pd.name, image, description.file, options.searchPaths);
      throw new ProgramError(
        `Error: unable to find program image: '${image}' (protection domain '${pd.name}'): ` +
          (module
            ? `it is the TypeScript module ${module}, and an image holds only ELF files; run the .system file ` +
              `with virtkit run --search-path instead`
            : `build it, or pass the folder holding it with --search-path`),
      );
    }
    const bytes = readFileSync(path);
    problems.push(...loadProblems(pd, path, bytes));
    files.set(entryName(image), bytes);
  }
  if (problems.length > 0) throw new ProgramError(problems.join("\n"));
  for (const mr of description.memoryRegions) {
    if (mr.prefillPath && mr.prefillResolved)
      files.set(entryName(mr.prefillPath), readFileSync(mr.prefillResolved));
  }
  const header: ImageHeader = {
    board: options.board,
    config: options.config,
    system: SYSTEM_NAME,
    files: [...files].map(([name, bytes]) => ({ name, size: bytes.length })),
  };
  return Buffer.concat([Buffer.from(`${MAGIC}${JSON.stringify(header)}\n`, "utf8"), ...files.values()]);
}

/** Unpacks an image into a fresh temporary folder. */
export function unpackSystemImage(path: string): UnpackedImage {
  const bytes = readFileSync(path);
  const headerEnd = bytes.indexOf(0x0a, MAGIC.length);
  let header: ImageHeader;
  try {
    header = JSON.parse(bytes.subarray(MAGIC.length, headerEnd).toString("utf8")) as ImageHeader;
  } catch {
    throw new ProgramError(`Error: ${path} is a damaged virtkit system image: write it again with microkit`);
  }
  const dir = mkdtempSync(join(tmpdir(), "virtkit-image-"));
  let at = headerEnd + 1;
  for (const file of header.files) {
    const name = entryName(file.name);
    if (at + file.size > bytes.length) {
      throw new ProgramError(`Error: ${path} is truncated (${file.name} runs past its end)`);
    }
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), bytes.subarray(at, at + file.size));
    at += file.size;
  }
  return {
    folder: dir,
    systemFile: join(dir, entryName(header.system)),
    board: header.board,
    config: header.config,
  };
}

/** A relative path inside the image: the names the .system file uses, which must stay inside its folder. */
function entryName(name: string): string {
  const normal = normalize(name);
  if (isAbsolute(normal) || normal.split(/[/\\]/)[0] === "..") {
    throw new ProgramError(
      `Error: '${name}' is outside the system's folder: a system image keeps files by the names the .system ` +
        `file gives them, so name them relative to it (and pass their folder with --search-path)`,
    );
  }
  return normal;
}

/** The TypeScript module a program_image stands for, if there is one. */
function typeScriptModule(
  pdName: string,
  image: string,
  systemFile: string,
  searchPaths: readonly string[],
): string | undefined {
  try {
    return resolveProgramModule(pdName, image, systemFile, searchPaths);
  } catch (error) {
    if (error instanceof ProgramError) return undefined;
    throw error;
  }
}

/** Why the runtime would refuse to load this PD's ELF, found at build time as the Microkit tool does. */
function loadProblems(pd: ProtectionDomain, path: string, bytes: Uint8Array): string[] {
  try {
    return elfProblems(pd, new ElfFile(new Uint8Array(bytes), path), pdSetvars(pd));
  } catch (error) {
    return [`Error: protection domain '${pd.name}': cannot load ${path}: ${(error as Error).message}`];
  }
}
