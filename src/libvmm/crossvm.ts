// Cross-VM connectors, the VMM's side (CAmkES's cross_vm_dataports_init, cross_vm_emits_events_init and
// cross_vm_consumes_events_init in Microkit's static world). One description of the connections gives
// both the guest's device-tree nodes and the VMM's emulation, so the two cannot disagree:
//
// - a dataport is a memory region the system maps into the VM at `gpa` (and into the native PD); the
//   VMM only names it in the device tree, and explains a guest access that faults there (the region
//   is then not mapped);
// - an emitted event is a doorbell page the VM does not map: a store faults to the VMM, which notifies
//   the native PD on the event's channel and resumes the guest after the store;
// - a consumed event is a page of read-only registers (its id, and a count of deliveries) and an SPI:
//   a notification on the event's channel counts it and injects the SPI.
//
// Each connection uses virtkit's guest modules (`module`) or libvmm's UIO model (`uio`: a
// `generic-uio` node that uio_pdrv_genirq binds with `uio_pdrv_genirq.of_id=generic-uio`).
import { hex } from "../util/hex.ts";
import { node, str, u32, u64, type FdtNode } from "./fdt.ts";
import { GuestAccessError, describeRange } from "./fault/mmio.ts";
import type { VmmLog } from "./log.ts";
import type { Vmm } from "./vmm.ts";

export type CrossVmModel = "module" | "uio";

interface Connection {
  /** The connector's id among those of its kind: 1, 2, … (CAmkES's `<name>_id`; the node's minor). */
  id: number;
  /** The interface's name in CAmkES terms (`data`, `do_print`), for messages and the device tree. */
  name: string;
  /** virtkit's guest modules (default) or libvmm's UIO model. */
  model?: CrossVmModel;
}

export interface CrossVmDataport extends Connection {
  /** The memory region the system maps into the VM (and into the native PD). */
  mr: string;
  /** Where the system maps it into the VM: the `vaddr` of its `<map>` in the `<virtual_machine>`. */
  gpa: number;
  /** Its size in bytes (CAmkES's `<name>_size`): a multiple of 4 KiB, the memory region's size. */
  size: number;
}

export interface CrossVmEmittedEvent extends Connection {
  /** The VMM's channel to the native PD that consumes the event. */
  channel: number;
}

export interface CrossVmConsumedEvent extends Connection {
  /** The VMM's channel on which the native PD emits the event. */
  channel: number;
  /** The interrupt the guest gets for it: an SPI's INTID (32–1019). */
  spi: number;
}

export interface CrossVmConnections {
  /**
   * Guest-physical base of the event pages, one 4 KiB page per event (emitted ones first, in id order,
   * then consumed ones); the VM must map nothing there, so that every access faults to the VMM.
   */
  eventWindow: number;
  dataports?: readonly CrossVmDataport[];
  emits?: readonly CrossVmEmittedEvent[];
  consumes?: readonly CrossVmConsumedEvent[];
}

/** What the VMM reaches of the native side: libmicrokit's notify, and the channels it may notify. */
export interface CrossVmNative {
  name: string;
  notify(channel: number): void;
  /** microkit_notifications: bit n set = the VMM may notify channel n. */
  notifications?: bigint;
}

export const CROSSVM_PAGE_SIZE = 0x1000;
/** The consumed-event page's registers (32 bits, read-only), as the guest's crossvm_abi.h has them. */
export const CONSUMES_EVENT_REG_ID = 0x0;
export const CONSUMES_EVENT_REG_COUNT = 0x4;
/** The kernel command-line argument that makes uio_pdrv_genirq bind `generic-uio` nodes. */
export const UIO_KERNEL_ARGUMENT = "uio_pdrv_genirq.of_id=generic-uio";

const COMPATIBLE = {
  dataport: "virtkit,crossvm-dataport",
  emits: "virtkit,crossvm-emits-event",
  consumes: "virtkit,crossvm-consumes-event",
} as const;
/** The node names, which are also the UIO devices' names in /sys/class/uio/uioN/name. */
const NODE_PREFIX = {
  dataport: "crossvm-dataport-",
  emits: "crossvm-emits-event-",
  consumes: "crossvm-consumes-event-",
} as const;
const GIC_SPI = 0;
const IRQ_EDGE_RISING = 1;
const MAX_CHANNEL = 61;
const MAX_ID = 255;

