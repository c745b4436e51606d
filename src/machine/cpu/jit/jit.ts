// The JIT tier's host side: the run loop asks it to translate a hot block; it translates that block
// and the warm ones the run loop's lookup table holds (translate.ts) into one wasm module over the
// core's memory and globals, instantiates it and puts each function in the core's function table,
// where the run loop calls it. Slots are reused as the run loop evicts or drops translations, so live
// translations never exceed the run loop's lookup table.
import { ModuleTemplate, I32, I64, type GlobalImport } from "./wasm-encoder.ts";
import { NZCV_FUNCTION, translateBlocks, type BlockStart, type CoreLayout } from "./translate.ts";
import { hex } from "../../../util/hex.ts";

/** What the JIT needs from the core instance's exports. */
export interface JitCoreExports {
  table: WebAssembly.Table;
  pc: WebAssembly.Global;
  nzcv: WebAssembly.Global;
  instret: WebAssembly.Global;
  eventAt: WebAssembly.Global;
  fastReadBase: WebAssembly.Global;
  fastWriteBase: WebAssembly.Global;
  X_BASE: WebAssembly.Global;
  CONDITION_TABLE: WebAssembly.Global;
  FAST_ENTRIES: WebAssembly.Global;
  FAST_BASE: WebAssembly.Global;
  TPIDR_EL0: WebAssembly.Global;
  TPIDRRO_EL0: WebAssembly.Global;
  TPIDR_EL1: WebAssembly.Global;
  SP_EL0_SLOT: WebAssembly.Global;
  spSel: WebAssembly.Global;
  reservedAddress: WebAssembly.Global;
  reservedSize: WebAssembly.Global;
  NO_RESERVATION: WebAssembly.Global;
  DC_ZVA_BYTES: WebAssembly.Global;
  DCZID_BLOCK_LOG2_WORDS: WebAssembly.Global;
  daif: WebAssembly.Global;
  bitmaskImmediate(n: number, immr: number, imms: number): bigint;
  decodeBitMasks(n: number, imms: number, immr: number, immediate: number): void;
  wmask: WebAssembly.Global;
  tmask: WebAssembly.Global;
  bitMasksValid: WebAssembly.Global;
  chainHops: WebAssembly.Global;
  jitEntry(pc: bigint): number;
  JIT_TABLE: WebAssembly.Global;
  JIT_ENTRIES: WebAssembly.Global;
  JIT_ENTRY_SIZE: WebAssembly.Global;
  JIT_ENTRY_PC: WebAssembly.Global;
  JIT_ENTRY_TAG: WebAssembly.Global;
  JIT_ENTRY_FN: WebAssembly.Global;
  JIT_ENTRY_COUNT: WebAssembly.Global;
  JIT_NEVER: WebAssembly.Global;
  setJitThreshold(threshold: number): void;
  jitInstructionsRetired(): bigint;
}

/** The core globals a block imports, in the index order translate.ts uses (G_PC ...). */
const BLOCK_GLOBALS: readonly GlobalImport[] = [
  { module: "core", name: "pc", type: I64 },
  { module: "core", name: "nzcv", type: I32 },
  { module: "core", name: "instret", type: I64 },
  { module: "core", name: "eventAt", type: I64 },
  { module: "core", name: "fastReadBase", type: I32 },
  { module: "core", name: "fastWriteBase", type: I32 },
  { module: "core", name: "chainHops", type: I32 },
  { module: "core", name: "spSel", type: I32 },
  { module: "core", name: "reservedAddress", type: I32 },
  { module: "core", name: "reservedSize", type: I32 },
  { module: "core", name: "daif", type: I32 },
];

/**
 * Executions of a block start before it is translated. Translating a block (with the warm ones) costs
 * about as much as interpreting it some thousands of times, so only code that has run this often is
 * likely to repay it: minimal-kernel and Debian boots measured best at 16000 (docs/cpu.md).
 */
export const DEFAULT_JIT_THRESHOLD = 16000;
/**
 * A hot block is translated with the warm ones: block starts that are untranslated and have run at
 * least this fraction of the threshold, the most run first, up to BATCH_BLOCKS blocks per module.
 */
