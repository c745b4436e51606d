// Checks a VMM makes before it starts a Linux guest, so a bad layout is an error that says what to move
// and by how much rather than a guest that hangs or misbehaves later (upstream libvmm does not check
// that the DTB's initrd range covers the initrd it loaded).
import type { AddressRange } from "../machine/boards/board.ts";
import { FDT_MAGIC, cellsOf, findNode, getProperty, numberOf, readFdt, stringsOf } from "./fdt.ts";
import type { Arm64ImageHeader } from "./image-header.ts";
import { hex } from "../util/hex.ts";

/** Linux requires the DTB to be at most 2 MiB and 8-byte aligned (booting.rst). */
export const MAX_DTB_SIZE = 0x20_0000;
const TWO_MIB = 0x20_0000;

export interface GuestBootImages {
  /** The VM's RAM regions, as guest-physical ranges. */
  ram: AddressRange[];
  kernel: { address: number; header: Arm64ImageHeader };
  dtb: { address: number; bytes: Uint8Array };
  initrd?: { address: number; size: number };
}

export class BootLayoutError extends Error {
  constructor(readonly problems: string[]) {
    super(`the guest cannot boot with this layout:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

const span = (r: AddressRange): string => `${hex(r.base)}-${hex(r.base + r.size)}`;
const bytes = (n: number): string => `${n} bytes (${hex(n)})`;

/** A problem if `what` does not lie inside one RAM region, saying by how much it sticks out. */
function outsideRam(what: string, range: AddressRange, ram: readonly AddressRange[]): string | undefined {
  const region = ram.find((r) => range.base >= r.base && range.base < r.base + r.size);
  if (!region) {
    return `${what} at ${span(range)} starts outside guest RAM (${ram.map(span).join(", ")})`;
  }
  const over = range.base + range.size - (region.base + region.size);
  return over > 0
    ? `${what} at ${span(range)} runs ${bytes(over)} past the end of RAM region ${span(region)}`
    : undefined;
}

function initrdProblems(chosenRange: AddressRange | undefined, loaded: AddressRange): string[] {
  if (!chosenRange) {
    return [
      `the DTB's /chosen has no linux,initrd-start/end, so Linux will not find the initrd loaded at ${span(loaded)}`,
    ];
  }
  const problems: string[] = [];
  if (chosenRange.base !== loaded.base) {
    problems.push(
      `the DTB's /chosen says the initrd starts at ${hex(chosenRange.base)} but it is loaded at ${hex(loaded.base)}`,
    );
  }
  const short = loaded.base + loaded.size - (chosenRange.base + chosenRange.size);
  if (chosenRange.base === loaded.base && short > 0) {
    problems.push(
      `the DTB's /chosen initrd range ${span(chosenRange)} is ${bytes(short)} too small for the ${loaded.size}-byte ` +
        `initrd; Linux would see a truncated archive`,
    );
  }
  return problems;
}

function chosenInitrd(dtb: Uint8Array): AddressRange | undefined {
  const chosen = findNode(readFdt(dtb, "guest DTB").root, "/chosen");
  const start = chosen && getProperty(chosen, "linux,initrd-start");
  const end = chosen && getProperty(chosen, "linux,initrd-end");
  if (!start || !end) return undefined;
  const base = numberOf(start);
  return { base, size: numberOf(end) - base };
}

