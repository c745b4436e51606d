// Boots small systems from inline XML and inline PD programs, with an in-memory console.

import { parseSystemText } from "../../src/sdf/index.ts";
import {
  bootSystem,
  type Pd,
  type PdProgram,
  type PdProgramDefinition,
  type RunningSystem,
} from "../../src/microkit/index.ts";
import { HarnessConsole } from "../../src/machine/backends/harness-console.ts";
import { parseOptions } from "../sdf/helpers.ts";

export interface Booted {
  system: RunningSystem;
  console: HarnessConsole;
  /** Resolves when the system can do nothing more. */
  done: Promise<void>;
}

/** A small RAM keeps tests light; every test system fits in it. */
const TEST_RAM = 64 * 1024 * 1024;

export async function boot(
  xml: string,
  programs: Record<string, PdProgramDefinition>,
  options: { file?: string; keepInputOpen?: boolean } = {},
): Promise<Booted> {
  const description = parseSystemText(
    `<system>${xml}</system>`,
    options.file ?? "/virtkit-test/test.system",
    parseOptions(),
  );
  const console = new HarnessConsole();
  const system = await bootSystem(description, { console, programs, ramSize: TEST_RAM });
  const done = system.run();
  if (!options.keepInputOpen) console.endInput();
  return { system, console, done };
}

/** Boots, runs until idle, and returns the console output. */
export async function runToIdle(xml: string, programs: Record<string, PdProgramDefinition>): Promise<string> {
  const { console, done } = await boot(xml, programs);
  await done;
  return console.output;
}

export const pd = (name: string, attrs = "", body = ""): string =>
  `<protection_domain name="${name}" ${attrs}><program_image path="${name}.elf" />${body}</protection_domain>`;

export const channel = (a: string, b: string): string => `<channel>${a}${b}</channel>`;
export const end = (pdName: string, id: number, attrs = ""): string =>
  `<end pd="${pdName}" id="${id}" ${attrs}/>`;

/** A program that only has init. */
export const initOnly = (init: (pd: Pd) => void): PdProgram => ({ init, notified() {} });
