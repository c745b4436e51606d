// Loading a Linux guest per the arm64 boot protocol (Documentation/arch/arm64/booting.rst): the Image at
// RAM base + text_offset, the DTB (8-byte aligned, at most 2 MiB) where the VMM chose, the initrd where
// the DTB's /chosen says, and vCPU 0 started at the Image's first instruction with x0 = the DTB.
import { BootLayoutError, checkGuestBootImages } from "./boot-checks.ts";
import { findNode, getProperty, numberOf, readFdt } from "./fdt.ts";
import { loadArm64Image } from "./image-header.ts";
import type { Guest, VcpuStartState } from "./guest.ts";
import type { GuestRam } from "./guest-ram.ts";
import { hex } from "../util/hex.ts";

export interface LinuxImages {
  /** The arm64 Image, raw or gzip-compressed. */
  kernel: Uint8Array;
  dtb: Uint8Array;
  initrd?: Uint8Array;
  /** Names the kernel in errors (a file path, "minimal kernel", …). */
  kernelSource?: string;
}

export interface LinuxBoot {
  kernelAddress: number;
  /** The kernel had no arm64 Image header and was loaded as a raw binary at RAM base + 0x80000. */
  rawBinary: boolean;
  dtbAddress: number;
  initrdAddress: number | undefined;
  /** vCPU 0's start: PC = the kernel's first instruction, x0 = the DTB; EL1h with DAIF masked. */
  start: VcpuStartState;
}

/** The initrd address the DTB's /chosen names, if any. */
export function chosenInitrdStart(dtb: Uint8Array): number | undefined {
  try {
    const chosen = findNode(readFdt(dtb, "guest DTB").root, "/chosen");
    const start = chosen && getProperty(chosen, "linux,initrd-start");
    return start ? numberOf(start) : undefined;
  } catch {
    return undefined; // a corrupt DTB: checkGuestBootImages names the problem
  }
}

/**
 * Checks the layout (throwing BootLayoutError or KernelImageError with every problem named) and copies the
 * images into guest RAM. Nothing is written unless the whole layout is sound.
 */
export function loadLinux(ram: GuestRam, images: LinuxImages, dtbAddress: number): LinuxBoot {
  const kernel = loadArm64Image(images.kernel, images.kernelSource ?? "guest kernel");
  const kernelAddress = ram.base + kernel.header.textOffset;
  const initrdAddress = images.initrd ? chosenInitrdStart(images.dtb) : undefined;
  if (images.initrd && initrdAddress === undefined) {
    throw new BootLayoutError([
      `the DTB's /chosen has no linux,initrd-start/end, so there is nowhere to load the ` +
        `${images.initrd.length}-byte initrd; add both properties covering exactly the initrd`,
    ]);
  }
  checkGuestBootImages({
    ram: ram.regions.map((r) => ({ base: r.gpa, size: r.bytes.length })),
    kernel: { address: kernelAddress, header: kernel.header },
    dtb: { address: dtbAddress, bytes: images.dtb },
    initrd:
      images.initrd && initrdAddress !== undefined
        ? { address: initrdAddress, size: images.initrd.length }
        : undefined,
  });
  ram.write(kernelAddress, kernel.bytes);
  ram.write(dtbAddress, images.dtb);
  if (images.initrd && initrdAddress !== undefined) ram.write(initrdAddress, images.initrd);
  return {
    kernelAddress,
    rawBinary: kernel.rawBinary,
    dtbAddress,
    initrdAddress,
    start: { pc: BigInt(kernelAddress), x0: BigInt(dtbAddress) },
  };
}

/** Loads the images and starts the boot vCPU (vCPU 0), as libvmm's guest_start does. */
export function bootLinux(guest: Guest, ram: GuestRam, images: LinuxImages, dtbAddress: number): LinuxBoot {
  const boot = loadLinux(ram, images, dtbAddress);
  guest.start(0, boot.start);
  return boot;
}

export function describeBoot(boot: LinuxBoot): string {
  const initrd = boot.initrdAddress === undefined ? "no initrd" : `initrd at ${hex(boot.initrdAddress)}`;
  const kernel = boot.rawBinary
    ? `raw binary (no arm64 Image header) at ${hex(boot.kernelAddress)}, RAM base + 0x80000 as QEMU loads one`
    : `kernel at ${hex(boot.kernelAddress)}`;
  return `${kernel}, DTB at ${hex(boot.dtbAddress)}, ${initrd}`;
}
