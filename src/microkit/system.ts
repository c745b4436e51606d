// Builds a running system from a checked system description, as the Microkit tool and
// monitor do: memory regions placed and prefilled, PDs and vCPUs created with their
// scheduling parameters, maps, channels, IRQs and variables wired, then every PD started.

import { readFileSync } from "node:fs";
import {
  HostEvents,
  Kernel,
  VcpuObject,
  runEventLoop,
  type MachineVcpu,
  NS_PER_COUNTER_TICK,
  type ClockMode,
  type CounterSync,
  type PassthroughLookup,
  type Thread,
} from "../kernel/index.ts";
import type { Vcpu as CoreVcpu, CpuTier } from "../machine/cpu.ts";
import { boardNamed, type Board, type BoardDescription } from "../machine/boards/index.ts";
import type { VirtioBlkDiskOptions, VirtioNetNicOptions } from "../machine/boards/board.ts";
import type { BlockBackend } from "../machine/devices/virtio/blk.ts";
import type { EthernetWire } from "../machine/devices/ethernet.ts";
import type { MachineClock } from "../machine/clock.ts";
import type { HostEventSink } from "../machine/backends/serial-connection.ts";
import type { Console } from "../machine/devices/console.ts";
import { parseSystemFile } from "../sdf/index.ts";
import type {
  MemoryRegion,
  ProtectionDomain,
  SystemDescription,
  VirtualMachine,
  Vcpu,
} from "../sdf/model.ts";
import { PdAddressSpace } from "./address-space.ts";
import { Monitor } from "./monitor.ts";
import { Pd, type ChannelWiring, type DeferredSlot, type VcpuWiring } from "./pd.ts";
import { PdRuntime } from "./pd-runtime.ts";
import { PhysicalTimer } from "./generic-timer.ts";
import {
  importProgram,
  instantiate,
  resolveProgramModule,
  ProgramError,
  type PdProgram,
  type PdProgramDefinition,
  type GuestBootOptions,
  type HostOutputOptions,
} from "./program.ts";
import { pdSetvars } from "./setvars.ts";
import { NativeMachine, resolveElfImage } from "./elf-loader.ts";
import { microkitPlatform } from "./platform.ts";

/** A machine vCPU with the stage-2 controls a VM's setup needs. */
export type VmMachineVcpu = MachineVcpu & Pick<CoreVcpu, "mapStage2" | "gicvBase">;

/** The network the board's NIC is plugged into (virtkit run's user-mode network, a test's wire). */
export interface SystemNetwork {
  /** Makes the wire once the system's clock and host event loop exist. */
  connect(env: { clock: MachineClock; host: HostEventSink }): EthernetWire & { close?(): void };
  /** The NIC's MAC address (default 52:55:00:d1:55:01, the tutorial's). */
  mac?: string;
  /** The legacy virtio-mmio transport (version 1), as QEMU gives by default. */
  legacy?: boolean;
  /** The virtio-mmio slot (default: the board's NIC slot). */
  slot?: number;
}

const DEFAULT_MAC = "52:55:00:d1:55:01";

/** A disk plugged into one of the board's virtio-mmio slots (virtkit run --disk). */
export interface SystemDisk {
  /** The medium: a disk image (src/machine/backends/disk-image.ts), memory, … */
  backend: BlockBackend;
  /** The virtio-mmio slot (default: the board's disk slot). */
  slot?: number;
}

