// A guest's device tree, generated from what the VM really has: its RAM, its vCPUs and PSCI, the GIC
// and timer as the architecture presents them, the devices passed through or emulated, and /chosen
// pointing at the initrd actually loaded.
import { EMPTY, node, str, u32, u64, writeFdt, type FdtNode } from "../../libvmm/fdt.ts";

export interface AddressRange {
  base: number;
  size: number;
}

export type GicDescription =
  | { version: 2; distributor: AddressRange; cpuInterface: AddressRange }
  | { version: 3; distributor: AddressRange; redistributor: AddressRange };

export interface TimerPpis {
  secure: number;
  nonSecure: number;
  virtual: number;
  hypervisor: number;
}

/** The architected timer's PPIs (as PPI numbers, INTID − 16) on QEMU's virt board and most SoCs. */
export const DEFAULT_TIMER_PPIS: TimerPpis = { secure: 13, nonSecure: 14, virtual: 11, hypervisor: 10 };

export interface GuestDeviceTreeDescription {
  model?: string;
  compatible?: string[];
  /** The VM's RAM maps, one memory node each. */
  memory: AddressRange[];
  cpus: number;
  cpuCompatible?: string;
  /** How the guest calls PSCI: `smc` under libvmm (seL4 traps it), `hvc` under QEMU at EL1. */
  psciMethod?: "smc" | "hvc";
  gic: GicDescription;
  timerPpis?: TimerPpis;
  /** A PL011 passed through to the guest; `irq` is the GIC INTID (33 for QEMU's UART). */
  pl011?: { base: number; irq: number };
  /** An i.MX UART (the MaaXBoard's UART1): ttymxc0, level-sensitive. */
  imxUart?: { base: number; irq: number };
  /** A Meson UART (the ODROID-C4's UART_AO): ttyAML0, edge-triggered. */
  mesonUart?: { base: number; irq: number };
  /** The i.MX8MQ's OCOTP fuses, which Linux's i.MX8M SoC driver reads (with root compatible fsl,imx8mq). */
  imxOcotp?: AddressRange;
  /**
   * virtio-mmio transports; `irq` is the GIC INTID. Edge-triggered as QEMU's virt board describes its
   * slots, unless `level` (libvmm's emulated devices hold their SPI as a level).
   */
  virtio?: { base: number; size?: number; irq: number; level?: boolean }[];
  /** Further nodes under the root, before /chosen: devices a VMM provides (cross-VM connectors). */
  extraNodes?: FdtNode[];
  chosen: {
    bootargs: string;
    /** Defaults to the PL011 when there is one. */
    stdoutPath?: string;
    /** The initrd as loaded: `linux,initrd-start/end` cover exactly these bytes. */
    initrd?: AddressRange;
  };
}

const GIC_PHANDLE = 1;
const APB_CLOCK_PHANDLE = 2;
const UART_CLOCK_PHANDLE = 3;
const OCOTP_CLOCK_PHANDLE = 4;
const GIC_SPI = 0;
const GIC_PPI = 1;
const IRQ_EDGE_RISING = 1;
const IRQ_LEVEL_HIGH = 4;
const VIRTIO_MMIO_SIZE = 0x200;
const PL011_SIZE = 0x1000;
/** QEMU's PL011 clock, which Linux needs to compute baud rates. */
const PL011_CLOCK_HZ = 24_000_000;
/** The i.MX8MQ's UART root clock (from the 25 MHz oscillator). */
const IMX_UART_CLOCK_HZ = 25_000_000;
/** The S905X3's crystal, which clocks UART_AO (Linux then takes the divide-by-3 baud path). */
const MESON_XTAL_HZ = 24_000_000;
const IMX_UART_SIZE = 0x1_0000;
const MESON_UART_SIZE = 0x18;

/** A node's unit address: the first `reg` address in hex, without a prefix. */
const unitAddress = (n: number): string => n.toString(16);

/** An SPI's three-cell interrupt specifier from its INTID. */
function spi(intid: number, flags: number, device: string): Uint8Array {
  if (intid < 32 || intid > 1019)
    throw new Error(`${device}: interrupt ${intid} is not an SPI (INTIDs 32-1019)`);
  return u32(GIC_SPI, intid - 32, flags);
}

