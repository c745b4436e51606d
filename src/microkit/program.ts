// The shape of a TypeScript PD program and how a .system file's program_image finds it.

import { existsSync } from "node:fs";
import { basename, dirname, extname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { MessageInfo } from "../kernel/index.ts";
import type { Pd } from "./pd.ts";
import type { BoardDescription } from "../machine/boards/index.ts";

/** libmicrokit's entry points, each taking the PD's API object first. */
export interface PdProgram {
  init(pd: Pd): void;
  notified(pd: Pd, channel: number): void;
  /** Handles a PPC; the returned msginfo is the reply. */
  protected?(pd: Pd, channel: number, msginfo: MessageInfo): MessageInfo;
  /**
   * Handles a child PD's or vCPU's fault. Return `true` (or a msginfo to reply with) to
   * reply and resume the child, `false` to leave it blocked.
   */
  fault?(pd: Pd, child: number, msginfo: MessageInfo): boolean | MessageInfo;
}

/** What the user chose for guest boots (`virtkit run --kernel/--initrd/--dtb/--append`); VMMs use it. */
export interface GuestBootOptions {
  /** `minimal`, `debian`, or a kernel file (an arm64 Image, or a raw binary). */
  kernel?: string;
  /** An initramfs file, or `none`. */
  initrd?: string;
  /** A .dtb or .dts file: the device tree the guest is given, as is. */
  dtb?: string;
  /** The kernel command line (/chosen/bootargs). */
  append?: string;
}

/** Where PDs that stand for host back-ends (the sDDF sound driver's WAV files) put what they make. */
export interface HostOutputOptions {
  /** The folder sound back-ends write their WAV files to (virtkit run --sound-dir). */
  soundDirectory?: string;
}

/** What a program factory is told about the PD it makes a program for. */
export interface ProgramContext {
  readonly pdName: string;
  /** The board the system runs on. */
  readonly board: BoardDescription;
  readonly guestBoot: GuestBootOptions;
  readonly hostOutput: HostOutputOptions;
}

/**
 * A program, or a factory that makes a fresh program (with fresh state) for each PD using it. A
 * factory may be async: the system starts once every program is ready (a VMM builds its guest's
 * images first).
 */
export type PdProgramDefinition = PdProgram | ((context: ProgramContext) => PdProgram | Promise<PdProgram>);

/** Types a PD module's default export. */
export function definePd<T extends PdProgramDefinition>(definition: T): T {
  return definition;
}

export class ProgramError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProgramError";
  }
}

const MODULE_EXTENSIONS = [".ts", ".js", ".mjs"];

/**
 * The module for `program_image path="x.elf"`: x.ts, x.js or x.mjs, looked up beside the
 * .system file, then in each search path. A path that already names a module is used as is.
 */
export function resolveProgramModule(
  pdName: string,
  imagePath: string,
  systemFile: string,
  searchPaths: readonly string[],
): string {
  const ext = extname(imagePath);
  const stem = MODULE_EXTENSIONS.includes(ext)
    ? imagePath
    : ext === ".elf"
      ? imagePath.slice(0, -4)
      : imagePath;
  const candidates = MODULE_EXTENSIONS.includes(ext) ? [stem] : MODULE_EXTENSIONS.map((e) => stem + e);
  const dirs = isAbsolute(stem)
    ? [""]
    : [dirname(resolve(systemFile)), ...searchPaths.map((d) => resolve(d))];
  for (const dir of dirs) {
    for (const candidate of candidates) {
      const path = dir ? join(dir, candidate) : candidate;
      if (existsSync(path)) return path;
    }
  }
  throw new ProgramError(
    `Error: protection domain '${pdName}': program_image '${imagePath}' has no TypeScript module: ` +
      `looked for ${candidates.map((c) => basename(c)).join(", ")} in ${dirs.join(", ")}. ` +
      `Write ${basename(candidates[0]!)} beside the .system file (see docs/writing-a-pd.md) or pass --search-path.`,
  );
}

/**
 * How PD modules are imported: Node's import(), unless the `virtkit` command supplies its own
 * (bin/virtkit.mjs), which loads a module that has a prebuilt counterpart without module hooks.
 */
let importModule: (url: string) => Promise<unknown> = (url) => import(url);

export function setProgramModuleImporter(importer: (url: string) => Promise<unknown>): void {
  importModule = importer;
}

export async function importProgram(pdName: string, path: string): Promise<PdProgramDefinition> {
  let module: { default?: unknown };
  try {
    module = (await importModule(pathToFileURL(path).href)) as { default?: unknown };
  } catch (error) {
    throw new ProgramError(`Error: protection domain '${pdName}': cannot load ${path}: ${describe(error)}`);
  }
  const definition = module.default;
  if (typeof definition === "function") return definition as (context: ProgramContext) => PdProgram;
  checkProgram(pdName, path, definition);
  return definition;
}

/** A program instance for one PD. */
export async function instantiate(
  context: ProgramContext,
  path: string,
  definition: PdProgramDefinition,
): Promise<PdProgram> {
  let program: unknown;
  try {
    program = typeof definition === "function" ? await definition(context) : definition;
  } catch (error) {
    if (error instanceof ProgramError) throw error;
    // A factory that cannot make its program (a VMM whose guest images do not exist, …) is the
    // PD's problem, said in its own words, not a crash of virtkit.
    throw new ProgramError(
      `Error: protection domain '${context.pdName}' (${path}) could not start: ${describe(error)}`,
      { cause: error },
    );
  }
  checkProgram(context.pdName, path, program);
  return program;
}

function checkProgram(pdName: string, path: string, program: unknown): asserts program is PdProgram {
  const missing = ["init", "notified"].filter(
    (entry) => typeof (program as Record<string, unknown> | undefined)?.[entry] !== "function",
  );
  if (missing.length > 0) {
    throw new ProgramError(
      `Error: protection domain '${pdName}': ${path} must export default definePd({ init(pd) {...}, notified(pd, channel) {...} }); ` +
        `it has no ${missing.map((m) => `'${m}'`).join(" and ")} entry point`,
    );
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
