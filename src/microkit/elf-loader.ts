// Loads an ELF PD as the Microkit tool does: segments at their addresses, the stack below the top of
// the PD's address space, its <map>s, setvars and libmicrokit's variables patched, the IPC buffer at
// __sel4_ipc_buffer_obj; then a native thread on the core whose page tables are that address space.

import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { Kernel } from "../kernel/index.ts";
import { Stage1Attributes, disassemble } from "../machine/arch/index.ts";
import type { CpuCore } from "../machine/cpu.ts";
import type { Board } from "../machine/boards/board.ts";
import type { ProtectionDomain } from "../sdf/model.ts";
import { hex } from "../util/hex.ts";
import { PD_NAME_LENGTH } from "./cspace.ts";
import { ElfFile, isElf } from "./elf-file.ts";
import { LineTable } from "./dwarf-lines.ts";
import { ElfProgram } from "./elf-program.ts";
import { FramePool, NativeAddressSpace } from "./native-address-space.ts";
import { ProgramError } from "./program.ts";

const PAGE = 0x1000;
/** The top of a PD's stack: the end of the 40-bit address space seL4 gives user threads here. */
export const PD_STACK_TOP = 0x100_0000_0000;
/** The symbol whose page the tool makes the PD's IPC buffer. */
export const IPC_BUFFER_SYMBOL = "__sel4_ipc_buffer_obj";
/** The VMID whose identity stage 2 native threads run under (the hypervisor's own view of RAM). */
const NATIVE_VMID = 7;

// EL1 controls of a native thread: MMU and caches on, EL0 may read CTR_EL0, zero with DC ZVA, run
// WFI/WFE and cache maintenance; FP/SIMD enabled; 48-bit VAs, 4 KiB pages.
const SCTLR = 0x30d0_0800n | 1n | 4n | 0x1000n | 0x4000n | 0x8000n | 0x1_0000n | 0x4_0000n | 0x400_0000n;
const CPACR_FPEN = 3n << 20n;
/** EL0PCTEN, EL0VCTEN and EL0PTEN: the counters and the physical timer, as Microkit's seL4 exports them. */
const CNTKCTL_EL0_TIMER = 3n | (1n << 9n);
const TCR = 16n | (1n << 8n) | (1n << 10n) | (3n << 12n) | (1n << 23n) | (5n << 32n);

/** The ELF a program_image names, when it is one (beside the .system file or in a search path). */
export function resolveElfImage(
  imagePath: string,
  systemFile: string,
  searchPaths: readonly string[],
): string | undefined {
  const dirs = isAbsolute(imagePath)
    ? [""]
    : [dirname(resolve(systemFile)), ...searchPaths.map((d) => resolve(d))];
  for (const dir of dirs) {
    const path = dir ? join(dir, imagePath) : imagePath;
    if (isElfFile(path)) return path;
  }
  return undefined;
}

/** True for a readable regular file that starts as an ELF file does (only its first bytes are read). */
function isElfFile(path: string): boolean {
  if (!existsSync(path) || !statSync(path).isFile()) return false;
  const head = new Uint8Array(4);
  const fd = openSync(path, "r");
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  return isElf(head);
}

/** The core and the RAM that ELF PDs run on, shared by every ELF PD of a system. */
export class NativeMachine {
  private readonly pool: FramePool;
  private ramMapped = false;

  constructor(
    readonly core: CpuCore,
    private readonly board: Board,
    usedRam: readonly { paddr: number; size: number }[],
    readonly syncCounter: (nowNs: number) => void,
  ) {
    const memory = board.memory;
    this.pool = new FramePool([{ base: memory.ramBase, size: memory.ramSize }], usedRam);
  }

  /** Builds the PD's address space and thread; its program runs it. */
  load(
    kernel: Kernel,
    pd: ProtectionDomain,
    path: string,
    setvars: Readonly<Record<string, number>>,
    vmCount: number,
  ): ElfProgram {
    if (vmCount > NATIVE_VMID) {
      throw new ProgramError(
        `Error: protection domain '${pd.name}': a system with ELF PDs can have at most ${NATIVE_VMID} virtual machines`,
      );
    }
    try {
      return this.build(kernel, pd, path, setvars);
    } catch (error) {
      if (error instanceof ProgramError) throw error;
      // A malformed or oversized ELF is the user's file to fix, not a crash of virtkit.
      throw new ProgramError(
        `Error: protection domain '${pd.name}': cannot load ${path}: ${(error as Error).message}`,
      );
    }
  }