function gicNode(gic: GicDescription): FdtNode {
  const common: [string, Uint8Array][] = [
    ["#interrupt-cells", u32(3)],
    ["#address-cells", u32(2)],
    ["#size-cells", u32(2)],
    ["interrupt-controller", EMPTY],
    ["phandle", u32(GIC_PHANDLE)],
  ];
  const { distributor } = gic;
  if (gic.version === 2) {
    return node(`intc@${unitAddress(distributor.base)}`, [
      ["compatible", str("arm,cortex-a15-gic")],
      ["reg", u64(distributor.base, distributor.size, gic.cpuInterface.base, gic.cpuInterface.size)],
      ...common,
    ]);
  }
  return node(`intc@${unitAddress(distributor.base)}`, [
    ["compatible", str("arm,gic-v3")],
    ["reg", u64(distributor.base, distributor.size, gic.redistributor.base, gic.redistributor.size)],
    ["#redistributor-regions", u32(1)],
    ...common,
  ]);
}

function timerNode(gic: GicDescription, cpus: number, ppis: TimerPpis): FdtNode {
  // GICv2 bindings carry a mask of the CPUs each PPI is wired to in bits 8-15; GICv3 has none.
  const flags = gic.version === 2 ? IRQ_LEVEL_HIGH | (((1 << Math.min(cpus, 8)) - 1) << 8) : IRQ_LEVEL_HIGH;
  return node("timer", [
    ["compatible", str("arm,armv8-timer")],
    [
      "interrupts",
      u32(
        GIC_PPI,
        ppis.secure,
        flags,
        GIC_PPI,
        ppis.nonSecure,
        flags,
        GIC_PPI,
        ppis.virtual,
        flags,
        GIC_PPI,
        ppis.hypervisor,
        flags,
      ),
    ],
    ["always-on", EMPTY],
  ]);
}

function cpusNode(count: number, compatible: string): FdtNode {
  if (!Number.isInteger(count) || count < 1 || count > 8)
    throw new Error(`a guest has 1 to 8 vCPUs, not ${count}`);
  const cpus = Array.from({ length: count }, (_, i) =>
    node(`cpu@${unitAddress(i)}`, [
      ["device_type", str("cpu")],
      ["compatible", str(compatible)],
      ["reg", u32(i)],
      ["enable-method", str("psci")],
    ]),
  );
  return node(
    "cpus",
    [
      ["#address-cells", u32(1)],
      ["#size-cells", u32(0)],
    ],
    cpus,
  );
}

export function guestDeviceTree(d: GuestDeviceTreeDescription): FdtNode {
  if (d.memory.length === 0) throw new Error("a guest device tree needs at least one RAM region");
  const children: FdtNode[] = [];
  children.push(
    node("psci", [
      ["compatible", str("arm,psci-1.0", "arm,psci-0.2")],
      ["method", str(d.psciMethod ?? "smc")],
    ]),
  );
  children.push(cpusNode(d.cpus, d.cpuCompatible ?? "arm,cortex-a53"));
  for (const ram of d.memory) {
    children.push(
      node(`memory@${unitAddress(ram.base)}`, [
        ["device_type", str("memory")],
        ["reg", u64(ram.base, ram.size)],
      ]),
    );
  }
  children.push(gicNode(d.gic));
  children.push(timerNode(d.gic, d.cpus, d.timerPpis ?? DEFAULT_TIMER_PPIS));
  let uartPath: string | undefined;
  if (d.pl011) {
    children.push(
      node("apb-pclk", [
        ["compatible", str("fixed-clock")],
        ["#clock-cells", u32(0)],
        ["clock-frequency", u32(PL011_CLOCK_HZ)],
        ["clock-output-names", str("clk24mhz")],
        ["phandle", u32(APB_CLOCK_PHANDLE)],
      ]),
    );
    const name = `pl011@${unitAddress(d.pl011.base)}`;
    uartPath = `/${name}`;
    children.push(
      node(name, [
        ["compatible", str("arm,pl011", "arm,primecell")],
        ["reg", u64(d.pl011.base, PL011_SIZE)],
        ["interrupts", spi(d.pl011.irq, IRQ_LEVEL_HIGH, "pl011")],
        ["clocks", u32(APB_CLOCK_PHANDLE, APB_CLOCK_PHANDLE)],
        ["clock-names", str("uartclk", "apb_pclk")],
      ]),
    );
  }
  const socUart = socUartNodes(d);
  if (socUart) {
    children.push(...socUart.nodes);
    uartPath = socUart.path ?? uartPath;
  }
  for (const device of d.virtio ?? []) {
    children.push(
      node(`virtio_mmio@${unitAddress(device.base)}`, [
        ["compatible", str("virtio,mmio")],
        ["reg", u64(device.base, device.size ?? VIRTIO_MMIO_SIZE)],
        [
          "interrupts",
          spi(
            device.irq,
            device.level ? IRQ_LEVEL_HIGH : IRQ_EDGE_RISING,
            `virtio_mmio@${unitAddress(device.base)}`,
          ),
        ],
        ["dma-coherent", EMPTY],
      ]),
    );
  }
  children.push(...(d.extraNodes ?? []));
  const chosen: [string, Uint8Array][] = [["bootargs", str(d.chosen.bootargs)]];
  const stdoutPath = d.chosen.stdoutPath ?? uartPath;
  if (stdoutPath) chosen.push(["stdout-path", str(stdoutPath)]);
  if (d.chosen.initrd) {
    const { base, size } = d.chosen.initrd;
    chosen.push(["linux,initrd-start", u64(base)], ["linux,initrd-end", u64(base + size)]);
  }
  children.push(node("chosen", chosen));
  return node(
    "",
    [
      ["compatible", str(...(d.compatible ?? ["linux,dummy-virt"]))],
      ["model", str(d.model ?? "virtkit guest")],
      ["#address-cells", u32(2)],
      ["#size-cells", u32(2)],
      ["interrupt-parent", u32(GIC_PHANDLE)],
    ],
    children,
  );
}