const WARM_FRACTION = 0.25;
const BATCH_BLOCKS = 64;
const TABLE_GROWTH = 256;

export interface JitStats {
  /** Blocks translated to wasm. */
  blocksTranslated: number;
  /** Wasm modules those blocks were compiled in (a hot block and the warm ones with it). */
  modules: number;
  /** Guest instructions in those blocks. */
  instructionsTranslated: number;
  /** Wall time spent translating, encoding and instantiating, in milliseconds. */
  compileMs: number;
  /** Hot block starts whose first instruction is outside the JIT's subset. */
  untranslatable: number;
  /** Translations dropped because their lookup entry was taken by another block. */
  evictions: number;
  /** Translations dropped because their code changed (self- or cross-modifying code). */
  invalidations: number;
  /**
   * Translations dropped because three quarters of their module's blocks were gone (to be translated
   * again when hot), so that modules kept alive by a few blocks do not accumulate.
   */
  dropped: number;
  /**
   * Blocks whose wasm failed to compile or instantiate (a JIT bug): they run in the interpreter, and
   * the first error is kept in `firstError`.
   */
  translationErrors: number;
  firstError?: string;
  /** Guest instructions retired inside translated blocks, all vCPUs. */
  instructionsInBlocks: number;
}

export class JitTier {
  private core: JitCoreExports | undefined;
  private layout: CoreLayout | undefined;
  private imports: WebAssembly.Imports | undefined;
  private readonly freeSlots: number[] = [];
  /** Per function-table slot in use: its block's PC and the module it was compiled in. */
  private readonly slots = new Map<number, { pc: bigint; module: Set<number>; blocks: number }>();
  private readonly template = new ModuleTemplate(
    { module: "core", name: "memory" },
    { module: "core", name: "table" },
    BLOCK_GLOBALS,
    "links",
    NZCV_FUNCTION,
  );
  private threshold = DEFAULT_JIT_THRESHOLD;
  /** Byte offsets of a lookup entry's fields (layout.ts), read from the core at attach. */
  private field = { pc: 0, tag: 0, fn: 0, count: 0 };
  private readonly stats = {
    blocksTranslated: 0,
    modules: 0,
    instructionsTranslated: 0,
    compileMs: 0,
    untranslatable: 0,
    evictions: 0,
    invalidations: 0,
    dropped: 0,
    translationErrors: 0,
    firstError: undefined as string | undefined,
  };

  constructor(private readonly memory: WebAssembly.Memory) {}

  /** The functions the core imports as module "run-loop". */
  readonly coreImports = {
    translate: (pc: bigint, host: number, el: number): number => this.translate(pc, host >>> 0, el),
    discard: (fn: number, stale: number): void => this.discard(fn, stale !== 0),
  };