export interface BootOptions {
  console: Console;
  /** A NIC in the board's virtio-mmio slot for it, on this network (none by default). */
  network?: SystemNetwork;
  /** A virtio-blk disk in the board's virtio-mmio slot for it (none by default). */
  disk?: SystemDisk;
  /** The board to run on (default: qemu_virt_aarch64); the description must have been checked for it. */
  board?: BoardDescription;
  /** Folders searched for PD modules after the folder of the .system file. */
  searchPaths?: string[];
  /** Guest boot choices handed to every program factory (VMMs use them). */
  guestBoot?: GuestBootOptions;
  /** Where host back-end PDs put their files, handed to every program factory. */
  hostOutput?: HostOutputOptions;
  /**
   * "virtual" (default): deterministic time; "realtime": virtual time paced by the wall clock
   * (see src/kernel/event-loop.ts). The CPU core's counter follows kernel time either way.
   */
  clock?: ClockMode;
  /** Board RAM in bytes (default: the board's). */
  ramSize?: number;
  /** The CPU core's execution tier for VMs' vCPUs: "jit" or "interp" (docs/cpu.md); default defaultCpuTier(). */
  cpu?: CpuTier;
  /**
   * Programs given directly, by PD name, instead of the modules program_image names (for
   * tests and embedders). PDs not listed still load their modules.
   */
  programs?: Readonly<Record<string, PdProgramDefinition>>;
  /**
   * Creates the machine vCPU behind each VM vCPU. By default systems with VMs get the wasm
   * CPU core (src/machine/cpu.ts) on the board's memory, one VMID per VM.
   */
  createMachineVcpu?: (vm: VirtualMachine, vcpu: Vcpu, vmIndex: number) => VmMachineVcpu;
  /** Moves the machine's counter to the kernel's virtual time (with createMachineVcpu). */
  syncCounter?: CounterSync;
}

export interface RunningPd {
  description: ProtectionDomain;
  pd: Pd;
  thread: Thread;
  runtime: PdRuntime;
  /** What runs the PD's entry points: its TypeScript program, or an ElfProgram. */
  program: PdProgram;
}

export interface RunningSystem {
  readonly description: SystemDescription;
  readonly kernel: Kernel;
  readonly board: Board;
  readonly host: HostEvents;
  readonly pds: ReadonlyMap<string, RunningPd>;
  /** Runs until nothing can happen any more (or stop()); releases the console at the end. */
  run(): Promise<void>;
  stop(): void;
}

export async function bootSystemFile(path: string, options: BootOptions): Promise<RunningSystem> {
  const searchPaths = options.searchPaths ?? [];
  const platform = microkitPlatform(options.board ?? boardNamed());
  return bootSystem(parseSystemFile(path, { platform, searchPaths }), options);
}

export async function bootSystem(
  description: SystemDescription,
  options: BootOptions,
): Promise<RunningSystem> {
  const boardDescription = options.board ?? boardNamed();
  if (description.platform.name !== boardDescription.name) {
    throw new ProgramError(
      `Error: the system was checked for board ${description.platform.name} but is booting on ${boardDescription.name}`,
    );
  }
  const searchPaths = options.searchPaths ?? [];
  const programs = await loadPrograms(description, searchPaths, options.programs ?? {});

  const host = new HostEvents();
  const pds = new Map<string, RunningPd>();
  // The kernel exists before the board: the board's network runs on the kernel's clock.
  const kernel = new Kernel({
    onMonitorFault: (thread, fault) => {
      const running = [...pds.values()].find((p) => p.thread === thread)!;
      const badge = description.allProtectionDomains.indexOf(running.description) + 1;
      const { faultLocation: location, faultDetails: details } = running.runtime;
      monitor.fault({ name: running.pd.name, badge, location, details }, fault);
    },
  });
  const wire = options.network?.connect({ clock: kernel.clock, host });
  const board = boardDescription.create({
    console: options.console,
    host,
    clock: kernel.clock,
    ramSize: options.ramSize,
    onPowerOff: () => host.stop(),
    nic: wire && nicOptions(boardDescription, options.network!, wire),
    disk: options.disk && diskOptions(boardDescription, options.disk),
  });
  const machine = options.createMachineVcpu
    ? { createVcpu: options.createMachineVcpu, syncCounter: options.syncCounter ?? (() => {}) }
    : await cpuCoreVcpus(
        description,
        board,
        [...programs.values()].some((p) => p.elf),
        options.cpu,
      );
  const monitor = new Monitor((text) => {
    for (const byte of Buffer.from(text, "latin1")) board.debugPutc(byte);
  });
  board.connectInterrupts((irq, high) => kernel.setIrqLine(irq, high));
  prefillMemoryRegions(description.memoryRegions, board);

  // Threads first: channels, children and fault handlers refer to each other's threads.
  const runtimes = new Map<string, PdRuntime>();
  const threads = createPdThreads(kernel, description, runtimes);
  const physicalTimer = new PhysicalTimer(kernel);
  const context: WiringContext = { kernel, board, monitor, description, threads, machine, physicalTimer };
  for (const pdd of description.allProtectionDomains) {
    const loaded = programs.get(pdd.name)!;
    const program = loaded.elf
      ? nativeMachine(machine, pdd).load(kernel, pdd, loaded.path, pdSetvars(pdd), vmCount(description))
      : await instantiate(
          {
            pdName: pdd.name,
            board: boardDescription,
            guestBoot: options.guestBoot ?? {},
            hostOutput: options.hostOutput ?? {},
          },
          loaded.path,
          loaded.definition,
        );
    const path = loaded.path;
    const running = wireProtectionDomain(context, pdd, program, path);
    runtimes.set(pdd.name, running.runtime);
    pds.set(pdd.name, running);
  }

  monitor.started();
  for (const running of pds.values()) kernel.resume(running.thread);

  return {
    description,
    kernel,
    board,
    host,
    pds,
    async run() {
      board.start();
      try {
        await runEventLoop(kernel, host, { clock: options.clock });
      } finally {
        wire?.close?.();
        board.close();
      }
    },
    stop: () => host.stop(),
  };
}

