// The guest images a VM boots by default, built on first use: a kernel (minimal, Debian's, or the user's
// own Image), the initramfs with an example's overlay, and the device tree for the VM's layout that
// describes that initrd. Everything is cached; the second call costs a few file reads.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkGuestBootImages } from "./boot-checks.ts";
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
import { loadArm64Image, type Arm64ImageHeader } from "./kernel/image-header.ts";
import { ensureMinimalKernel } from "./kernel/minimal-kernel.ts";
import { SIMPLE_LAYOUT, type GuestLayout } from "./layout.ts";
import { silentProgress, type OnProgress } from "./progress.ts";

export const EXAMPLES_DIR = fileURLToPath(new URL("../../examples", import.meta.url));

export interface GuestImageOptions {
  /** `minimal` (default), `debian`, or the path of an arm64 Image (raw or gzip). */
  kernel?: string;
  /** Adds `examples/<name>/overlay/` to the initramfs. */
  example?: string;
  /** A .dtb or .dts to use instead of the generated device tree. */
  dtb?: string;
  onProgress?: OnProgress;
  /** Defaults to $VIRTKIT_CACHE, $XDG_CACHE_HOME/virtkit or ~/.cache/virtkit. */
  cacheRoot?: string;
  /** Where examples live; defaults to the repository's examples/. */
  examplesDir?: string;
}

export interface GuestImages {
  kernel: string;
  initrd: string;
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
  const layout = SIMPLE_LAYOUT;
  // Resolved first, so a mistyped example fails before minutes of kernel build.
  const overlay = options.example
    ? exampleOverlay(options.examplesDir ?? EXAMPLES_DIR, options.example)
    : undefined;

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
  const kernelHeader = loadArm64Image(readFileSync(kernel.path), kernel.path).header;

  const busybox = ensureBusybox(root, log);
  const sources = [`${BUSYBOX_PACKAGE}:arm64 ${busybox.version}`];
  if (modules.length > 0)
    sources.push(`modules ${modules.map((m) => m.name).join(",")} of ${kernel.manifest.source}`);
  if (overlay) sources.push(`overlay examples/${options.example}/overlay`);
  const initrd = await ensureInitramfs({
    cacheRoot: root,
    name: `initrd${kernelTag}${options.example ? `-${options.example}` : ""}`,
    busybox,
    modules,
    overlays: overlay ? [overlay] : [],
    source: sources.join("; "),
  });

  const dtbBytes = options.dtb
    ? loadUserDeviceTree(options.dtb)
    : guestDtb(layout.deviceTree(initrd.manifest.size));
  const dtbName = options.dtb ? `user-${basename(options.dtb).replace(/\.dts$|\.dtb$/, "")}` : layout.name;
  const dtbSource = options.dtb
    ? `user device tree ${options.dtb}`
    : `generated for the ${layout.name} layout, initrd ${initrd.manifest.sha256.slice(0, 16)}`;
  const dtb = await ensureArtifact(artifactDir(root, "dtb", dtbName, sha256Bytes(dtbBytes)), async (dir) =>
    writeArtifact(dir, { kind: "dtb", name: dtbName, file: "guest.dtb", source: dtbSource }, dtbBytes),
  );

  checkGuestBootImages({
    ram: [layout.ram],
    kernel: { address: layout.ram.base + kernelHeader.textOffset, header: kernelHeader },
    dtb: { address: layout.dtbAddress, bytes: dtbBytes },
    initrd: { address: layout.initrdAddress, size: initrd.manifest.size },
  });
  return {
    kernel: kernel.path,
    initrd: initrd.path,
    dtb: dtb.path,
    kernelHeader,
    layout,
    artifacts: [kernel, initrd, dtb],
  };
}
