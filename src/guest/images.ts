// The guest images a VM boots by default, built on first use: a kernel (minimal, Debian's, or the user's
// own Image), the initramfs with an example's overlay, and the device tree for the VM's layout that
// describes that initrd. Everything is cached; the second call costs a few file reads.
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkGuestBootImages } from "../libvmm/boot-checks.ts";
import {
  artifactDir,
  cacheRoot as defaultCacheRoot,
  ensureArtifact,
  sha256Bytes,
  writeArtifact,
} from "./cache.ts";
import type { EnsuredArtifact } from "./cache.ts";
import { guestDtb } from "./dtb/guest-dtb.ts";
import { loadUserDeviceTree } from "./dtb/user-dtb.ts";
import { BUSYBOX_PACKAGE, ensureBusybox } from "./initramfs/busybox.ts";
import { ensureInitramfs } from "./initramfs/initramfs.ts";
import type { KernelModule } from "./initramfs/rootfs.ts";
import { ensureDebianKernel } from "./kernel/debian-kernel.ts";
import {
  ARM64_IMAGE_HEADER_SIZE,
  ARM64_IMAGE_MAGIC,
  MAGIC_OFFSET,
  loadArm64Image,
  parseArm64ImageHeader,
  type Arm64ImageHeader,
} from "../libvmm/image-header.ts";
import { ensureMinimalKernel } from "./kernel/minimal-kernel.ts";
import { ensureCrossvmGuest } from "./crossvm/build.ts";
import type { FdtNode } from "../libvmm/fdt.ts";
import { guestLayout, type GuestLayout } from "./layout.ts";
import { ensureGuestPrograms, examplePrograms } from "./programs.ts";
import { boardNamed, type BoardDescription } from "../machine/boards/index.ts";
import { silentProgress, type OnProgress } from "./progress.ts";

export const EXAMPLES_DIR = fileURLToPath(new URL("../../examples", import.meta.url));

export interface GuestImageOptions {
  /** The board whose guest layout the images are for (default qemu_virt_aarch64). */
  board?: BoardDescription;
  /**
   * `minimal` (default), `debian`, or the path of an arm64 Image (raw or gzip), or of any other file,
   * which boots as a raw binary at RAM base + 0x80000 as QEMU's -kernel does.
   */
  kernel?: string;
  /** An initramfs file to use instead of the built one, or `none` for no initrd. */
  initrd?: string;
  /** The kernel command line, /chosen/bootargs of the generated device tree (QEMU's -append). */
  bootargs?: string;
  /**
   * virtio-mmio transports the guest is given (passed through or emulated): device-tree nodes; `irq`
   * is the INTID, edge-triggered as QEMU's slots unless `level` (libvmm's emulated devices).
   */
  virtio?: { base: number; irq: number; level?: boolean }[];
  /** false: the guest gets no node for the board's UART (its console is elsewhere, e.g. hvc0). */
  uart?: boolean;
  /** Adds `examples/<name>/overlay/` to the initramfs. */
  example?: string;
  /** A .dtb or .dts to use instead of the generated device tree. */
  dtb?: string;
  /**
   * The guest side of cross-VM connectors (src/guest/crossvm): its modules, loaded at boot, its init
   * tools, and these C programs built against its library (/usr/sbin). Needs the minimal kernel.
   */
  crossvm?: { programs?: string[] };
  /** Nodes the generated device tree adds for devices the VMM provides (libvmm's crossVmDeviceTree). */
  deviceTreeNodes?: FdtNode[];
  onProgress?: OnProgress;
  /** Defaults to $VIRTKIT_CACHE, $XDG_CACHE_HOME/virtkit or ~/.cache/virtkit. */
  cacheRoot?: string;
  /** Where examples live; defaults to the repository's examples/. */
  examplesDir?: string;
}

export interface GuestImages {
  kernel: string;
  /** Undefined with `initrd: "none"`. */
  initrd: string | undefined;
  dtb: string;
  kernelHeader: Arm64ImageHeader;
  layout: GuestLayout;
  artifacts: EnsuredArtifact[];
}

