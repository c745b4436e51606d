// `virtkit images`: build, list and locate the guest images (kernel, initramfs, device tree).
import type { Command } from "commander";
import { cacheRoot, listArtifacts } from "../guest/cache.ts";
import { boardNamed } from "../machine/boards/index.ts";
import { virtioMmioSlot, type BoardDescription } from "../machine/boards/board.ts";
import { ensureGuestImages, type GuestImageOptions } from "../guest/images.ts";
import { streamProgress } from "../guest/progress.ts";
import type { RegisterCommand } from "./commands.ts";

interface BuildOptions {
  kernel: string;
  board?: string;
  example?: string;
  dtb?: string;
  append?: string;
  nic?: boolean;
}

function withImageOptions(command: Command): Command {
  return command
    .option(
      "--kernel <kernel>",
      "minimal (built from Debian's linux-source), debian (stock cloud kernel) or an Image path",
      "minimal",
    )
    .option(
      "--board <name>",
      "the board whose guest layout the device tree describes (default qemu_virt_aarch64)",
    )
    .option("--example <name>", "add examples/<name>/overlay/ to the initramfs")
    .option("--dtb <file>", "use this .dtb (or .dts, compiled with dtc) instead of the generated device tree")
    .option("--append <args>", "the guest kernel's command line (/chosen/bootargs), as QEMU's -append")
    .option(
      "--nic",
      "list the board's NIC (its virtio-mmio slot) in the device tree, for a VMM passing it through",
    );
}

/** The board's NIC as the guest's device tree lists it; a board without virtio-mmio slots has none. */
function boardNic(board: BoardDescription): { base: number; irq: number } {
  if (!board.virtioMmio) throw new Error(`--nic: board ${board.name} has no virtio-mmio slot for a NIC`);
  return virtioMmioSlot(board.virtioMmio, board.virtioMmio.nicSlot);
}

function imageOptions(options: BuildOptions): GuestImageOptions {
  const board = boardNamed(options.board);
  return {
    kernel: options.kernel,
    board,
    ...(options.example !== undefined && { example: options.example }),
    ...(options.dtb !== undefined && { dtb: options.dtb }),
    ...(options.append !== undefined && { bootargs: options.append }),
    ...(options.nic && { virtio: [boardNic(board)] }),
    onProgress: streamProgress(process.stderr),
  };
}

function formatSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** Runs an action, turning its error into one message on stderr and exit code 1. */
async function reportErrors(setExitCode: (code: number) => void, action: () => Promise<void>): Promise<void> {
  try {
    await action();
    setExitCode(0);
  } catch (err) {
    process.stderr.write(`virtkit images: ${(err as Error).message}\n`);
    setExitCode(1);
  }
}

export const registerImages: RegisterCommand = (program, setExitCode) => {
  const images = program
    .command("images")
    .description(`Build and locate guest images (kernel, initramfs, device tree), cached in ${cacheRoot()}`);

  withImageOptions(
    images.command("build").description("Build whatever guest images are missing from the cache"),
  ).action((options: BuildOptions) =>
    reportErrors(setExitCode, async () => {
      const built = await ensureGuestImages(imageOptions(options));
      for (const artifact of built.artifacts) {
        const state = artifact.built ? "built " : "cached";
        process.stdout.write(`${state} ${artifact.manifest.kind.padEnd(6)} ${artifact.path}\n`);
      }
    }),
  );

  images
    .command("list")
    .description("List the cached guest images with their sizes, hashes and sources")
    .action(() =>
      reportErrors(setExitCode, async () => {
        const root = cacheRoot();
        const artifacts = listArtifacts(root);
        if (artifacts.length === 0) {
          process.stdout.write(`no guest images in ${root}; run: virtkit images build\n`);
          return;
        }
        for (const { dir, manifest } of artifacts) {
          process.stdout.write(
            `${manifest.kind.padEnd(6)} ${manifest.name.padEnd(22)} ${formatSize(manifest.size).padStart(10)}  ` +
              `sha256:${manifest.sha256.slice(0, 16)}  ${dir}/${manifest.file}\n` +
              `${" ".repeat(7)}from ${manifest.source}\n`,
          );
        }
      }),
    );

  withImageOptions(
    images
      .command("path")
      .description("Print the paths of the kernel, initrd and DTB, building what is missing")
      .option("--json", 'print {"kernel": …, "initrd": …, "dtb": …}'),
  ).action((options: BuildOptions & { json?: boolean }) =>
    reportErrors(setExitCode, async () => {
      const built = await ensureGuestImages(imageOptions(options));
      const paths = { kernel: built.kernel, initrd: built.initrd, dtb: built.dtb };
      process.stdout.write(
        options.json
          ? `${JSON.stringify(paths)}\n`
          : `kernel ${paths.kernel}\ninitrd ${paths.initrd}\ndtb    ${paths.dtb}\n`,
      );
    }),
  );
};