  /** Connects the tier to the instantiated core and turns it on. */
  attach(core: JitCoreExports, threshold: number): void {
    this.core = core;
    this.field = {
      pc: core.JIT_ENTRY_PC.value as number,
      tag: core.JIT_ENTRY_TAG.value as number,
      fn: core.JIT_ENTRY_FN.value as number,
      count: core.JIT_ENTRY_COUNT.value as number,
    };
    this.layout = {
      xBase: core.X_BASE.value as number,
      conditionTable: core.CONDITION_TABLE.value as number,
      fastEntries: core.FAST_ENTRIES.value as number,
      tpidrEl0: core.TPIDR_EL0.value as number,
      tpidrroEl0: core.TPIDRRO_EL0.value as number,
      tpidrEl1: core.TPIDR_EL1.value as number,
      spEl0Slot: core.SP_EL0_SLOT.value as number,
      noReservation: core.NO_RESERVATION.value as number,
      dcZvaBytes: core.DC_ZVA_BYTES.value as number,
      dczidEl1: core.DCZID_BLOCK_LOG2_WORDS.value as bigint,
      jitTable: core.JIT_TABLE.value as number,
      jitEntries: core.JIT_ENTRIES.value as number,
      jitEntrySize: core.JIT_ENTRY_SIZE.value as number,
      jitEntryField: this.field,
      // mmu.ts onTranslationRegimeChange: per EL three tables (read, write, fetch) of FAST_ENTRIES.
      fetchCache: (el) =>
        (core.FAST_BASE.value as number) + (el * 3 + 2) * (core.FAST_ENTRIES.value as number) * 16,
      bitmaskImmediate: (n, immr, imms) => BigInt.asUintN(64, core.bitmaskImmediate(n, immr, imms)),
      bitfieldMasks: (n, imms, immr) => {
        core.decodeBitMasks(n, imms, immr, 0);
        if (!core.bitMasksValid.value) return undefined;
        const mask = (g: WebAssembly.Global): bigint => BigInt.asUintN(64, g.value as bigint);
        return { wmask: mask(core.wmask), tmask: mask(core.tmask) };
      },
      translatedBlock: (pc, tag) => {
        const entry = new DataView(
          this.memory.buffer,
          core.jitEntry(pc) >>> 0,
          core.JIT_ENTRY_SIZE.value as number,
        );
        if (
          entry.getBigUint64(this.field.pc, true) !== pc ||
          entry.getBigUint64(this.field.tag, true) !== tag
        ) {
          return undefined;
        }
        const slot = entry.getUint32(this.field.fn, true);
        return slot ? (core.table.get(slot) ?? undefined) : undefined;
      },
    };
    this.imports = {
      core: {
        memory: this.memory,
        table: core.table,
        pc: core.pc,
        nzcv: core.nzcv,
        instret: core.instret,
        eventAt: core.eventAt,
        fastReadBase: core.fastReadBase,
        fastWriteBase: core.fastWriteBase,
        chainHops: core.chainHops,
        spSel: core.spSel,
        reservedAddress: core.reservedAddress,
        reservedSize: core.reservedSize,
        daif: core.daif,
      },
    };
    this.threshold = threshold;
    core.setJitThreshold(threshold);
  }

  get statistics(): JitStats {
    const inBlocks = this.core ? Number(BigInt.asUintN(64, this.core.jitInstructionsRetired())) : 0;
    return { ...this.stats, instructionsInBlocks: inBlocks };
  }

  /**
   * Translates the hot block at `pc` and, in the same module, the warm block starts of the lookup
   * table; returns the hot block's function-table index (0 when its first instruction is outside the
   * subset). The warm blocks' entries get their translations here (untranslatable ones are marked so
   * the run loop never asks for them).
   */
  private translate(pcSigned: bigint, host: number, el: number): number {
    const { core, layout, imports } = this;
    if (!core || !layout || !imports) return 0;
    const started = performance.now();
    const pc = BigInt.asUintN(64, pcSigned);
    if (pc & 3n) return 0;
    const hot = this.blockStart(pc, host, el);
    const warm = this.warmEntries(core.jitEntry(pc) >>> 0);
    const starts = [hot, ...warm.map((w) => w.start)];
    const translation = translateBlocks(starts, layout);
    const { functionOf } = translation;
    const entries = new DataView(this.memory.buffer);
    const never = core.JIT_NEVER.value as number;
    const { fn: fnField, count: countField } = this.field;
    const untranslatable = functionOf.filter((f) => f < 0).length;
    this.stats.untranslatable += untranslatable;
    warm.forEach(({ entry }, i) => {
      if (functionOf[i + 1]! < 0) entries.setUint32(entry + countField, never >>> 0, true);
    });
    if (translation.bodies.length === 0) return 0;
    const binary = this.template.encode(translation.locals, translation.bodies, translation.links.length);
    let instance: WebAssembly.Instance;
    try {
      const links = Object.fromEntries(
        translation.links.map((block, i) => [String(i), block as () => number]),
      );
      instance = new WebAssembly.Instance(new WebAssembly.Module(binary), { ...imports, links });
    } catch (error) {
      // Never the guest's doing: the interpreter runs the blocks, and the counters say what happened.
      this.stats.translationErrors += translation.bodies.length;
      this.stats.firstError ??= `blocks at ${starts.map((s) => hex(s.pc)).join(", ")}: ${String(error)}`;
      return 0;
    }
    const translated = starts.filter((_, i) => functionOf[i]! >= 0);
    const module = new Set<number>();
    const slots = translation.bodies.map((_, i) => {
      const slot = this.freeSlot(core.table);
      core.table.set(slot, instance.exports[String(i)] as () => number);
      module.add(slot);
      this.slots.set(slot, { pc: translated[i]!.pc, module, blocks: translation.bodies.length });
      return slot;
    });
    warm.forEach(({ entry }, i) => {
      const f = functionOf[i + 1]!;
      if (f < 0) return;
      entries.setUint32(entry + fnField, slots[f]!, true);
      entries.setUint32(entry + countField, 0, true);
    });
    this.stats.modules++;
    this.stats.blocksTranslated += slots.length;
    this.stats.instructionsTranslated += translation.instructions.reduce((a, b) => a + b, 0);
    this.stats.compileMs += performance.now() - started;
    return functionOf[0]! < 0 ? 0 : slots[functionOf[0]!]!;
  }