interface WiringContext {
  kernel: Kernel;
  board: Board;
  monitor: Monitor;
  description: SystemDescription;
  threads: ReadonlyMap<string, Thread>;
  machine: VcpuMachine;
  physicalTimer: PhysicalTimer;
}

/** How VM vCPUs get their machine vCPUs, and how the machine's counter follows virtual time. */
interface VcpuMachine {
  createVcpu: NonNullable<BootOptions["createMachineVcpu"]>;
  syncCounter: CounterSync;
  /** The core ELF PDs run on, when the system has any. */
  native?: NativeMachine;
}

function nativeMachine(machine: VcpuMachine, pdd: ProtectionDomain): NativeMachine {
  if (!machine.native) {
    throw new ProgramError(
      `Error: protection domain '${pdd.name}' is an ELF file, which needs virtkit's CPU core (not a test's createMachineVcpu)`,
    );
  }
  return machine.native;
}

function vmCount(description: SystemDescription): number {
  return description.allProtectionDomains.filter((pd) => pd.virtualMachine).length;
}

/** One thread per PD, each with its notification, at the PD's priority and budget. */
function createPdThreads(
  kernel: Kernel,
  description: SystemDescription,
  runtimes: ReadonlyMap<string, PdRuntime>,
): Map<string, Thread> {
  const threads = new Map<string, Thread>();
  for (const pdd of description.allProtectionDomains) {
    const thread = kernel.createThread({
      name: pdd.name,
      priority: pdd.priority,
      budgetUs: pdd.budget,
      periodUs: pdd.period,
      body: { kind: "event", handle: (event) => runtimes.get(pdd.name)!.handle(event) },
    });
    kernel.bindNotification(thread);
    threads.set(pdd.name, thread);
  }
  return threads;
}