  private build(
    kernel: Kernel,
    pd: ProtectionDomain,
    path: string,
    setvars: Readonly<Record<string, number>>,
  ): ElfProgram {
    const elf = new ElfFile(new Uint8Array(readFileSync(path)), path);
    const problem = elfProblems(pd, elf, setvars)[0];
    if (problem) throw new ProgramError(problem);
    const memory = this.board.memory;
    const space = new NativeAddressSpace(memory, this.pool, pd.name);
    for (const segment of elf.segments) {
      const access = { read: segment.read, write: segment.write, execute: segment.execute, device: false };
      for (let va = floorPage(segment.vaddr); va < segment.vaddr + segment.memsz; va += PAGE)
        space.mapNew(va, access);
      space.storeBytes(segment.vaddr, segment.data);
    }
    for (let va = PD_STACK_TOP - pd.stackSize; va < PD_STACK_TOP; va += PAGE) {
      space.mapNew(va, { read: true, write: true, execute: false, device: false });
    }
    for (const map of pd.maps) {
      const ram = memory.isRam(map.region.paddr, map.region.size);
      const access = { ...map.perms, device: !ram || !map.cached };
      for (let offset = 0; offset < map.region.size; offset += PAGE) {
        space.map(map.vaddr + offset, map.region.paddr + offset, access);
      }
    }
    patchVariables(elf, space, pd, setvars);

    const vcpu = this.core.createVcpu({ vmid: NATIVE_VMID });
    if (!this.ramMapped) {
      // Native threads see RAM as it is (stage 2 is the identity for them); device pages stay unmapped.
      const { ramBase, ramSize } = memory;
      const all = { read: true, write: true, execute: true };
      vcpu.mapStage2(ramBase, ramBase, Math.min(ramSize, 2 ** 32 - ramBase), all, false);
      this.ramMapped = true;
    }
    vcpu.el0Exits = true;
    vcpu.writeSysreg("MAIR_EL1", Stage1Attributes.mair);
    vcpu.writeSysreg("TCR_EL1", TCR);
    vcpu.writeSysreg("TTBR0_EL1", BigInt(space.root));
    vcpu.writeSysreg("CPACR_EL1", CPACR_FPEN);
    vcpu.writeSysreg("CNTKCTL_EL1", CNTKCTL_EL0_TIMER);
    vcpu.writeSysreg("SCTLR_EL1", SCTLR);
    return new ElfProgram(elf, pd, {
      kernel,
      vcpu,
      space,
      ipcBuffer: elf.symbols.get(IPC_BUFFER_SYMBOL)!.value,
      stackTop: PD_STACK_TOP,
      syncCounter: this.syncCounter,
      locate: (pc) => locate(elf, space, memory.view.bind(memory), pc),
      deviceAt: (paddr) => {
        const window = this.board.deviceAt(paddr);
        return window && { device: window.device, offset: paddr - window.base };
      },
      stackBottom: PD_STACK_TOP - pd.stackSize,
    });
  }
}

/**
 * What stops `elf` from being loaded for `pd`, as the Microkit tool checks it: the IPC buffer symbol,
 * a symbol for every setvar, and <map>s clear of the program's segments and stack. Empty when none.
 */
