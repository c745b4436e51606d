// `<map>` elements: memory region, virtual address, permissions, caching and setvars.

import type { MapDecl, SetvarDecl } from "./declarations.ts";
import type { Perms } from "./model.ts";
import type { XmlElement } from "./xml.ts";
import {
  checkAttributes,
  requiredAttribute,
  requiredU64,
  safeNumber,
  booleanAttribute,
} from "./attributes.ts";
import { valueError } from "./errors.ts";
import { hex } from "../util/hex.ts";
import { addSetvar } from "./setvars.ts";

const MAP_ATTRIBUTES = ["mr", "vaddr", "perms", "cached"];
const PD_MAP_ATTRIBUTES = [...MAP_ATTRIBUTES, "setvar_vaddr", "setvar_size", "setvar_prefill_size"];

/**
 * Parses a `<map>`. PD maps may carry setvars (added to `setvars`); VM maps may not, as a VM
 * has no program image to patch. `maxVaddr` is exclusive.
 */
export function parseMap(element: XmlElement, maxVaddr: number, setvars?: SetvarDecl[]): MapDecl {
  checkAttributes(element, setvars ? PD_MAP_ATTRIBUTES : MAP_ATTRIBUTES);
  const mr = requiredAttribute(element, "mr");
  const vaddr = requiredU64(element, "vaddr");
  if (vaddr >= BigInt(maxVaddr)) {
    throw valueError(element, `vaddr (${hex(vaddr)}) must be less than ${hex(maxVaddr)}`);
  }
  const perms = parsePerms(element);
  const cached = booleanAttribute(element, "cached", true);
  const map: MapDecl = {
    mr,
    vaddr: safeNumber(element, "vaddr", vaddr),
    perms,
    cached,
    location: element.location,
  };
  if (setvars) {
    const setvarVaddr = element.attributes.get("setvar_vaddr");
    const setvarSize = element.attributes.get("setvar_size");
    const setvarPrefillSize = element.attributes.get("setvar_prefill_size");
    const base = { location: element.location, tag: element.tag };
    if (setvarVaddr !== undefined) {
      map.setvarVaddr = setvarVaddr;
      addSetvar(setvars, { ...base, symbol: setvarVaddr, kind: "vaddr", value: map.vaddr }, element);
    }
    if (setvarSize !== undefined) {
      map.setvarSize = setvarSize;
      addSetvar(setvars, { ...base, symbol: setvarSize, kind: "size", mr }, element);
    }
    if (setvarPrefillSize !== undefined) {
      map.setvarPrefillSize = setvarPrefillSize;
      addSetvar(setvars, { ...base, symbol: setvarPrefillSize, kind: "prefill_size", mr }, element);
    }
  }
  return map;
}

function parsePerms(element: XmlElement): Perms {
  const text = element.attributes.get("perms") ?? "rw";
  if (!/^[rwx]*$/.test(text)) {
    throw valueError(element, "perms must only be a combination of 'r', 'w', and 'x'");
  }
  const perms = { read: text.includes("r"), write: text.includes("w"), execute: text.includes("x") };
  // seL4 cannot express a write-only mapping on any architecture.
  if (perms.write && !perms.read && !perms.execute) {
    throw valueError(element, "perms must not be 'w', write-only mappings are not allowed");
  }
  return perms;
}