/** Gives a PD what its description grants: fault handler, channels, IRQs, children, vCPUs and maps. */
function wireProtectionDomain(
  context: WiringContext,
  pdd: ProtectionDomain,
  program: PdProgram,
  programPath: string,
): RunningPd {
  const { kernel, board, monitor, threads } = context;
  const thread = threads.get(pdd.name)!;
  if (pdd.parent !== undefined) thread.faultHandler = { thread: threads.get(pdd.parent)!, badge: pdd.id! };
  const channels = new Map<number, ChannelWiring>();
  for (const end of pdd.channels) {
    const peerThread = threads.get(end.peer)!;
    channels.set(end.id, {
      peer: peerThread.notification!,
      peerBadge: 1n << BigInt(end.peerId),
      peerThread,
      peerId: end.peerId,
    });
  }
  const deferred: DeferredSlot = { action: undefined };
  const irqs = new Map(
    pdd.irqs.map((irq) => [
      irq.id,
      kernel.createIrqHandler(irq.irq, irq.trigger, thread.notification!, irq.id),
    ]),
  );
  const pd = new Pd(
    {
      name: pdd.name,
      passive: pdd.passive,
      irqs: pdd.irqMask,
      notifications: pdd.notifyMask,
      pps: pdd.ppMask,
      setvars: pdSetvars(pdd),
    },
    {
      kernel,
      thread,
      memory: new PdAddressSpace(pdd.name, pdd.maps, board),
      channels,
      irqs,
      children: new Map(pdd.children.map((child) => [child.id!, threads.get(child.name)!])),
      vcpus: createVcpus(kernel, pdd, thread, board, context.description, context.machine),
      debugPutc: (byte) => board.debugPutc(byte),
      deferred,
      secureMonitorCall: pdd.smc ? (args) => board.secureMonitorCall(args) : undefined,
      physicalTimer: context.physicalTimer,
    },
  );
  const runtime = new PdRuntime(pd, program, programPath, deferred, {
    becomePassive: () => {
      kernel.makePassive(thread);
      monitor.passive(pdd.name);
    },
    notify: (channel) => kernel.signal(channels.get(channel)!.peer, channels.get(channel)!.peerBadge),
    irqAck: (channel) => kernel.irqAck(irqs.get(channel)!),
  });
  return { description: pdd, pd, thread, runtime, program };
}

/** A PD's program: a TypeScript module's definition, or an ELF file (`elf` set) run on the core. */
type LoadedProgram =
  { path: string; elf: true } | { path: string; elf?: false; definition: PdProgramDefinition };

async function loadPrograms(
  description: SystemDescription,
  searchPaths: readonly string[],
  given: Readonly<Record<string, PdProgramDefinition>>,
): Promise<Map<string, LoadedProgram>> {
  const programs = new Map<string, LoadedProgram>();
  const users = new Map<PdProgramDefinition, string>();
  for (const pdd of description.allProtectionDomains) {
    const direct = Object.hasOwn(given, pdd.name) ? given[pdd.name] : undefined;
    const elfPath = direct
      ? undefined
      : resolveElfImage(pdd.programImage.path, description.file, searchPaths);
    if (elfPath) {
      programs.set(pdd.name, { path: elfPath, elf: true });
      continue;
    }
    const path = direct
      ? `${pdd.name} (given program)`
      : resolveProgramModule(pdd.name, pdd.programImage.path, description.file, searchPaths);
    const definition = direct ?? (await importProgram(pdd.name, path));
    const other = users.get(definition);
    if (other !== undefined && typeof definition !== "function") {
      // One module instance would share its state between PDs; each PD needs its own, like its own ELF copy.
      throw new ProgramError(
        `Error: protection domains '${other}' and '${pdd.name}' both use ${path}: export a factory, ` +
          `definePd(() => ({ init, notified, ... })), so that each PD gets its own state`,
      );
    }
    users.set(definition, pdd.name);
    programs.set(pdd.name, { path, definition });
  }
  return programs;
}

/** The wasm CPU core, loaded only when the system has virtual machines or ELF PDs. */
async function cpuCoreVcpus(
  description: SystemDescription,
  board: Board,
  elfPds: boolean,
  cpu: CpuTier | undefined,
): Promise<VcpuMachine> {
  if (!elfPds && !description.allProtectionDomains.some((pd) => pd.virtualMachine)) {
    return {
      createVcpu: () => {
        throw new Error("no virtual machines in this system");
      },
      syncCounter: () => {},
    };
  }
  const { createCpuCore } = await import("../machine/cpu.ts");
  // Never the core's own realtime counter, even with --clock realtime: kernel time is the one
  // timeline (slices are charged and vtimer wakeups scheduled on it), and the event loop
  // already paces it by the wall clock; a counter read from the host clock would disagree.
  const core = await createCpuCore(board.memory, { tier: cpu });
  const syncCounter = (nowNs: number): void => {
    const ticks = BigInt(Math.floor(nowNs / NS_PER_COUNTER_TICK));
    if (ticks > core.counter) core.counter = ticks;
  };
  const usedRam = description.memoryRegions.map((mr) => ({ paddr: mr.paddr, size: mr.size }));
  return {
    createVcpu: (_vm, vcpu, vmIndex) =>
      core.createVcpu({ vmid: vmIndex, mpidr: BigInt(vcpu.id), gicVersion: board.description.gic.version }),
    syncCounter,
    native: elfPds ? new NativeMachine(core, board, usedRam, syncCounter) : undefined,
  };
}

