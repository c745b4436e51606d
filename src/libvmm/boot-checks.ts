// Checks a VMM makes before it starts a Linux guest, so a bad layout is an error that says what to move
// and by how much rather than a guest that hangs or misbehaves later (upstream libvmm does not check
// that the DTB's initrd range covers the initrd it loaded).
import type { AddressRange } from "../machine/boards/board.ts";
import { FDT_MAGIC, findNode, getProperty, numberOf, readFdt } from "./fdt.ts";
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
