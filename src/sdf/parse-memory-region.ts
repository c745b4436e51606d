// `<memory_region>` elements: size, page size, physical address and prefill.

import { accessSync, constants, existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { MemoryRegionDecl } from "./declarations.ts";
import type { PageSize } from "./model.ts";
import type { XmlElement } from "./xml.ts";
import { checkAttributes, optionalU64, requiredAttribute, safeNumber } from "./attributes.ts";
import { valueError } from "./errors.ts";
import { hex } from "../util/hex.ts";
import { PAGE_SIZES, SMALL_PAGE } from "./platform.ts";

/** Kinds of boot information the Microkit tool can copy into a region instead of a file. */
const BOOTINFO_KINDS = ["x86_vbe", "x86_mbmmap", "x86_acpi_rsdp", "x86_framebuffer", "x86_tsc_freq", "fdt"];

/** Parses a `<memory_region>`. Prefill files are looked up in each search path in turn. */
export function parseMemoryRegion(element: XmlElement, searchPaths: readonly string[]): MemoryRegionDecl {
  checkAttributes(element, ["name", "size", "page_size", "phys_addr", "prefill_path", "prefill_bootinfo"]);
  const name = requiredAttribute(element, "name");
  const pageSizeValue = optionalU64(element, "page_size");
  const pageSize = Number(pageSizeValue ?? BigInt(SMALL_PAGE));
  if (pageSizeValue !== undefined && !PAGE_SIZES.some((size) => BigInt(size) === pageSizeValue)) {
    throw valueError(element, `page size ${hex(pageSizeValue)} not supported`);
  }

  const prefillPath = element.attributes.get("prefill_path");
  const prefill = prefillPath === undefined ? undefined : findPrefill(element, prefillPath, searchPaths);
  const prefillBootinfo = element.attributes.get("prefill_bootinfo");
  if (prefillBootinfo !== undefined && !BOOTINFO_KINDS.includes(prefillBootinfo)) {
    throw valueError(element, `BootInfoMap type: '${prefillBootinfo}' is not supported`);
  }
  if (prefill && prefillBootinfo !== undefined) {
    throw valueError(element, "prefill_path and prefill_bootinfo cannot be both specified");
  }

  const size = regionSize(element, pageSize, prefill?.size, prefillBootinfo !== undefined);
  const physAddrValue = optionalU64(element, "phys_addr");
  if (physAddrValue !== undefined && physAddrValue % BigInt(pageSize) !== 0n) {
    throw valueError(element, "phys_addr is not aligned to the page size");
  }

  const region: MemoryRegionDecl = {
    name,
    size,
    pageSize: pageSize as PageSize,
    pageSizeExplicit: pageSizeValue !== undefined,
    location: element.location,
  };
  if (physAddrValue !== undefined) region.physAddr = safeNumber(element, "phys_addr", physAddrValue);
  if (prefill) {
    region.prefillPath = prefillPath;
    region.prefillResolved = prefill.path;
    region.prefillSize = prefill.size;
  }
  if (prefillBootinfo !== undefined) region.prefillBootinfo = prefillBootinfo;
  return region;
}

function findPrefill(element: XmlElement, path: string, searchPaths: readonly string[]) {
  const found = searchPaths.map((dir) => resolve(dir, path)).find((candidate) => existsSync(candidate));
  if (found === undefined) {
    throw valueError(
      element,
      `unable to find prefill file: '${path}'`,
      `Looked in: ${searchPaths.join(", ")}. Add the folder that holds it with --search-path.`,
    );
  }
  let size: number;
  try {
    accessSync(found, constants.R_OK);
    const stats = statSync(found);
    if (!stats.isFile()) throw new Error("not a file");
    size = stats.size;
  } catch {
    throw valueError(element, `failed to read file '${path}' at prefill_path`);
  }
  if (size === 0) throw valueError(element, `prefill file '${path}' is empty`);
  return { path: found, size };
}

/** The size attribute, or the prefill length rounded up to a page, or one page of boot info. */
function regionSize(
  element: XmlElement,
  pageSize: number,
  prefillSize: number | undefined,
  bootinfo: boolean,
) {
  const sizeValue = optionalU64(element, "size");
  if (sizeValue === undefined) {
    if (bootinfo) return pageSize;
    if (prefillSize === undefined) {
      throw valueError(element, "size must be specified if memory region is not prefilled");
    }
    return Math.ceil(prefillSize / pageSize) * pageSize;
  }
  // The Microkit tool accepts an empty region and fails later, while building the system.
  if (sizeValue === 0n) throw valueError(element, "size must be greater than 0");
  if (sizeValue % BigInt(pageSize) !== 0n)
    throw valueError(element, "size is not a multiple of the page size");
  if (prefillSize !== undefined && BigInt(prefillSize) > sizeValue) {
    throw valueError(
      element,
      `size of prefill file exceeds memory region size: ${prefillSize.toString(16)} > ${sizeValue.toString(16)}`,
    );
  }
  return safeNumber(element, "size", sizeValue);
}