export class CrossVmConfigError extends Error {}

/** A string from a native PD's view of a dataport: up to the first NUL, never past the view. */
export function readDataportString(bytes: Uint8Array): { text: string; terminated: boolean } {
  const end = bytes.indexOf(0);
  const length = end < 0 ? bytes.length : end;
  return { text: new TextDecoder().decode(bytes.subarray(0, length)), terminated: end >= 0 };
}

interface EventPage {
  kind: "emits" | "consumes";
  event: CrossVmEmittedEvent | CrossVmConsumedEvent;
  base: number;
}

export class CrossVm {
  readonly dataports: readonly CrossVmDataport[];
  readonly emits: readonly CrossVmEmittedEvent[];
  readonly consumes: readonly CrossVmConsumedEvent[];
  readonly eventWindow: number;
  /** Events each way so far, by id: what the guest emitted, what the VMM delivered to it. */
  readonly emitted = new Map<number, number>();
  readonly delivered = new Map<number, number>();
  private vmm: Vmm | undefined;
  private readonly pages: readonly EventPage[];

  constructor(connections: CrossVmConnections) {
    this.dataports = [...(connections.dataports ?? [])].sort((a, b) => a.id - b.id);
    this.emits = [...(connections.emits ?? [])].sort((a, b) => a.id - b.id);
    this.consumes = [...(connections.consumes ?? [])].sort((a, b) => a.id - b.id);
    this.eventWindow = connections.eventWindow;
    this.pages = [
      ...this.emits.map((event) => ({ kind: "emits" as const, event })),
      ...this.consumes.map((event) => ({ kind: "consumes" as const, event })),
    ].map((page, i) => ({ ...page, base: this.eventWindow + i * CROSSVM_PAGE_SIZE }));
    const problems = this.check();
    if (problems.length > 0) {
      throw new CrossVmConfigError(
        `the cross-VM connections are not consistent:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      );
    }
  }

  /** The guest-physical page of an event's doorbell (emitted) or registers (consumed). */
  eventPage(kind: "emits" | "consumes", id: number): number {
    const page = this.pages.find((p) => p.kind === kind && p.event.id === id);
    if (!page)
      throw new Error(`there is no ${kind === "emits" ? "emitted" : "consumed"} event with id ${id}`);
    return page.base;
  }

  /** Kernel command-line arguments the guest needs: uio_pdrv_genirq's when a connection uses UIO. */
  kernelArguments(): string[] {
    const all = [...this.dataports, ...this.emits, ...this.consumes];
    return all.some((c) => c.model === "uio") ? [UIO_KERNEL_ARGUMENT] : [];
  }

  /** The guest's device-tree nodes for every connection, for the root of its tree. */
  deviceTreeNodes(): FdtNode[] {
    const described = (
      kind: keyof typeof COMPATIBLE,
      c: Connection,
      base: number,
      size: number,
      extra: [string, Uint8Array][] = [],
    ): FdtNode =>
      node(`${NODE_PREFIX[kind]}${c.id}@${base.toString(16)}`, [
        ["compatible", c.model === "uio" ? str("generic-uio", "virtkit,crossvm-uio") : str(COMPATIBLE[kind])],
        ["reg", u64(base, size)],
        ...extra,
        ["virtkit,id", u32(c.id)],
        ["virtkit,name", str(c.name)],
      ]);
    return [
      ...this.dataports.map((d) => described("dataport", d, d.gpa, d.size)),
      ...this.pages.map((p) =>
        p.kind === "emits"
          ? described("emits", p.event, p.base, CROSSVM_PAGE_SIZE)
          : described("consumes", p.event, p.base, CROSSVM_PAGE_SIZE, [
              ["interrupts", u32(GIC_SPI, (p.event as CrossVmConsumedEvent).spi - 32, IRQ_EDGE_RISING)],
            ]),
      ),
    ];
  }

  /**
   * Registers the doorbells, event pages and SPIs with `vmm`, and a handler over each dataport that
   * explains a fault there. Call once, in the VMM's init, before the guest runs.
   */
  attach(vmm: Vmm, native: CrossVmNative, log?: VmmLog): void {
    if (this.vmm) throw new Error("the cross-VM connections are already attached to a VMM");
    const missing = this.emits.filter(
      (e) => native.notifications !== undefined && ((native.notifications >> BigInt(e.channel)) & 1n) === 0n,
    );
    if (missing.length > 0) {
      throw new CrossVmConfigError(
        missing
          .map(
            (e) =>
              `emitted event ${e.id} ('${e.name}') notifies the native PD on channel ${e.channel}, which ` +
              `'${native.name}' does not have: add <channel><end pd="${native.name}" id="${e.channel}" /><end pd="…" id="…" /></channel> to the system`,
          )
          .join("\n"),
      );
    }
    this.vmm = vmm;
    for (const dataport of this.dataports) {
      const what = `dataport ${dataport.id} ('${dataport.name}', memory region '${dataport.mr}')`;
      const refuse = (): never => {
        throw new GuestAccessError(
          `${what} is not mapped into this VM at ${hex(dataport.gpa)}: add ` +
            `<map mr="${dataport.mr}" vaddr="${hex(dataport.gpa)}" perms="rw" /> to the <virtual_machine> ` +
            `(the VMM declares it there, ${dataport.size} bytes)`,
        );
      };
      vmm.mmio.register(`${what}, unmapped`, dataport.gpa, dataport.size, { read: refuse, write: refuse });
    }
    for (const page of this.pages) {
      const { event } = page;
      if (page.kind === "emits") {
        const { channel } = event;
        vmm.mmio.register(
          `emitted event ${event.id} ('${event.name}') doorbell`,
          page.base,
          CROSSVM_PAGE_SIZE,
          {
            read: () => 0n,
            // Any store, of any size, anywhere in the page rings the doorbell once.
            write: () => {
              this.emitted.set(event.id, (this.emitted.get(event.id) ?? 0) + 1);
              native.notify(channel);
            },
          },
        );
      } else {
        const consumed = event as CrossVmConsumedEvent;
        vmm.mmio.register(
          `consumed event ${event.id} ('${event.name}') registers`,
          page.base,
          CROSSVM_PAGE_SIZE,
          {
            read: (offset, size) => {
              if (offset % size !== 0)
                throw new GuestAccessError(
                  `consumed event ${event.id}'s registers take naturally aligned reads; this was ${size} bytes at offset ${hex(offset)}`,
                );
              const registers = BigInt(consumed.id) | (BigInt(this.delivered.get(consumed.id) ?? 0) << 32n);
              if (offset >= 8) return 0n;
              const value = registers >> BigInt(offset * 8);
              return size === 8 ? value : value & ((1n << BigInt(size * 8)) - 1n);
            },
            write: (offset) => {
              log?.error(
                `consumed event ${event.id} ('${event.name}'): the guest wrote read-only register ${hex(offset)}; ignored`,
              );
            },
          },
        );
        vmm.vgic.registerIrq(0, consumed.spi);
      }
    }
  }

  /**
   * For the VMM's `notified(ch)`: a consumed event's channel counts the event and injects its SPI.
   * False when the channel is not one.
   */
  handleNotification(channel: number): boolean {
    const event = this.consumes.find((e) => e.channel === channel);
    if (!event) return false;
    if (!this.vmm) throw new Error("attach the cross-VM connections to the VMM before notifications arrive");
    this.delivered.set(event.id, ((this.delivered.get(event.id) ?? 0) + 1) >>> 0);
    this.vmm.vgic.inject(0, event.spi);
    return true;
  }

  private check(): string[] {
    const problems: string[] = [];
    const integer = (value: number) => Number.isSafeInteger(value) && value >= 0;
    if (!integer(this.eventWindow) || this.eventWindow % CROSSVM_PAGE_SIZE !== 0)
      problems.push(
        `the event window ${hex(this.eventWindow)} must be a 4 KiB-aligned guest-physical address`,
      );
    const kinds: [string, readonly Connection[]][] = [
      ["dataport", this.dataports],
      ["emitted event", this.emits],
      ["consumed event", this.consumes],
    ];
    for (const [kind, list] of kinds) {
      list.forEach((c, i) => {
        if (!Number.isInteger(c.id) || c.id < 1 || c.id > MAX_ID)
          problems.push(`${kind} '${c.name}' has id ${c.id}; ids are 1 to ${MAX_ID}`);
        else if (c.id !== i + 1)
          problems.push(
            `${kind} ids must be contiguous from 1 (the nth argument of the guest's init tool is id n): ` +
              `found ${list.map((x) => x.id).join(", ")}`,
          );
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(c.name))
          problems.push(
            `${kind} ${c.id}'s name '${c.name}' must be a C identifier, as in a CAmkES interface`,
          );
        if (c.model !== undefined && c.model !== "module" && c.model !== "uio")
          problems.push(
            `${kind} ${c.id} ('${c.name}') has model '${String(c.model)}'; use "module" or "uio"`,
          );
      });
    }
    const names = [...this.dataports, ...this.emits, ...this.consumes].map((c) => c.name);
    for (const name of new Set(names.filter((n, i) => names.indexOf(n) !== i)))
      problems.push(`two connections are both named '${name}'`);
    const ranges: { what: string; base: number; size: number }[] = [];
    for (const d of this.dataports) {
      const what = `dataport ${d.id} ('${d.name}')`;
      if (!integer(d.gpa) || d.gpa % CROSSVM_PAGE_SIZE !== 0)
        problems.push(`${what}: its guest-physical address ${hex(d.gpa)} must be 4 KiB aligned`);
      if (!integer(d.size) || d.size === 0 || d.size % CROSSVM_PAGE_SIZE !== 0)
        problems.push(`${what}: its size ${d.size} must be a non-zero multiple of 4096 bytes`);
      else ranges.push({ what, base: d.gpa, size: d.size });
    }
    ranges.push(
      ...this.pages.map((p) => ({
        what: `${p.kind === "emits" ? "emitted" : "consumed"} event ${p.event.id} ('${p.event.name}')'s page`,
        base: p.base,
        size: CROSSVM_PAGE_SIZE,
      })),
    );
    for (let i = 0; i < ranges.length; i++) {
      for (let j = i + 1; j < ranges.length; j++) {
        const [a, b] = [ranges[i]!, ranges[j]!];
        if (a.base < b.base + b.size && b.base < a.base + a.size)
          problems.push(
            `${a.what} ${describeRange(a.base, a.size)} overlaps ${b.what} ${describeRange(b.base, b.size)}`,
          );
      }
    }
    const channels = (list: readonly (CrossVmEmittedEvent | CrossVmConsumedEvent)[], kind: string) => {
      for (const e of list) {
        if (!Number.isInteger(e.channel) || e.channel < 0 || e.channel > MAX_CHANNEL)
          problems.push(
            `${kind} ${e.id} ('${e.name}') uses channel ${e.channel}; channels are 0 to ${MAX_CHANNEL}`,
          );
      }
      const used = list.map((e) => e.channel);
      for (const channel of new Set(used.filter((c, i) => used.indexOf(c) !== i)))
        problems.push(
          `two ${kind}s use channel ${channel}, so one side could not tell them apart; give each its own channel`,
        );
    };
    channels(this.emits, "emitted event");
    channels(this.consumes, "consumed event");
    for (const e of this.consumes) {
      if (!Number.isInteger(e.spi) || e.spi < 32 || e.spi > 1019)
        problems.push(
          `consumed event ${e.id} ('${e.name}') has interrupt ${e.spi}; give it an SPI (INTID 32 to 1019)`,
        );
    }
    const spis = this.consumes.map((e) => e.spi);
    for (const spi of new Set(spis.filter((s, i) => spis.indexOf(s) !== i)))
      problems.push(`two consumed events use interrupt ${spi}; give each its own SPI`);
    return problems;
  }
}
