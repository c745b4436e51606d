// Setvars: the symbols the Microkit tool patches into a PD's image.

import type { SetvarDecl } from "./declarations.ts";
import type { XmlElement } from "./xml.ts";
import { valueError } from "./errors.ts";

/** Adds a setvar to a PD's list; each symbol may be patched only once. */
export function addSetvar(setvars: SetvarDecl[], setvar: SetvarDecl, element: XmlElement): void {
  if (setvars.some((other) => other.symbol === setvar.symbol)) {
    throw valueError(element, `setvar on symbol '${setvar.symbol}' already exists`);
  }
  setvars.push(setvar);
}

/** A setvar carrying an id (irq, channel end, child PD, vCPU). */
export function idSetvar(symbol: string, id: number, element: XmlElement): SetvarDecl {
  return { symbol, kind: "id", value: id, location: element.location, tag: element.tag };
}