  private blockStart(pc: bigint, host: number, el: number): BlockStart {
    const words = new Uint32Array(this.memory.buffer, host, (0x1000 - Number(pc & 0xfffn)) >> 2);
    return { pc, host, el, words };
  }

  /**
   * The untranslated entries of the lookup table other than `hot` whose block start has run at least
   * WARM_FRACTION of the threshold, the most run first, with their entry addresses.
   */
  private warmEntries(hot: number): { entry: number; start: BlockStart }[] {
    const core = this.core!;
    const { pc: pcField, tag: tagField, fn: fnField, count: countField } = this.field;
    const table = core.JIT_TABLE.value as number;
    const size = core.JIT_ENTRY_SIZE.value as number;
    const never = (core.JIT_NEVER.value as number) >>> 0;
    const warmCount = Math.max(1, Math.ceil(this.threshold * WARM_FRACTION));
    const memory = new DataView(this.memory.buffer);
    const found: { entry: number; count: number }[] = [];
    for (let i = 0, entries = core.JIT_ENTRIES.value as number; i < entries; i++) {
      const entry = table + i * size;
      const count = memory.getUint32(entry + countField, true);
      if (count < warmCount || count === never || entry === hot || memory.getUint32(entry + fnField, true))
        continue;
      found.push({ entry, count });
    }
    found.sort((a, b) => b.count - a.count);
    return found.slice(0, BATCH_BLOCKS - 1).flatMap(({ entry }) => {
      const pc = memory.getBigUint64(entry + pcField, true);
      const tag = memory.getBigUint64(entry + tagField, true);
      if (pc & 3n) return [];
      const el = Number(tag & 3n);
      return [{ entry, start: this.blockStart(pc, Number(tag) - el, el) }];
    });
  }

  private discard(slot: number, stale: boolean): void {
    const { module, blocks } = this.release(slot) ?? {};
    if (stale) this.stats.invalidations++;
    else this.stats.evictions++;
    // A module's code lives while any of its functions is in the table: once three quarters of its
    // blocks are gone, the rest leave too (their entries count again from 0), so compiled code stays
    // within a small multiple of the table.
    if (!module || !blocks || module.size === 0 || module.size * 4 > blocks || !this.core) return;
    const entries = new DataView(this.memory.buffer);
    const { fn, count } = this.field;
    for (const other of [...module]) {
      const entry = this.core.jitEntry(this.slots.get(other)!.pc) >>> 0;
      if (entries.getUint32(entry + fn, true) === other) {
        entries.setUint32(entry + fn, 0, true);
        entries.setUint32(entry + count, 0, true);
      }
      this.release(other);
      this.stats.dropped++;
    }
  }

  /** Frees a slot for new translations; returns what it held. */
  private release(slot: number): { module: Set<number>; blocks: number } | undefined {
    this.core?.table.set(slot, null);
    this.freeSlots.push(slot);
    const held = this.slots.get(slot);
    this.slots.delete(slot);
    held?.module.delete(slot);
    return held;
  }

  private freeSlot(table: WebAssembly.Table): number {
    const reused = this.freeSlots.pop();
    if (reused !== undefined) return reused;
    // Slot 0 stays empty: the run loop reads index 0 as "no translation".
    const first = Math.max(table.length, 1);
    table.grow(first + TABLE_GROWTH - table.length);
    for (let slot = first + TABLE_GROWTH - 1; slot > first; slot--) this.freeSlots.push(slot);
    return first;
  }
}
