// `<protection_domain>` elements and their children, checked in Microkit's order.

import type { ProtectionDomainDecl } from "./declarations.ts";
import type { Platform } from "./platform.ts";
import type { XmlElement } from "./xml.ts";
import {
  booleanAttribute,
  checkAttributes,
  optionalU64,
  requiredAttribute,
  requiredU64,
} from "./attributes.ts";
import { SdfError, errorAt, formatLocation, valueError } from "./errors.ts";
import { MAX_ID } from "./ids.ts";
import { hex } from "../util/hex.ts";
import { parseCspace } from "./parse-cspace.ts";
import { parseIrq } from "./parse-irq.ts";
import { parseMap } from "./parse-map.ts";
import { parseVirtualMachine } from "./parse-virtual-machine.ts";
import { SMALL_PAGE, pdMapMaxVaddr } from "./platform.ts";
import { parseBudgetPeriod, parseCpu, parsePriority } from "./scheduling.ts";
import { addSetvar, idSetvar } from "./setvars.ts";

const DEFAULT_STACK_SIZE = 0x2000;
const MIN_STACK_SIZE = 0x1000;
const MAX_STACK_SIZE = 16 * 1024 * 1024;

const PD_ATTRIBUTES = [
  "name",
  "priority",
  "budget",
  "period",
  "passive",
  "stack_size",
  "smc",
  "cpu",
  "domain",
  "fpu",
];
const CHILD_PD_ATTRIBUTES = [...PD_ATTRIBUTES, "id", "setvar_id"];

export interface PdContext {
  platform: Platform;
  /** Domain names to ids once `<domains>` has been seen; undefined before or without it. */
  domains: ReadonlyMap<string, number> | undefined;
}

/** Parses a `<protection_domain>` and, recursively, its child PDs. Checks follow Microkit's order. */
export function parseProtectionDomain(
  element: XmlElement,
  context: PdContext,
  isChild: boolean,
): ProtectionDomainDecl {
  checkAttributes(element, isChild ? CHILD_PD_ATTRIBUTES : PD_ATTRIBUTES);
  const name = requiredAttribute(element, "name");
  let id: number | undefined;
  if (isChild) {
    const value = requiredU64(element, "id");
    // Child ids arrive at the parent as fault badges, like channel ids: the same 0..=61 limit.
    if (value > BigInt(MAX_ID)) throw valueError(element, `id must be < ${MAX_ID + 1}`);
    id = Number(value);
  }
  const setvarId = isChild ? element.attributes.get("setvar_id") : undefined;
  const { budget, period } = parseBudgetPeriod(element);
  const passive = booleanAttribute(element, "passive", false);
  const stackSizeValue = optionalU64(element, "stack_size") ?? BigInt(DEFAULT_STACK_SIZE);
  const smc = booleanAttribute(element, "smc", false);
  const cpu = parseCpu(element, context.platform.cores, 0);
  const domain = parseDomainName(element, context.domains);
  if (stackSizeValue < BigInt(MIN_STACK_SIZE) || stackSizeValue > BigInt(MAX_STACK_SIZE)) {
    throw valueError(
      element,
      `stack size must be between ${hex(MIN_STACK_SIZE)} bytes and ${hex(MAX_STACK_SIZE)} bytes`,
    );
  }
  const stackSize = Number(stackSizeValue);
  if (stackSize % SMALL_PAGE !== 0) {
    throw valueError(element, `stack size must be aligned to the smallest page size, ${SMALL_PAGE} bytes`);
  }
  const priority = parsePriority(element);
  const fpu = booleanAttribute(element, "fpu", true);

  const pd: ProtectionDomainDecl = {
    name,
    priority,
    budget,
    period,
    passive,
    stackSize,
    cpu,
    smc,
    fpu,
    programImage: { path: "" },
    maps: [],
    irqs: [],
    setvars: [],
    capMaps: [],
    children: [],
    location: element.location,
  };
  if (domain !== undefined) pd.domain = domain;
  if (id !== undefined) pd.id = id;
  if (setvarId !== undefined) pd.setvarId = setvarId;

  let programImage: { path: string; pathForSymbols?: string } | undefined;
  let cspaceSeen = false;
  for (const child of element.children) {
    switch (child.tag) {
      case "program_image": {
        checkAttributes(child, ["path", "path_for_symbols"]);
        if (programImage) throw valueError(element, "program_image must only be specified once");
        programImage = { path: requiredAttribute(child, "path") };
        const pathForSymbols = child.attributes.get("path_for_symbols");
        if (pathForSymbols !== undefined) programImage.pathForSymbols = pathForSymbols;
        break;
      }
      case "map":
        pd.maps.push(parseMap(child, pdMapMaxVaddr(context.platform, stackSize), pd.setvars));
        break;
      case "irq":
        pd.irqs.push(parseIrq(child, pd.setvars));
        break;
      case "setvar": {
        checkAttributes(child, ["symbol", "region_paddr"]);
        const symbol = requiredAttribute(child, "symbol");
        const regionPaddr = requiredAttribute(child, "region_paddr");
        addSetvar(
          pd.setvars,
          { symbol, kind: "paddr", regionPaddr, location: child.location, tag: child.tag },
          child,
        );
        break;
      }
      case "protection_domain": {
        const childPd = parseProtectionDomain(child, context, true);
        if (childPd.setvarId !== undefined) {
          addSetvar(pd.setvars, idSetvar(childPd.setvarId, childPd.id!, child), child);
        }
        pd.children.push(childPd);
        break;
      }
      case "virtual_machine": {
        if (pd.virtualMachine) throw valueError(element, "virtual_machine must only be specified once");
        const vm = parseVirtualMachine(child, context.platform, cpu);
        for (const vcpu of vm.vcpus) {
          if (vcpu.setvarId !== undefined)
            addSetvar(pd.setvars, idSetvar(vcpu.setvarId, vcpu.id, child), child);
        }
        pd.virtualMachine = vm;
        break;
      }
      case "cspace":
        if (cspaceSeen) throw valueError(element, "cspace must only be specified once");
        cspaceSeen = true;
        pd.capMaps = parseCspace(child);
        break;
      case "ioport":
        throw valueError(element, "I/O Ports are only available on x86");
      default:
        // The Microkit tool words this one without its usual "Error: " prefix.
        throw new SdfError(
          `Invalid XML element '${child.tag}': ${formatLocation(child.location)}`,
          child.location,
        );
    }
  }
  if (!programImage) {
    throw errorAt(`Error: missing 'program_image' element on protection_domain: '${name}'`, element.location);
  }
  pd.programImage = programImage;
  return pd;
}

function parseDomainName(element: XmlElement, domains: ReadonlyMap<string, number> | undefined) {
  if (domains) {
    const domain = requiredAttribute(element, "domain");
    if (!domains.has(domain)) throw valueError(element, `domain '${domain}' not declared in <domains>:`);
    return domain;
  }
  const domain = element.attributes.get("domain");
  if (domain !== undefined) {
    throw valueError(
      element,
      `Specifying a domain '${domain}' without declaring a domain schedule is not allowed:`,
    );
  }
  return undefined;
}