/** The overlay directory of an example, undefined when it has none; an unknown example is an error. */
export function exampleOverlay(examplesDir: string, example: string): string | undefined {
  const dir = join(examplesDir, example);
  if (!existsSync(dir)) {
    const known = existsSync(examplesDir) ? readdirSync(examplesDir).sort().join(", ") : "none";
    throw new Error(`there is no example "${example}" in ${examplesDir} (examples: ${known})`);
  }
  const overlay = join(dir, "overlay");
  return existsSync(overlay) ? overlay : undefined;
}

/**
 * The header of a cached kernel, from its first 64 bytes when they are an arm64 Image's header (the
 * cache keeps Images uncompressed): reading the whole ~5 MB Image for it cost several ms at every start.
 * Anything else (a raw binary, whose size is its image_size) is read whole, as loadArm64Image reads it.
 */
function kernelImageHeader(path: string): Arm64ImageHeader {
  const head = new Uint8Array(ARM64_IMAGE_HEADER_SIZE);
  const fd = openSync(path, "r");
  let read: number;
  try {
    read = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const isGzip = head[0] === 0x1f && head[1] === 0x8b;
  const magic = new DataView(head.buffer).getUint32(MAGIC_OFFSET, true);
  return read === head.length && !isGzip && magic === ARM64_IMAGE_MAGIC
    ? parseArm64ImageHeader(head, path)
    : loadArm64Image(readFileSync(path), path).header;
}

async function ensureUserKernel(root: string, path: string): Promise<EnsuredArtifact> {
  const { bytes } = loadArm64Image(new Uint8Array(readFileSync(path)), path);
  const hash = sha256Bytes(bytes);
  return ensureArtifact(artifactDir(root, "kernel", "custom", hash), async (dir) =>
    writeArtifact(
      dir,
      { kind: "kernel", name: "custom", file: "Image", source: `user Image ${path}` },
      bytes,
    ),
  );
}

export async function ensureGuestImages(options: GuestImageOptions = {}): Promise<GuestImages> {
  const root = options.cacheRoot ?? defaultCacheRoot();
  const onProgress = options.onProgress ?? silentProgress;
  const log = (line: string): void => onProgress({ type: "phase", phase: line.replace(/^virtkit: /, "") });
  const kernelChoice = options.kernel ?? "minimal";
  const board = options.board ?? boardNamed();
  const layout = guestLayout(board);
  if (kernelChoice === "debian" && board.guest.uart.kind !== "pl011" && options.dtb === undefined) {
    throw new Error(
      `--kernel debian: Debian's cloud kernel has no driver for the ${board.name} guest's ` +
        `${board.guest.uart.kind === "imx" ? "i.MX" : "Meson"} UART, so the guest would have no console; ` +
        `boot the minimal kernel (the default) or an Image built with that driver`,
    );
  }
  // Resolved first, so a mistyped example or file fails before minutes of kernel build.
  const overlay = options.example
    ? exampleOverlay(options.examplesDir ?? EXAMPLES_DIR, options.example)
    : undefined;
  if (options.initrd !== undefined && options.initrd !== "none" && !existsSync(options.initrd)) {
    throw new Error(`--initrd must be the path of an initramfs or none; "${options.initrd}" does not exist`);
  }

  let kernel: EnsuredArtifact;
  let modules: KernelModule[] = [];
  let kernelTag = "";
  if (kernelChoice === "minimal") {
    kernel = await ensureMinimalKernel({ cacheRoot: root, onProgress });
  } else if (kernelChoice === "debian") {
    const debian = await ensureDebianKernel(root, log);
    kernel = debian.kernel;
    modules = debian.modules;
    kernelTag = "-debian";
  } else if (existsSync(kernelChoice)) {
    kernel = await ensureUserKernel(root, kernelChoice);
  } else {
    throw new Error(
      `--kernel must be minimal, debian or the path of an arm64 Image; "${kernelChoice}" is none of these`,
    );
  }
  const kernelHeader = kernelImageHeader(kernel.path);

  const crossvm =
    options.crossvm && options.initrd === undefined
      ? await ensureCrossvmGuest({ cacheRoot: root, kernel, programs: options.crossvm.programs, onProgress })
      : undefined;
  if (crossvm) modules = [...modules, ...crossvm.modules];
  const programSources = options.example
    ? examplePrograms(join(options.examplesDir ?? EXAMPLES_DIR, options.example))
    : [];
  const programs =
    programSources.length > 0 && options.initrd === undefined
      ? await ensureGuestPrograms({
          cacheRoot: root,
          name: options.example!,
          programs: programSources,
          onProgress,
        })
      : undefined;
  const built = await ensureInitrd(options, root, log, {
    modules,
    kernelTag,
    overlay,
    kernel,
    extraOverlays: [crossvm?.overlay, programs?.overlay].filter((dir) => dir !== undefined),
  });
  const initrd = built?.path;
  const initrdSize = initrd === undefined ? undefined : statSync(initrd).size;

  const dtbBytes = options.dtb
    ? loadUserDeviceTree(options.dtb)
    : guestDtb({
        ...layout.deviceTree(initrdSize, options.bootargs, { uart: options.uart }),
        virtio: options.virtio,
        extraNodes: options.deviceTreeNodes,
      });
  const dtbName = options.dtb
    ? `user-${basename(options.dtb).replace(/\.dts$|\.dtb$/, "")}`
    : [layout.name, options.example, options.bootargs === undefined ? undefined : "append"]
        .filter((part) => part !== undefined)
        .join("-");
  // Described only when the tree is not cached yet: hashing the initrd again cost a read of it at every start.
  const dtbSource = (): string =>
    options.dtb
      ? `user device tree ${options.dtb}`
      : `generated for the ${layout.name} layout, ` +
        (initrd === undefined ? "no initrd" : `initrd ${sha256Bytes(readFileSync(initrd)).slice(0, 16)}`) +
        (options.bootargs === undefined ? "" : `, bootargs "${options.bootargs}"`);
  const dtb = await ensureArtifact(artifactDir(root, "dtb", dtbName, sha256Bytes(dtbBytes)), async (dir) =>
    writeArtifact(dir, { kind: "dtb", name: dtbName, file: "guest.dtb", source: dtbSource() }, dtbBytes),
  );

  checkGuestBootImages({
    ram: [layout.ram],
    kernel: { address: layout.ram.base + kernelHeader.textOffset, header: kernelHeader },
    dtb: { address: layout.dtbAddress, bytes: dtbBytes },
    initrd: initrdSize === undefined ? undefined : { address: layout.initrdAddress, size: initrdSize },
  });
  return {
    kernel: kernel.path,
    initrd,
    dtb: dtb.path,
    kernelHeader,
    layout,
    artifacts: [
      kernel,
      ...(crossvm ? [crossvm.artifact] : []),
      ...(programs ? [programs.artifact] : []),
      ...(built?.artifact ? [built.artifact] : []),
      dtb,
    ],
  };
}

/** The initramfs to boot: none, the user's file, or the busybox one built with the example's overlay. */
async function ensureInitrd(
  options: GuestImageOptions,
  root: string,
  log: (line: string) => void,
  built: {
    modules: KernelModule[];
    kernelTag: string;
    overlay: string | undefined;
    kernel: EnsuredArtifact;
    /** Built files (the cross-VM tools, the example's programs) copied before the example's overlay. */
    extraOverlays: string[];
  },
): Promise<{ path: string; artifact?: EnsuredArtifact } | undefined> {
  if (options.initrd === "none") return undefined;
  if (options.initrd !== undefined) return { path: options.initrd };
  const busybox = ensureBusybox(root, log);
  const sources = [`${BUSYBOX_PACKAGE}:arm64 ${busybox.version}`];
  if (built.modules.length > 0)
    sources.push(`modules ${built.modules.map((m) => m.name).join(",")} of ${built.kernel.manifest.source}`);
  if (built.extraOverlays.length > 0) sources.push("built tools and programs");
  if (built.overlay) sources.push(`overlay examples/${options.example}/overlay`);
  const initramfs = await ensureInitramfs({
    cacheRoot: root,
    name: `initrd${built.kernelTag}${options.example ? `-${options.example}` : ""}`,
    busybox,
    modules: built.modules,
    overlays: [...built.extraOverlays, built.overlay].filter((dir) => dir !== undefined),
    source: sources.join("; "),
  });
  return { path: initramfs.path, artifact: initramfs };
}