export function elfProblems(
  pd: ProtectionDomain,
  elf: ElfFile,
  setvars: Readonly<Record<string, number>>,
): string[] {
  const prefix = `Error: protection domain '${pd.name}':`;
  const problems: string[] = [];
  const ipcBuffer = elf.symbols.get(IPC_BUFFER_SYMBOL);
  const inSegment = (va: number): boolean =>
    elf.segments.some((g) => va >= g.vaddr && va < g.vaddr + g.memsz);
  if (!ipcBuffer || ipcBuffer.value % PAGE !== 0 || !inSegment(ipcBuffer.value)) {
    problems.push(
      `${prefix} ${elf.path} has no page-aligned ${IPC_BUFFER_SYMBOL}: link it with libmicrokit.a from virtkit's SDK`,
    );
  }
  for (const symbol of Object.keys(setvars)) {
    if (!elf.symbols.has(symbol)) {
      problems.push(
        `${prefix} setvar '${symbol}' has no symbol in ${elf.path}: declare it in the program (e.g. uintptr_t ${symbol};)`,
      );
    }
  }
  const taken = [
    ...elf.segments.map((g) => ({
      what: `the program's segment [${hex(g.vaddr)}..${hex(g.vaddr + g.memsz)})`,
      start: floorPage(g.vaddr),
      end: g.vaddr + g.memsz,
    })),
    { what: "the stack", start: PD_STACK_TOP - pd.stackSize, end: PD_STACK_TOP },
  ];
  for (const map of pd.maps) {
    const end = map.vaddr + map.region.size;
    const clash = taken.find((t) => map.vaddr < t.end && t.start < end);
    if (clash) {
      problems.push(
        `${prefix} the map of memory region '${map.mr}' at [${hex(map.vaddr)}..${hex(end)}) overlaps ` +
          `${clash.what} of ${elf.path}: give the <map> a vaddr outside it`,
      );
    }
  }
  return problems;
}

/** setvars, then libmicrokit's own variables (name, channel masks, passive) where the ELF has them. */
function patchVariables(
  elf: ElfFile,
  space: NativeAddressSpace,
  pd: ProtectionDomain,
  setvars: Readonly<Record<string, number>>,
): void {
  const word = (value: bigint, size = 8): Uint8Array => {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
    return bytes.subarray(0, size);
  };
  for (const [symbol, value] of Object.entries(setvars)) {
    // elfProblems has made sure every setvar has its symbol.
    const found = elf.symbols.get(symbol)!;
    space.storeBytes(found.value, word(BigInt(value), Math.min(found.size || 8, 8)));
  }
  const name = elf.symbols.get("microkit_name");
  if (name) {
    const bytes = new Uint8Array(Math.min(name.size || PD_NAME_LENGTH, PD_NAME_LENGTH));
    bytes.set(new TextEncoder().encode(pd.name).subarray(0, bytes.length - 1));
    space.storeBytes(name.value, bytes);
  }
  const masks: [string, bigint][] = [
    ["microkit_irqs", pd.irqMask],
    ["microkit_notifications", pd.notifyMask],
    ["microkit_pps", pd.ppMask],
  ];
  for (const [symbol, mask] of masks) {
    const found = elf.symbols.get(symbol);
    if (found) space.storeBytes(found.value, word(mask));
  }
  const passive = elf.symbols.get("microkit_passive");
  if (passive) space.storeBytes(passive.value, word(pd.passive ? 1n : 0n, 1));
}

/** The ELF's DWARF line table, if it has a readable one (built with -g). */
function lineTable(elf: ElfFile): LineTable | undefined {
  const debugLine = elf.section(".debug_line");
  if (!debugLine) return undefined;
  try {
    return new LineTable(debugLine, {
      lineStr: elf.section(".debug_line_str"),
      str: elf.section(".debug_str"),
    });
  } catch {
    // A damaged line table costs the report its line numbers, nothing more.
    return undefined;
  }
}

/** `function+0x1c, file.c:12 (pc: instruction)` for the monitor. */
function locate(
  elf: ElfFile,
  space: NativeAddressSpace,
  view: (pa: number, size: number) => Uint8Array,
  pc: number,
): string | undefined {
  const fn = elf.functionAt(pc);
  const pa = space.physical(pc);
  const insn =
    pa === undefined || pc % 4 !== 0
      ? undefined
      : new DataView(view(pa, 4).slice().buffer).getUint32(0, true);
  const line = lineTable(elf)?.lookup(pc);
  const where = `${fn ? `${fn.name}+${hex(fn.offset)}` : hex(pc)}${line ? `, ${line}` : ""}`;
  return insn === undefined ? where : `${where} (${hex(pc)}: ${disassemble(insn, BigInt(pc))})`;
}

function floorPage(value: number): number {
  return Math.floor(value / PAGE) * PAGE;
}