function createVcpus(
  kernel: Kernel,
  pdd: ProtectionDomain,
  vmm: Thread,
  board: Board,
  description: SystemDescription,
  machineOf: VcpuMachine,
): Map<number, VcpuWiring> {
  const vcpus = new Map<number, VcpuWiring>();
  const vm = pdd.virtualMachine;
  if (!vm) return vcpus;
  const vmIndex = description.allProtectionDomains.filter((pd) => pd.virtualMachine).indexOf(pdd);
  for (const decl of vm.vcpus) {
    const machine = machineOf.createVcpu(vm, decl, vmIndex);
    mapGuestPhysical(machine, vm, board);
    const object = new VcpuObject(decl.id, machine, passthroughOf(vm, board), machineOf.syncCounter);
    // VM threads start suspended until the VMM's vcpu_restart.
    const thread = kernel.createThread({
      name: `${vm.name}:vcpu${decl.id}`,
      priority: vm.priority,
      budgetUs: vm.budget,
      periodUs: vm.period,
      body: object,
      faultHandler: { thread: vmm, badge: decl.id },
    });
    vcpus.set(decl.id, { object, thread });
  }
  return vcpus;
}

/**
 * The VM's maps become stage-2 mappings, as the Microkit tool sets them up. The GIC
 * virtual CPU interface is not memory: the core emulates the GICV frame where it is mapped.
 */
function mapGuestPhysical(machine: VmMachineVcpu, vm: VirtualMachine, board: Board): void {
  for (const map of vm.maps) {
    const { paddr, size } = map.region;
    if (paddr === board.gicVcpuInterface) machine.gicvBase = map.vaddr;
    else machine.mapStage2(map.vaddr, paddr, size, map.perms, !board.memory.isRam(paddr, size));
  }
}

/** Device memory mapped into the VM: the board's device behind a guest-physical address. */
function passthroughOf(vm: VirtualMachine, board: Board): PassthroughLookup {
  const devices = vm.maps.filter((m) => !board.memory.isRam(m.region.paddr, m.region.size));
  return (ipa) => {
    const map = devices.find((m) => ipa >= m.vaddr && ipa < m.vaddr + m.region.size);
    if (!map) return undefined;
    const paddr = map.region.paddr + (ipa - map.vaddr);
    const window = board.deviceAt(paddr);
    return window && { device: window.device, offset: paddr - window.base };
  };
}

function nicOptions(
  board: BoardDescription,
  network: SystemNetwork,
  wire: EthernetWire,
): VirtioNetNicOptions {
  const slot = network.slot ?? board.virtioMmio?.nicSlot;
  if (slot === undefined) {
    throw new ProgramError(`Error: board ${board.name} has no virtio-mmio slot for a NIC`);
  }
  return { slot, mac: network.mac ?? DEFAULT_MAC, wire, legacy: network.legacy };
}

function diskOptions(board: BoardDescription, disk: SystemDisk): VirtioBlkDiskOptions {
  const slot = disk.slot ?? board.virtioMmio?.diskSlot;
  if (slot === undefined) {
    throw new ProgramError(`Error: board ${board.name} has no virtio-mmio slot for a disk`);
  }
  return { slot, backend: disk.backend };
}

function prefillMemoryRegions(regions: readonly MemoryRegion[], board: Board): void {
  for (const mr of regions) {
    if (!mr.prefillResolved) continue;
    if (!board.memory.isRam(mr.paddr, mr.size)) {
      throw new Error(
        `Error: memory region '${mr.name}' has prefill_path but is not in RAM (paddr 0x${mr.paddr.toString(16)})`,
      );
    }
    const bytes = readFileSync(mr.prefillResolved);
    board.memory.view(mr.paddr, mr.size).set(bytes.subarray(0, mr.size));
  }
}