/** Throws a BootLayoutError listing every problem found; returns when the layout is sound. */
export function checkGuestBootImages(images: GuestBootImages): void {
  const problems: string[] = [];
  const { ram, kernel, dtb, initrd } = images;

  const dtbMagic =
    dtb.bytes.length >= 4 ? new DataView(dtb.bytes.buffer, dtb.bytes.byteOffset).getUint32(0) : 0;
  const dtbIsValid = dtbMagic === FDT_MAGIC;
  if (!dtbIsValid) problems.push(`the DTB does not start with the magic 0xd00dfeed (found ${hex(dtbMagic)})`);
  if (dtb.bytes.length > MAX_DTB_SIZE) {
    problems.push(
      `the DTB is ${bytes(dtb.bytes.length)}, ${bytes(dtb.bytes.length - MAX_DTB_SIZE)} over Linux's 2 MiB limit`,
    );
  }
  if (dtb.address % 8 !== 0)
    problems.push(`the DTB address ${hex(dtb.address)} is not 8-byte aligned (off by ${dtb.address % 8})`);

  const kernelRange = { base: kernel.address, size: kernel.header.imageSize };
  const misplaced = (kernel.address - kernel.header.textOffset) % TWO_MIB;
  if (misplaced !== 0) {
    problems.push(
      `the kernel at ${hex(kernel.address)} must sit at a 2 MiB-aligned address plus its text_offset ` +
        `${hex(kernel.header.textOffset)}; it is ${bytes(misplaced)} past one`,
    );
  }
  const ranges: [string, AddressRange][] = [
    ["kernel (image_size)", kernelRange],
    ["DTB", { base: dtb.address, size: dtb.bytes.length }],
  ];
  if (initrd) ranges.push(["initrd", { base: initrd.address, size: initrd.size }]);
  for (const [what, range] of ranges) {
    const problem = outsideRam(what, range, ram);
    if (problem) problems.push(problem);
  }
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const [a, ra] = ranges[i]!;
      const [b, rb] = ranges[j]!;
      const overlap = Math.min(ra.base + ra.size, rb.base + rb.size) - Math.max(ra.base, rb.base);
      if (overlap > 0)
        problems.push(`${a} at ${span(ra)} and ${b} at ${span(rb)} overlap by ${bytes(overlap)}`);
    }
  }
  if (initrd && dtbIsValid) {
    try {
      problems.push(...initrdProblems(chosenInitrd(dtb.bytes), { base: initrd.address, size: initrd.size }));
    } catch (err) {
      problems.push(`the DTB is corrupt: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new BootLayoutError(problems);
}

export interface GuestRamMapping {
  /** The memory region the system maps as the guest's RAM, and how much of it the VMM can reach. */
  region: string;
  gpa: number;
  size: number;
}

const MIB = 0x10_0000;
const mib = (n: number): string => `${Math.round((n / MIB) * 10) / 10} MiB`;
const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

/**
 * Seed 004's memory lesson as a check before boot: the guest RAM region the system maps must hold the
 * kernel (its whole image_size), the DTB and the initrd where they go, and cover the RAM the device tree
 * gives Linux. Throws a BootLayoutError naming the sizes and the smallest region that would do.
 */
export function checkGuestRamSize(mapping: GuestRamMapping, images: Omit<GuestBootImages, "ram">): void {
  const { kernel, dtb, initrd } = images;
  const base = mapping.gpa;
  const end = base + mapping.size;
  const needs: [string, AddressRange][] = [
    ["the kernel (image_size)", { base: kernel.address, size: kernel.header.imageSize }],
    ["the DTB", { base: dtb.address, size: dtb.bytes.length }],
  ];
  if (initrd) needs.push(["the initrd", { base: initrd.address, size: initrd.size }]);
  const highest = Math.max(...needs.map(([, r]) => r.base + r.size));
  const region = `guest RAM region '${mapping.region}'`;
  if (needs.some(([, r]) => r.base < base || r.base + r.size > end)) {
    const smallest = roundUp(highest - base, 0x1000);
    const described = needs.map(([what, r], i) => `${what}${i === 0 ? " needs" : ""} ${span(r)}`);
    const last = described.pop()!;
    throw new BootLayoutError([
      `${region} is too small for the guest's images: it is ${mib(mapping.size)} (${hex(mapping.size)} bytes) ` +
        `at ${span({ base, size: mapping.size })}, but ` +
        (described.length > 0 ? `${described.join(", ")} and ${last}` : last),
      `the smallest region that holds them all is ${hex(smallest)} bytes (${mib(smallest)}; ` +
        `${hex(roundUp(smallest, TWO_MIB))} keeps 2 MiB pages): make '${mapping.region}' at least that ` +
        `big in the .system file, or place the DTB and initrd lower`,
    ]);
  }
  let memory: AddressRange[];
  try {
    memory = memoryNodes(dtb.bytes);
  } catch {
    return; // a corrupt DTB: checkGuestBootImages names the problem
  }
  const beyond = memory.find((r) => r.base < base || r.base + r.size > end);
  if (beyond) {
    throw new BootLayoutError([
      `${region} is smaller than the RAM the guest's device tree gives Linux: the region is ` +
        `${bytes(mapping.size)} at ${span({ base, size: mapping.size })}, the device tree says ` +
        `${span(beyond)} (${mib(beyond.size)}), and Linux would use memory that is not there`,
      `make '${mapping.region}' ${bytes(beyond.base + beyond.size - base)} in the .system file, or give ` +
        `the guest a device tree whose memory node fits (virtkit run --dtb)`,
    ]);
  }
}

/** The `reg` ranges of the device tree's memory nodes, in the root's address and size cells. */
function memoryNodes(dtbBytes: Uint8Array): AddressRange[] {
  const root = readFdt(dtbBytes, "guest DTB").root;
  const cellCount = (name: string, fallback: number) => {
    const value = getProperty(root, name);
    return value ? numberOf(value) : fallback;
  };
  const addressCells = cellCount("#address-cells", 2);
  const sizeCells = cellCount("#size-cells", 1);
  const number = (cells: number[]) => cells.reduce((value, cell) => value * 0x1_0000_0000 + cell, 0);
  const ranges: AddressRange[] = [];
  for (const child of root.children) {
    const type = getProperty(child, "device_type");
    const reg = getProperty(child, "reg");
    if (!type || !reg || stringsOf(type)[0] !== "memory") continue;
    const cells = cellsOf(reg);
    const step = addressCells + sizeCells;
    for (let i = 0; i + step <= cells.length; i += step) {
      ranges.push({
        base: number(cells.slice(i, i + addressCells)),
        size: number(cells.slice(i + addressCells, i + step)),
      });
    }
  }
  return ranges;
}