/** A fixed-rate clock node that devices name by phandle. */
function fixedClock(name: string, hz: number, phandle: number): FdtNode {
  return node(name, [
    ["compatible", str("fixed-clock")],
    ["#clock-cells", u32(0)],
    ["clock-frequency", u32(hz)],
    ["clock-output-names", str(name)],
    ["phandle", u32(phandle)],
  ]);
}

/**
 * The i.MX8MQ's OCOTP, and the i.MX or Meson UART with its clock and the `serial0` alias both drivers
 * need (i.MX's refuses to probe without one; Meson's numbers the port from it, giving ttyAML0).
 * Neither UART gets pinctrl properties: no pin controller is modelled, and with them the driver core
 * would wait for one.
 */
function socUartNodes(
  d: GuestDeviceTreeDescription,
): { nodes: FdtNode[]; path: string | undefined } | undefined {
  const nodes: FdtNode[] = [];
  if (d.imxOcotp) {
    // Linux's SoC driver enables the node's first clock before it asks the firmware for the revision.
    nodes.push(
      fixedClock("ocotp-clock", IMX_UART_CLOCK_HZ, OCOTP_CLOCK_PHANDLE),
      node(`efuse@${unitAddress(d.imxOcotp.base)}`, [
        ["compatible", str("fsl,imx8mq-ocotp", "syscon")],
        ["reg", u64(d.imxOcotp.base, d.imxOcotp.size)],
        ["clocks", u32(OCOTP_CLOCK_PHANDLE)],
      ]),
    );
  }
  if (d.imxUart && d.mesonUart) throw new Error("a guest device tree has one console UART: i.MX or Meson");
  let uart: FdtNode;
  if (d.imxUart) {
    nodes.push(fixedClock("uart-clock", IMX_UART_CLOCK_HZ, UART_CLOCK_PHANDLE));
    uart = node(`serial@${unitAddress(d.imxUart.base)}`, [
      ["compatible", str("fsl,imx8mq-uart", "fsl,imx6q-uart")],
      ["reg", u64(d.imxUart.base, IMX_UART_SIZE)],
      ["interrupts", spi(d.imxUart.irq, IRQ_LEVEL_HIGH, "i.MX UART")],
      ["clocks", u32(UART_CLOCK_PHANDLE, UART_CLOCK_PHANDLE)],
      ["clock-names", str("ipg", "per")],
    ]);
  } else if (d.mesonUart) {
    nodes.push(fixedClock("xtal", MESON_XTAL_HZ, UART_CLOCK_PHANDLE));
    uart = node(`serial@${unitAddress(d.mesonUart.base)}`, [
      ["compatible", str("amlogic,meson-gx-uart", "amlogic,meson-ao-uart")],
      ["reg", u64(d.mesonUart.base, MESON_UART_SIZE)],
      ["interrupts", spi(d.mesonUart.irq, IRQ_EDGE_RISING, "Meson UART")],
      ["clocks", u32(UART_CLOCK_PHANDLE, UART_CLOCK_PHANDLE, UART_CLOCK_PHANDLE)],
      ["clock-names", str("xtal", "pclk", "baud")],
    ]);
  } else {
    return nodes.length > 0 ? { nodes, path: undefined } : undefined;
  }
  const path = `/${uart.name}`;
  nodes.push(uart, node("aliases", [["serial0", str(path)]]));
  return { nodes, path };
}

export function guestDtb(d: GuestDeviceTreeDescription): Uint8Array {
  return writeFdt({ root: guestDeviceTree(d), reservations: [], bootCpuId: 0 });
}
