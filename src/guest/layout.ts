// Where guest images go in guest-physical memory and the device tree that describes them, from the
// chosen board's guest facts (src/machine/boards); and the device tree for QEMU's own virt board,
// which the end-to-end tests and the boot benchmark boot under QEMU.
import type { BoardDescription } from "../machine/boards/index.ts";
import type { AddressRange } from "../machine/boards/board.ts";
import type { GuestDeviceTreeDescription } from "./dtb/guest-dtb.ts";

export interface GuestLayout {
  /** Short name, used in artifact names: `simple`. */
  name: string;
  ram: AddressRange;
  dtbAddress: number;
  initrdAddress: number;
  /**
   * The device tree for this layout: /chosen covers an initrd of `initrdSize` bytes (none when
   * undefined), and `bootargs` replaces the board's default command line; `uart: false` leaves the
   * board's UART out (a guest whose console is a virtio console).
   */
  deviceTree(
    initrdSize: number | undefined,
    bootargs?: string,
    options?: { uart?: boolean },
  ): GuestDeviceTreeDescription;
}

/** The device-tree description field for each kind of UART a board passes through. */
const UART_FIELDS = { pl011: "pl011", imx: "imxUart", meson: "mesonUart" } as const;

/** libvmm's example layout on `board` (the `simple` example on QEMU virt). */
export function guestLayout(board: BoardDescription): GuestLayout {
  const guest = board.guest;
  return {
    name: guest.name,
    ram: guest.ram,
    dtbAddress: guest.dtbAddress,
    initrdAddress: guest.initrdAddress,
    deviceTree: (initrdSize, bootargs, options) => ({
      model: guest.machine?.model,
      compatible: guest.machine ? [...guest.machine.compatible] : undefined,
      memory: [guest.ram],
      cpus: 1,
      cpuCompatible: guest.cpuCompatible,
      psciMethod: guest.psciMethod,
      gic: guest.gic,
      ...(options?.uart === false
        ? {}
        : { [UART_FIELDS[guest.uart.kind]]: { base: guest.uart.base, irq: guest.uart.irq } }),
      imxOcotp: guest.ocotp,
      chosen: {
        bootargs: bootargs ?? guest.bootargs,
        initrd: initrdSize === undefined ? undefined : { base: guest.initrdAddress, size: initrdSize },
      },
    }),
  };
}

/**
 * The device tree for QEMU's `-M virt,gic-version=2 -m 256M` running the guest at EL1: the board's
 * guest devices plus its virtio-mmio transports, and PSCI over HVC. QEMU loads the initrd itself
 * (at RAM base + 128 MiB) and rewrites /chosen's initrd properties, so none are given here.
 */
export function qemuVirtDeviceTree(board: BoardDescription): GuestDeviceTreeDescription {
  const transports = board.virtioMmio;
  if (!transports) throw new Error(`board ${board.name} has no virtio-mmio transports`);
  const guest = guestLayout(board).deviceTree(undefined);
  return {
    ...guest,
    psciMethod: "hvc",
    virtio: Array.from({ length: transports.slots }, (_, i) => ({
      base: transports.base + i * transports.stride,
      irq: transports.firstIrq + i,
    })),
  };
}
