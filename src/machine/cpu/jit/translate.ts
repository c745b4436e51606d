// A64 basic block → the body of a wasm function of type () -> i32 that does exactly what the
// interpreter (src/machine/cpu/*.ts) does for the same instructions, on the same state in place:
// X registers in the state block, PC, NZCV and the retired-instruction count in the core's globals.
// Each instruction below mirrors its interpreter handler; anything else ends the block, and any case
// the fast path does not cover (translation-cache miss, unaligned SP base, misaligned branch target)
// returns before the instruction changes anything, so the interpreter runs it from scratch.
import { Bytes, Op, I32, I64, VOID, type SharedFunction } from "./wasm-encoder.ts";
import { CORE_SYSTEM_REGISTER_KEYS } from "../../arch/system-registers.ts";

/** Results of a block; the run loop (src/machine/cpu/run-loop.ts) acts on them. */
export const BLOCK_BRANCHED = 0;
export const BLOCK_STOPPED = 1;
export const BLOCK_STALE = 2;
export const BLOCK_DECLINED = 3;

/** The longest block translated, in instructions. */
export const MAX_BLOCK_INSTRUCTIONS = 64;

/** Indices of the globals a block imports (see jit.ts, which supplies them in this order). */
export const G_PC = 0;
export const G_NZCV = 1;
export const G_INSTRET = 2;
export const G_EVENT_AT = 3;
export const G_FAST_READ = 4;
export const G_FAST_WRITE = 5;
export const G_CHAIN_HOPS = 6;
export const G_SP_SEL = 7;
export const G_RESERVED_ADDRESS = 8;
export const G_RESERVED_SIZE = 9;
export const G_DAIF = 10;

/** Addresses in the core's linear memory that blocks use (read from the core's exports). */
export interface CoreLayout {
  /** X0; X31 is the current SP. */
  xBase: number;
  /** ConditionHolds() table: 16 halfwords, bit NZCV of entry cond. */
  conditionTable: number;
  /** Entries of each translation-cache table (tag, host addend; 16 bytes). */
  fastEntries: number;
  /** The state-block words of TPIDR_EL0, TPIDRRO_EL0 and TPIDR_EL1. */
  tpidrEl0: number;
  tpidrroEl0: number;
  tpidrEl1: number;
  /** Where SP_EL0 is kept while it is not the current SP (at EL1 with SPSel 1). */
  spEl0Slot: number;
  /** The exclusive monitor's reservation address when nothing is reserved. */
  noReservation: number;
  /** Bytes DC ZVA zeroes, and DCZID_EL0 as EL1 reads it (the block size as log2 of words). */
  dcZvaBytes: number;
  dczidEl1: bigint;
  /** The run loop's lookup table (run-loop.ts jitEntry): its address, entries, entry size and fields. */
  jitTable: number;
  jitEntries: number;
  jitEntrySize: number;
  jitEntryField: { pc: number; tag: number; fn: number };
  /** The fetch-translation cache of an EL (mmu.ts fastFetchBase): fastEntries entries of (page, host addend). */
  fetchCache(el: number): number;
  /** The core's bitmask immediate of a logical instruction (N, immr, imms), 0 when reserved. */
  bitmaskImmediate(n: number, immr: number, imms: number): bigint;
  /** The core's DecodeBitMasks(N, imms, immr, FALSE) for BFM: wmask and tmask, undefined when reserved. */
  bitfieldMasks(n: number, imms: number, immr: number): { wmask: bigint; tmask: bigint } | undefined;
  /**
   * The translated block (a function of the core's table) the run loop would enter at `pc` with this
   * entry tag (host address | EL), if there is one now.
   */
  translatedBlock(pc: bigint, tag: bigint): unknown;
}

/** A block start to translate: its PC, the host address of its first instruction and its EL. */
export interface BlockStart {
  pc: bigint;
  host: number;
  el: number;
  /** Its instruction words, from the start to the end of its page. */
  words: Uint32Array;
}

/** Blocks translated together: the functions of one wasm module. */
export interface ModuleTranslation {
  /** Translated blocks of other modules these enter directly: the module's function imports 0, 1, ... */
  links: unknown[];
  /** Function bodies, in the order of the module's own functions. */
  bodies: Bytes[];
  locals: readonly number[];
  /** Per block start asked for: the index of its function among `bodies`, or -1 when untranslatable. */
  functionOf: number[];
  /** Instructions in each of `bodies`. */
  instructions: number[];
}

/**
 * Where a direct branch can enter a translated block by a tail call: a block of the module being
 * built (its own functions, whose indices follow the imports and so are known only at the end), or
 * one translated earlier (a function import).
 */
class Linker {
  readonly links: unknown[] = [];

  constructor(
    private readonly translatedBlock: CoreLayout["translatedBlock"],
    /** This module's blocks by their entry key (PC and tag): their function indices among its own. */
    private readonly own: ReadonlyMap<string, number>,
  ) {}

  callee(pc: bigint, tag: bigint): { own: boolean; index: number } | undefined {
    const own = this.own.get(entryKey(pc, tag));
    if (own !== undefined) return { own: true, index: own };
    const block = this.translatedBlock(pc, tag);
    if (block === undefined) return undefined;
    let link = this.links.indexOf(block);
    if (link < 0) link = this.links.push(block) - 1;
    return { own: false, index: link };
  }
}

/** For code that never links: a block's first instruction tried alone, and prologues. */
const NO_LINKS = new Linker(() => undefined, new Map<string, number>());

function entryKey(pc: bigint, tag: bigint): string {
  return `${pc}:${tag}`;
}

// Locals of every block.
const A = 0;
const B = 1;
const R = 2;
const T = 3;
const V = 4;
const W = 5;
const H = 6;
const H2 = 7;
// The pending flags (see Flags): the operands and result of the last flag setter.
const FA = 8;
const FB = 9;
const FR = 10;
const FK = 11;
// Copies of X0-X30 and SP (slot 31) as the block last wrote or read them (see Emitter.cached).
const X_COPY = 12;
const LOCALS = [
  I64,
  I64,
  I64,
  I64,
  I64,
  I64,
  I32,
  I32,
  I64,
  I64,
  I64,
  I32,
  ...new Array<number>(32).fill(I64),
];

/** NZCV is in its global. */
const FLAGS_GLOBAL = 0;
/** NZCV is that of FR = FA + FB (carry-in 0). */
const FLAGS_ADD = 1;
/** NZCV is that of FR = FA - FB (AddWithCarry(FA, NOT(FB), 1)). */
const FLAGS_SUB = 2;
/** NZCV is N:Z:0:0 of FR. */
const FLAGS_LOGICAL = 3;
/**
 * At the loop head, which a back edge may reach with flags pending: FK says where they are (0 the
 * global, else FLAGS_ADD or FLAGS_SUB; a back edge turns FLAGS_LOGICAL into FLAGS_ADD with FA = FR,
 * whose C and V are then 0 whatever FB is).
 */
const FLAGS_DYNAMIC = 4;
type PendingFlags = typeof FLAGS_ADD | typeof FLAGS_SUB | typeof FLAGS_LOGICAL;
/**
 * Where the architectural NZCV is at a point of a block. A flag-setting add, subtract or logical
 * operation does not compute NZCV: it leaves its operands and result in FA, FB and FR (32-bit ones
 * shifted to the top half, so that one set of 64-bit formulas serves both sizes), and a condition
 * that follows is tested on them directly (CMP + B.LT is one i64.lt_s). NZCV is computed into its
 * global only where it is needed: before an instruction that reads it whole, and on every path that
 * leaves the block (each exit, bail and tail call computes it on that path only).
 */
type Flags = typeof FLAGS_GLOBAL | PendingFlags | typeof FLAGS_DYNAMIC;

const M32 = 0xffff_ffffn;
const M64 = (1n << 64n) - 1n;

function signExtend(v: number, bits: number): bigint {
  return BigInt((v << (32 - bits)) >> (32 - bits));
}

/** Wasm code as it is written: the instructions a block's and a module's shared function are made of. */
class Code {
  readonly out = new Bytes();

  op(...ops: number[]): this {
    for (const o of ops) this.out.byte(o);
    return this;
  }
  i32(v: number): this {
    this.out.byte(Op.i32Const).s32(v);
    return this;
  }
  i64(v: bigint): this {
    this.out.byte(Op.i64Const).s64(v);
    return this;
  }
  get(l: number): this {
    this.out.byte(Op.localGet).u32(l);
    return this;
  }
  set(l: number): this {
    this.out.byte(Op.localSet).u32(l);
    return this;
  }
  tee(l: number): this {
    this.out.byte(Op.localTee).u32(l);
    return this;
  }
  gget(g: number): this {
    this.out.byte(Op.globalGet).u32(g);
    return this;
  }
  gset(g: number): this {
    this.out.byte(Op.globalSet).u32(g);
    return this;
  }
  mem(op: number, align: number, offset: number): this {
    this.out.byte(op).u32(align).u32(offset);
    return this;
  }
}

/** Pushes NZCV (an i32) of pending flags of kind `kind` whose operands and result are in locals a, b, r. */
function pushNzcv(code: Code, kind: PendingFlags, a: number, b: number, r: number): void {
  code.get(r).i64(63n).op(Op.i64ShrU, Op.i32WrapI64).i32(31).op(Op.i32Shl);
  code.get(r).op(Op.i64Eqz).i32(30).op(Op.i32Shl, Op.i32Or);
  if (kind === FLAGS_LOGICAL) return;
  // C: no borrow (a >= b) for a subtraction, a carry out (r < a) for an addition.
  if (kind === FLAGS_SUB) code.get(a).get(b).op(Op.i64GeU);
  else code.get(r).get(a).op(Op.i64LtU);
  code.i32(29).op(Op.i32Shl, Op.i32Or);
  // V: the operands' signs (b's inverted for a subtraction) agree and differ from the result's.
  if (kind === FLAGS_SUB) code.get(a).get(b).op(Op.i64Xor);
  else code.get(b).get(r).op(Op.i64Xor);
  code.get(a).get(r).op(Op.i64Xor, Op.i64And).i64(63n).op(Op.i64ShrU, Op.i32WrapI64);
  code.i32(28).op(Op.i32Shl, Op.i32Or);
}

/**
 * NZCV of pending flags into its global, for the cold paths that leave a block (bails, self-modifying
 * stores), which are many (one per load and store) and would otherwise each hold the computation:
 * each module's shared function, called with the kind (FLAGS_GLOBAL: nothing to do) and FA, FB, FR.
 */
export const NZCV_FUNCTION: SharedFunction = {
  params: [I32, I64, I64, I64],
  body: ((): Bytes => {
    const [kind, a, b, r] = [0, 1, 2, 3];
    const code = new Code();
    code.get(kind).op(Op.i32Eqz, Op.if, VOID, Op.return, Op.end);
    code.get(kind).i32(FLAGS_SUB).op(Op.i32Eq, Op.if, I32);
    pushNzcv(code, FLAGS_SUB, a, b, r);
    code.op(Op.else).get(kind).i32(FLAGS_ADD).op(Op.i32Eq, Op.if, I32);
    pushNzcv(code, FLAGS_ADD, a, b, r);
    code.op(Op.else);
    pushNzcv(code, FLAGS_LOGICAL, a, b, r);
    return code.op(Op.end, Op.end).gset(G_NZCV).out;
  })(),
};

/** Emits one block. `depth` counts the structured instructions open inside the block's loop. */
class Emitter extends Code {
  private depth = 0;
  /** Index of the instruction being emitted: the number completed before it in this iteration. */
  index = 0;
  insnPc = 0n;
  /** Where the block's code end (host address) is used before the block's length is known. */
  private readonly codeEndPatches: number[] = [];
  /** Where the block's length (instructions) is used before it is known. */
  private readonly lengthPatches: number[] = [];
  /** Tail calls to this module's own functions: where the call's index is, and which function. */
  readonly ownCalls: { at: number; index: number }[] = [];
  /** Calls of the module's shared NZCV_FUNCTION: where the call's index is. */
  readonly nzcvCalls: number[] = [];
  /** Where NZCV is after the code emitted so far (the block's code starts at its loop head). */
  flags: Flags = FLAGS_DYNAMIC;
  /**
   * Slots (bit n: X_COPY + n) whose local holds the register's value on every path to here: set where
   * the block's straight-line code (outside any conditional part) writes or reads the register, so
   * that a later read takes the local rather than loading back what was just stored. The state block
   * is still written at every write, so paths that leave the block need nothing.
   */
  cached = 0;

  constructor(
    readonly layout: CoreLayout,
    readonly startPc: bigint,
    readonly codeHost: number,
    readonly el: number,
    private readonly linker: Linker,
  ) {
    super();
  }

  if(body: () => void): this {
    this.out.byte(Op.if).byte(VOID);
    this.depth++;
    body();
    this.depth--;
    return this.op(Op.end);
  }
  ifElse(then: () => void, otherwise: () => void): this {
    this.out.byte(Op.if).byte(VOID);
    this.depth++;
    then();
    this.out.byte(Op.else);
    otherwise();
    this.depth--;
    return this.op(Op.end);
  }

  /** getX: XZR reads 0. */
  x(n: number): this {
    if (n === 31) return this.i64(0n);
    return this.xsp(n);
  }
  /** getXSP: slot 31 is the current SP. */
  xsp(n: number): this {
    if (this.cached & (1 << n)) return this.get(X_COPY + n);
    this.i32(0).mem(Op.i64Load, 3, this.layout.xBase + n * 8);
    if (this.depth === 0) {
      this.tee(X_COPY + n);
      this.cached |= 1 << n;
    }
    return this;
  }
  /** setX of the value `value` pushes; XZR discards it (after it is computed). */
  setX(n: number, value: () => void): this {
    if (n === 31) {
      value();
      return this.op(Op.drop);
    }
    return this.setXSP(n, value);
  }
  setXSP(n: number, value: () => void): this {
    this.i32(0);
    value();
    if (this.depth === 0) {
      this.tee(X_COPY + n);
      this.cached |= 1 << n;
    } else {
      this.cached &= ~(1 << n);
    }
    return this.mem(Op.i64Store, 3, this.layout.xBase + n * 8);
  }

  /**
   * Leaves the block with pc = `target` (a constant or the i64 a callback pushes); `cold` for the
   * paths taken only when the fast path does not cover an instruction.
   */
  exit(target: bigint | (() => void), completed: number, status: number, cold = false): this {
    if (cold) this.flagsByCall();
    else this.flagsOnExit();
    if (typeof target === "bigint") this.i64(target);
    else target();
    this.gset(G_PC);
    if (completed) this.gget(G_INSTRET).i64(BigInt(completed)).op(Op.i64Add).gset(G_INSTRET);
    return this.i32(status).op(Op.return);
  }
  /**
   * Leaves the block by a direct branch to `target`. When a block is translated there on the same
   * page (so under the same fetch translation, host page and EL, which this block's own entry
   * guarantees), in this module or an earlier one, it is entered directly by a tail call: its
   * prologue does the code and event checks. The core's chainHops bounds how many blocks run before
   * control returns to the run loop.
   */
  branchTo(target: bigint, completed: number): this {
    const samePage = target >> 12n === this.startPc >> 12n;
    const tag = BigInt(this.codeHost + Number(target - this.startPc)) | BigInt(this.el);
    const callee = samePage ? this.linker.callee(target, tag) : undefined;
    if (callee === undefined) return this.i64(target).set(V).branchToRegister(V, completed);
    this.flagsOnExit();
    this.i64(target).gset(G_PC);
    this.gget(G_INSTRET).i64(BigInt(completed)).op(Op.i64Add).gset(G_INSTRET);
    this.gget(G_CHAIN_HOPS).op(Op.i32Eqz);
    this.if(() => this.i32(BLOCK_BRANCHED).op(Op.return));
    this.gget(G_CHAIN_HOPS).i32(-1).op(Op.i32Add).gset(G_CHAIN_HOPS);
    this.out.byte(Op.returnCall);
    if (callee.own) this.ownCalls.push({ at: this.out.paddedS32(0), index: callee.index });
    else this.out.u32(callee.index);
    return this;
  }

  /**
   * Leaves the block by a branch to the address in local `target` (BR, BLR, RET; or a direct branch
   * that branchTo could not link), entering the target's translation by a tail call through the
   * core's table when the run loop would enter it next: the block looks the target up as the run
   * loop does, in its fetch-translation cache (run-loop.ts run, mmu.ts fetchMiss: a hit there is the
   * host address the run loop would fetch from, under the current regime) and then in its lookup
   * table with that host address and this block's EL as the tag. Anything else (a fetch-cache miss,
   * no translation, no hops left) goes back to the run loop.
   */
  branchToRegister(target: number, completed: number): this {
    const { jitTable, jitEntries, jitEntrySize, jitEntryField, fastEntries } = this.layout;
    this.flagsOnExit();
    this.get(target).gset(G_PC);
    this.gget(G_INSTRET).i64(BigInt(completed)).op(Op.i64Add).gset(G_INSTRET);
    this.gget(G_CHAIN_HOPS).op(Op.i32Eqz);
    this.if(() => this.i32(BLOCK_BRANCHED).op(Op.return));
    // The fetch-cache entry of the target's page: (page, host addend).
    this.get(target)
      .i64(12n)
      .op(Op.i64ShrU)
      .tee(A)
      .op(Op.i32WrapI64)
      .i32(fastEntries - 1)
      .op(Op.i32And);
    this.i32(4).op(Op.i32Shl).set(H2);
    this.get(H2).mem(Op.i64Load, 3, this.layout.fetchCache(this.el)).get(A).op(Op.i64Ne);
    this.if(() => this.i32(BLOCK_BRANCHED).op(Op.return));
    // The run loop's tag: the target's host address (a 32-bit usize there) | EL.
    this.get(target)
      .get(H2)
      .mem(Op.i64Load, 3, this.layout.fetchCache(this.el) + 8)
      .op(Op.i64Add);
    this.i64(M32).op(Op.i64And).i64(BigInt(this.el)).op(Op.i64Or).set(A);
    // jitEntry(pc): (pc >> 2 ^ pc >> 14) & (JIT_ENTRIES - 1), scaled to the entry.
    this.get(target).i64(2n).op(Op.i64ShrU).get(target).i64(14n).op(Op.i64ShrU, Op.i64Xor, Op.i32WrapI64);
    this.i32(jitEntries - 1)
      .op(Op.i32And)
      .i32(jitEntrySize)
      .op(Op.i32Mul)
      .set(H);
    this.get(H)
      .mem(Op.i64Load, 3, jitTable + jitEntryField.pc)
      .get(target)
      .op(Op.i64Ne);
    this.get(H)
      .mem(Op.i64Load, 3, jitTable + jitEntryField.tag)
      .get(A)
      .op(Op.i64Ne, Op.i32Or);
    this.get(H)
      .mem(Op.i32Load, 2, jitTable + jitEntryField.fn)
      .tee(H)
      .op(Op.i32Eqz, Op.i32Or);
    this.if(() => this.i32(BLOCK_BRANCHED).op(Op.return));
    this.gget(G_CHAIN_HOPS).i32(-1).op(Op.i32Add).gset(G_CHAIN_HOPS);
    this.get(H).out.byte(Op.returnCallIndirect).u32(0).u32(0);
    return this;
  }

  /** Gives the current instruction back to the interpreter, unexecuted. */
  bail(): this {
    return this.exit(this.insnPc, this.index, BLOCK_STOPPED, true);
  }
  /**
   * After a branch to the block's own start: counts the iteration and loops while no event is due. As
   * at entry, the next iteration may run the whole block (this back edge may come before its end).
   */
  backEdge(instructions: number): this {
    this.gget(G_INSTRET).i64(BigInt(instructions)).op(Op.i64Add).gset(G_INSTRET);
    this.gget(G_INSTRET).op(Op.i64Const);
    this.lengthPatches.push(this.out.paddedS32(0));
    this.op(Op.i64Add).gget(G_EVENT_AT).op(Op.i64GtU);
    this.if(() => this.exit(this.startPc, 0, BLOCK_BRANCHED));
    switch (this.flags) {
      case FLAGS_GLOBAL:
        this.i32(0).set(FK);
        break;
      case FLAGS_LOGICAL:
        this.get(FR).set(FA).i32(FLAGS_ADD).set(FK);
        break;
      case FLAGS_ADD:
      case FLAGS_SUB:
        this.i32(this.flags).set(FK);
        break;
    }
    this.out.byte(Op.br).u32(this.depth);
    return this;
  }

  /** Fills in the block's length and code end once they are known. */
  setLength(instructions: number): void {
    for (const at of this.lengthPatches) this.out.patchS32(at, instructions);
    for (const at of this.codeEndPatches) this.out.patchS32(at, this.codeHost + instructions * 4);
  }

  /** Pushes NZCV (an i32) of the pending flags of kind `kind`. */
  private pendingNzcv(kind: PendingFlags): this {
    pushNzcv(this, kind, FA, FB, FR);
    return this;
  }

  /** Emits what puts NZCV in its global on the path being emitted; `flags` stays as it is. */
  private flagsOnExit(): this {
    const kind = this.flags;
    if (kind === FLAGS_GLOBAL || kind === FLAGS_DYNAMIC) return this.flagsByCall();
    return this.pendingNzcv(kind).gset(G_NZCV);
  }

  /** flagsOnExit() through the module's NZCV_FUNCTION: less code, for cold paths. */
  private flagsByCall(): this {
    if (this.flags === FLAGS_GLOBAL) return this;
    if (this.flags === FLAGS_DYNAMIC) this.get(FK);
    else this.i32(this.flags);
    this.get(FA).get(FB).get(FR);
    this.out.byte(Op.call);
    this.nzcvCalls.push(this.out.paddedS32(0));
    return this;
  }

  /** Puts NZCV in its global, for an instruction that reads or updates it whole. */
  materializeFlags(): this {
    this.flagsOnExit();
    this.flags = FLAGS_GLOBAL;
    return this;
  }

  /** ConditionHolds(cond) on the current NZCV, as an i32 0/1. */
  condition(cond: number): this {
    const kind = this.flags;
    if (kind !== FLAGS_GLOBAL && kind !== FLAGS_DYNAMIC) {
      if (this.pendingCondition(kind, cond)) return this;
      this.i32(0).mem(Op.i32Load16U, 1, this.layout.conditionTable + cond * 2);
      return this.pendingNzcv(kind).i32(28).op(Op.i32ShrU, Op.i32ShrU).i32(1).op(Op.i32And);
    }
    this.materializeFlags();
    this.i32(0).mem(Op.i32Load16U, 1, this.layout.conditionTable + cond * 2);
    this.gget(G_NZCV).i32(28).op(Op.i32ShrU, Op.i32ShrU).i32(1).op(Op.i32And);
    return this;
  }

  /**
   * ConditionHolds(cond) tested on pending flags directly, when one comparison does it (a
   * subtraction's C is FA >= FB unsigned, its N == V is FA >= FB signed, and so on); false otherwise.
   */
  private pendingCondition(kind: PendingFlags, cond: number): boolean {
    if (cond >= 14) {
      this.i32(1);
      return true;
    }
    const invert = (cond & 1) !== 0;
    const base = cond >> 1;
    // EQ, MI on the result, for every kind.
    if (base === 0) {
      if (kind === FLAGS_SUB)
        this.get(FA)
          .get(FB)
          .op(invert ? Op.i64Ne : Op.i64Eq);
      else
        this.get(FR)
          .i64(0n)
          .op(invert ? Op.i64Ne : Op.i64Eq);
      return true;
    }
    if (base === 2) {
      this.get(FR)
        .i64(0n)
        .op(invert ? Op.i64GeS : Op.i64LtS);
      return true;
    }
    if (kind === FLAGS_SUB) {
      // CS, VS, HI, GE, GT
      const ops: (readonly [number, number] | undefined)[] = [
        undefined,
        [Op.i64GeU, Op.i64LtU],
        undefined,
        undefined,
        [Op.i64GtU, Op.i64LeU],
        [Op.i64GeS, Op.i64LtS],
        [Op.i64GtS, Op.i64LeS],
      ];
      const pair = ops[base];
      if (!pair) return false;
      this.get(FA)
        .get(FB)
        .op(pair[invert ? 1 : 0]);
      return true;
    }
    if (kind === FLAGS_ADD) {
      if (base !== 1) return false;
      this.get(FR)
        .get(FA)
        .op(invert ? Op.i64GeU : Op.i64LtU);
      return true;
    }
    // Logical: C and V are 0, so CS, VS and HI never hold, and GE and GT test the sign alone.
    if (base === 5 || base === 6) {
      const ops = base === 5 ? [Op.i64GeS, Op.i64LtS] : [Op.i64GtS, Op.i64LeS];
      this.get(FR)
        .i64(0n)
        .op(ops[invert ? 1 : 0]!);
    } else {
      this.i32(invert ? 1 : 0);
    }
    return true;
  }

  /** NZCV = N:Z:0:0 from R (setLogicalFlags), pending. */
  logicalFlags(sf: boolean): this {
    this.get(R);
    if (!sf) this.i64(32n).op(Op.i64Shl);
    this.set(FR);
    this.flags = FLAGS_LOGICAL;
    return this;
  }

  /**
   * R = A + B or A - B on 64 or 32 bits (AddWithCarry(A, B or NOT(B), 0 or 1), alu.ts), leaving
   * its flags pending when setFlags.
   */
  addSub(sf: boolean, sub: boolean, setFlags: boolean): this {
    const op = sub ? Op.i64Sub : Op.i64Add;
    if (!setFlags) {
      this.get(A).get(B).op(op);
      if (!sf) this.i64(M32).op(Op.i64And);
      return this.set(R);
    }
    if (sf) {
      this.get(A).tee(FA).get(B).tee(FB).op(op).tee(FR).set(R);
    } else {
      this.get(A).i64(32n).op(Op.i64Shl).tee(FA);
      this.get(B).i64(32n).op(Op.i64Shl).tee(FB);
      this.op(op).tee(FR).i64(32n).op(Op.i64ShrU).set(R);
    }
    this.flags = sub ? FLAGS_SUB : FLAGS_ADD;
    return this;
  }

  /** R = AddWithCarry(A, B, PSTATE.C) on 64 or 32 bits, with NZCV when setFlags (ADC, SBC; alu.ts). */
  addWithCarry(sf: boolean, setFlags: boolean): this {
    this.materializeFlags();
    const pushCarry = (): this =>
      this.gget(G_NZCV).i32(29).op(Op.i32ShrU).i32(1).op(Op.i32And, Op.i64ExtendI32U);
    if (sf) {
      this.get(A).get(B).op(Op.i64Add).tee(T);
      pushCarry();
      this.op(Op.i64Add).set(R);
      if (!setFlags) return this;
      this.get(R).i64(63n).op(Op.i64ShrU).op(Op.i32WrapI64).i32(31).op(Op.i32Shl);
      this.get(R).op(Op.i64Eqz).i32(30).op(Op.i32Shl, Op.i32Or);
      this.get(T).get(A).op(Op.i64LtU).get(R).get(T).op(Op.i64LtU, Op.i32Or).i32(29).op(Op.i32Shl, Op.i32Or);
      this.get(A).get(R).op(Op.i64Xor).get(B).get(R).op(Op.i64Xor, Op.i64And).i64(63n).op(Op.i64ShrU);
      this.op(Op.i32WrapI64).i32(28).op(Op.i32Shl, Op.i32Or);
      return this.gset(G_NZCV);
    }
    this.get(A).i64(M32).op(Op.i64And).get(B).i64(M32).op(Op.i64And, Op.i64Add);
    pushCarry();
    this.op(Op.i64Add).tee(T).i64(M32).op(Op.i64And).set(R);
    if (!setFlags) return this;
    this.get(R).i64(31n).op(Op.i64ShrU).op(Op.i32WrapI64).i32(31).op(Op.i32Shl);
    this.get(R).op(Op.i64Eqz).i32(30).op(Op.i32Shl, Op.i32Or);
    this.get(T).i64(32n).op(Op.i64ShrU, Op.i32WrapI64).i32(29).op(Op.i32Shl, Op.i32Or);
    this.get(A).get(R).op(Op.i64Xor).get(B).get(R).op(Op.i64Xor, Op.i64And).i64(31n).op(Op.i64ShrU);
    this.i64(1n).op(Op.i64And, Op.i32WrapI64).i32(28).op(Op.i32Shl, Op.i32Or);
    return this.gset(G_NZCV);
  }

  /** A = base register (readBase): with SP as the base and SP not 16-aligned, the interpreter decides. */
  base(rn: number): this {
    this.xsp(rn).set(A);
    if (rn === 31) {
      this.get(A).i64(15n).op(Op.i64And, Op.i64Eqz, Op.i32Eqz);
      this.if(() => this.bail());
    }
    return this;
  }

  /**
   * Probes the read or write translation cache for `size` bytes at the VA in `va`
   * (TranslatedAccess.probe); a miss bails. The host address is left in `host`. The probe's two
   * tests (the entry's tag is va's page; the access does not cross the page) are one here: the tag
   * of va's entry is compared with the page of the access's last byte. An entry holds the page
   * whose index it is at (or a device or invalid tag, which never equals a page), so a last byte
   * on the next page (or wrapped round to page 0) never matches va's entry.
   */
  probe(write: boolean, va: number, size: number, host: number): this {
    this.gget(write ? G_FAST_WRITE : G_FAST_READ);
    this.get(va)
      .i64(12n)
      .op(Op.i64ShrU, Op.i32WrapI64)
      .i32(this.layout.fastEntries - 1)
      .op(Op.i32And);
    this.i32(4).op(Op.i32Shl, Op.i32Add).tee(host);
    this.mem(Op.i64Load, 3, 0).get(va);
    if (size > 1) this.i64(BigInt(size - 1)).op(Op.i64Add);
    this.i64(12n).op(Op.i64ShrU, Op.i64Ne);
    this.if(() => this.bail());
    this.get(va).get(host).mem(Op.i64Load, 3, 8).op(Op.i64Add, Op.i32WrapI64).set(host);
    return this;
  }

  /** Pushes the value loaded from `host` (size 1 << log2, opc 1 zero-, 2 sign-extended to 64, 3 to 32 bits). */
  loadFrom(host: number, log2: number, opc: number): this {
    this.get(host);
    const signed = opc >= 2;
    if (log2 === 3) this.mem(Op.i64Load, 3, 0);
    else if (log2 === 2) this.mem(signed ? Op.i64Load32S : Op.i64Load32U, 2, 0);
    else if (log2 === 1) this.mem(signed ? Op.i64Load16S : Op.i64Load16U, 1, 0);
    else this.mem(signed ? Op.i64Load8S : Op.i64Load8U, 0, 0);
    if (opc === 3) this.i64(M32).op(Op.i64And);
    return this;
  }

  storeTo(host: number, log2: number, value: number): this {
    this.get(host).get(value);
    const op = [Op.i64Store8, Op.i64Store16, Op.i64Store32, Op.i64Store][log2]!;
    return this.mem(op, log2, 0);
  }

  /** After a store: when it wrote into this block's own code, stop after the instruction. */
  selfModifyCheck(host: number, size: number): this {
    this.get(host).op(Op.i32Const);
    this.codeEndPatches.push(this.out.paddedS32(0));
    this.op(Op.i32LtU);
    this.get(host)
      .i32(this.codeHost - size)
      .op(Op.i32GtU, Op.i32And);
    return this.if(() => this.exit(this.insnPc + 4n, this.index + 1, BLOCK_STOPPED, true));
  }
}

/** What translating one instruction gave: not translatable, translated, or translated and ends the block. */
const NO = 0;
const NEXT = 1;
const END = 2;
type Outcome = typeof NO | typeof NEXT | typeof END;

/**
 * Translates blocks into the functions of one module, so that one compilation and instantiation
 * serves them all and direct branches between them are direct calls. A start whose first instruction
 * is outside the JIT's subset gets no function.
 */
export function translateBlocks(starts: readonly BlockStart[], layout: CoreLayout): ModuleTranslation {
  const own = new Map<string, number>();
  const functionOf = starts.map((start) => {
    const probe = new Emitter(layout, start.pc, start.host, start.el, NO_LINKS);
    if (start.words.length === 0 || translateInstruction(probe, start.words[0]!) === NO) return -1;
    own.set(entryKey(start.pc, BigInt(start.host) | BigInt(start.el)), own.size);
    return own.size - 1;
  });
  const linker = new Linker(layout.translatedBlock, own);
  const translated = starts
    .filter((_, i) => functionOf[i]! >= 0)
    .map((start) => translateBody(start, layout, linker));
  const nzcvFunction = linker.links.length + translated.length;
  const bodies = translated.map(({ body, count }, i) => {
    for (const call of body.ownCalls) body.out.patchS32(call.at, linker.links.length + call.index);
    for (const at of body.nzcvCalls) body.out.patchS32(at, nzcvFunction);
    return withPrologue(translated[i]!.start, body, count, layout);
  });
  return {
    links: linker.links,
    bodies,
    locals: LOCALS,
    functionOf,
    instructions: translated.map((t) => t.count),
  };
}

/** The block's instructions up to its end; it has at least one (its first is in the subset). */
function translateBody(
  start: BlockStart,
  layout: CoreLayout,
  linker: Linker,
): { start: BlockStart; body: Emitter; count: number } {
  const { words, pc } = start;
  const limit = Math.min(words.length, MAX_BLOCK_INSTRUCTIONS);
  const body = new Emitter(layout, pc, start.host, start.el, linker);
  let count = 0;
  let last: Outcome = NEXT;
  while (count < limit && last !== END) {
    body.index = count;
    body.insnPc = pc + BigInt(count * 4);
    const mark = body.out.length;
    const calls = body.ownCalls.length;
    const nzcvCalls = body.nzcvCalls.length;
    const flags = body.flags;
    const cached = body.cached;
    const outcome = translateInstruction(body, words[count]!);
    if (outcome === NO) {
      body.out.truncate(mark);
      body.ownCalls.length = calls;
      body.nzcvCalls.length = nzcvCalls;
      body.flags = flags;
      body.cached = cached;
      break;
    }
    last = outcome;
    count++;
  }
  // A block ending without a branch continues in the interpreter at the next instruction.
  if (last !== END) body.exit(pc + BigInt(count * 4), count, BLOCK_STOPPED);
  body.setLength(count);
  return { start, body, count };
}

/** The block's function: a prologue (the code is what was translated, no event falls due inside), then its body. */
function withPrologue(start: BlockStart, body: Emitter, count: number, layout: CoreLayout): Bytes {
  const { pc, host, el, words } = start;
  const e = new Emitter(layout, pc, host, el, NO_LINKS);
  for (let i = 0; i < count; i += 2) {
    const pair = i + 1 < count;
    e.i32(0).mem(pair ? Op.i64Load : Op.i32Load, pair ? 3 : 2, host + i * 4);
    if (pair) e.i64((BigInt(words[i + 1]!) << 32n) | BigInt(words[i]!)).op(Op.i64Ne);
    else e.i32(words[i]! | 0).op(Op.i32Ne);
    e.if(() => e.i32(BLOCK_STALE).op(Op.return));
  }
  e.gget(G_INSTRET).i64(BigInt(count)).op(Op.i64Add).gget(G_EVENT_AT).op(Op.i64GtU);
  e.if(() => e.i32(BLOCK_DECLINED).op(Op.return));
  e.out.byte(Op.loop).byte(VOID).bytes(body.out.view());
  e.op(Op.end);
  e.op(0x00); // unreachable: every path through the body has returned
  return e.out;
}

/** The interpreter's top-level decode (execute.ts), restricted to the JIT's subset. */
function translateInstruction(e: Emitter, insn: number): Outcome {
  switch ((insn >>> 25) & 15) {
    case 8:
    case 9:
      return dataProcessingImmediate(e, insn);
    case 10:
    case 11:
      return branch(e, insn);
    case 5:
    case 13:
      return dataProcessingRegister(e, insn);
    case 4:
    case 6:
    case 12:
    case 14:
      return (insn >>> 26) & 1 ? NO : loadStore(e, insn);
    default:
      return NO;
  }
}

// ---- data processing, immediate (data-processing-immediate.ts) ----

function dataProcessingImmediate(e: Emitter, insn: number): Outcome {
  const sf = insn >>> 31 !== 0;
  const rd = insn & 31;
  const rn = (insn >>> 5) & 31;
  switch ((insn >>> 23) & 7) {
    case 0:
    case 1: {
      const imm = signExtend((((insn >>> 5) & 0x7ffff) << 2) | ((insn >>> 29) & 3), 21);
      const value = sf ? (e.insnPc & ~0xfffn) + (imm << 12n) : e.insnPc + imm;
      e.setX(rd, () => e.i64(value & M64));
      return NEXT;
    }
    case 2: {
      const sub = (insn >>> 30) & 1;
      const setFlags = ((insn >>> 29) & 1) !== 0;
      let imm = BigInt((insn >>> 10) & 0xfff);
      if ((insn >>> 22) & 1) imm <<= 12n;
      e.xsp(rn).set(A);
      e.i64(imm).set(B);
      e.addSub(sf, sub !== 0, setFlags);
      if (setFlags) e.setX(rd, () => e.get(R));
      else e.setXSP(rd, () => e.get(R));
      return NEXT;
    }
    case 4: {
      const opc = (insn >>> 29) & 3;
      const n = (insn >>> 22) & 1;
      if (!sf && n) return NO;
      const mask = e.layout.bitmaskImmediate(n, (insn >>> 16) & 0x3f, (insn >>> 10) & 0x3f);
      if (mask === 0n) return NO;
      const imm = sf ? mask : mask & M32;
      e.x(rn).i64(imm).op([Op.i64And, Op.i64Or, Op.i64Xor, Op.i64And][opc]!);
      if (!sf) e.i64(M32).op(Op.i64And);
      e.set(R);
      if (opc === 3) {
        e.logicalFlags(sf);
        e.setX(rd, () => e.get(R));
      } else {
        e.setXSP(rd, () => e.get(R));
      }
      return NEXT;
    }
    case 5: {
      const opc = (insn >>> 29) & 3;
      const hw = (insn >>> 21) & 3;
      if (opc === 1 || (!sf && hw >= 2)) return NO;
      const pos = BigInt(hw * 16);
      const imm = BigInt((insn >>> 5) & 0xffff);
      const mask = sf ? M64 : M32;
      if (opc === 3) {
        e.setX(rd, () => {
          e.x(rd)
            .i64(~(0xffffn << pos) & M64)
            .op(Op.i64And)
            .i64(imm << pos)
            .op(Op.i64Or);
          if (!sf) e.i64(M32).op(Op.i64And);
        });
      } else {
        const value = opc === 2 ? imm << pos : ~(imm << pos) & M64;
        e.setX(rd, () => e.i64(value & mask));
      }
      return NEXT;
    }
    case 6: {
      const opc = (insn >>> 29) & 3;
      const n = (insn >>> 22) & 1;
      const immr = (insn >>> 16) & 0x3f;
      const imms = (insn >>> 10) & 0x3f;
      if (opc === 3 || n !== (sf ? 1 : 0)) return NO;
      if (!sf && (immr >= 32 || imms >= 32)) return NO;
      if (opc === 1) return bitfieldMove(e, insn, sf, n, immr, imms);
      // signedOrUnsignedField()
      const signed = opc === 0;
      const lead = 63 - imms;
      const shiftRight = signed ? Op.i64ShrS : Op.i64ShrU;
      e.setX(rd, () => {
        e.x(rn).i64(BigInt(lead)).op(Op.i64Shl);
        if (imms >= immr) {
          e.i64(BigInt(lead + immr)).op(shiftRight);
        } else {
          e.i64(BigInt(lead)).op(shiftRight);
          e.i64(BigInt((sf ? 64 : 32) - immr)).op(Op.i64Shl);
        }
        if (!sf) e.i64(M32).op(Op.i64And);
      });
      return NEXT;
    }
    case 7:
      return extract(e, insn);
    default:
      return NO;
  }
}

/** EXTR (ROR immediate): the 128- or 64-bit concatenation Xn:Xm shifted right by lsb (extract()). */
function extract(e: Emitter, insn: number): Outcome {
  const sf = insn >>> 31;
  const lsb = (insn >>> 10) & 0x3f;
  if ((insn >>> 29) & 3 || (insn >>> 21) & 1 || ((insn >>> 22) & 1) !== sf || (!sf && lsb >= 32)) return NO;
  const rm = (insn >>> 16) & 31;
  const rn = (insn >>> 5) & 31;
  e.setX(insn & 31, () => {
    if (sf) {
      e.x(rm);
      if (lsb !== 0)
        e.i64(BigInt(lsb))
          .op(Op.i64ShrU)
          .x(rn)
          .i64(BigInt(64 - lsb))
          .op(Op.i64Shl, Op.i64Or);
      return;
    }
    e.x(rn).i64(32n).op(Op.i64Shl).x(rm).i64(M32).op(Op.i64And, Op.i64Or);
    e.i64(BigInt(lsb)).op(Op.i64ShrU).i64(M32).op(Op.i64And);
  });
  return NEXT;
}

/** BFM: the ARM ARM's masks, with the destination's other bits kept (bitfield()). */
function bitfieldMove(e: Emitter, insn: number, sf: boolean, n: number, immr: number, imms: number): Outcome {
  const masks = e.layout.bitfieldMasks(n, imms, immr);
  if (!masks) return NO;
  const sizeMask = sf ? M64 : M32;
  const rd = insn & 31;
  e.x((insn >>> 5) & 31)
    .i64(sizeMask)
    .op(Op.i64And)
    .set(A); // src
  e.x(rd).i64(sizeMask).op(Op.i64And).set(B); // dst
  if (sf) e.get(A).i64(BigInt(immr)).op(Op.i64Rotr);
  else if (immr === 0) e.get(A);
  else {
    e.get(A)
      .i64(BigInt(immr))
      .op(Op.i64ShrU)
      .get(A)
      .i64(BigInt(32 - immr))
      .op(Op.i64Shl, Op.i64Or);
    e.i64(M32).op(Op.i64And);
  }
  e.i64(masks.wmask)
    .op(Op.i64And)
    .get(B)
    .i64(~masks.wmask & M64)
    .op(Op.i64And, Op.i64Or)
    .set(R); // bot
  e.setX(rd, () => {
    e.get(B)
      .i64(~masks.tmask & M64)
      .op(Op.i64And)
      .get(R)
      .i64(masks.tmask)
      .op(Op.i64And, Op.i64Or);
    e.i64(sizeMask).op(Op.i64And);
  });
  return NEXT;
}

// ---- data processing, register (data-processing-register.ts) ----

/** Pushes shiftReg(v, type, amount, sf) of the value `value` pushes. */
function shifted(e: Emitter, value: () => void, type: number, amount: number, sf: boolean): void {
  const a = BigInt(amount);
  value();
  if (sf) {
    if (type === 0) e.i64(a).op(Op.i64Shl);
    else if (type === 1) e.i64(a).op(Op.i64ShrU);
    else if (type === 2) e.i64(a).op(Op.i64ShrS);
    else e.i64(a).op(Op.i64Rotr);
    return;
  }
  e.i64(M32).op(Op.i64And);
  if (type === 0) e.i64(a).op(Op.i64Shl).i64(M32).op(Op.i64And);
  else if (type === 1) e.i64(a).op(Op.i64ShrU);
  else if (type === 2) e.op(Op.i64Extend32S).i64(a).op(Op.i64ShrS).i64(M32).op(Op.i64And);
  else if (amount !== 0) {
    e.set(T);
    e.get(T)
      .i64(a)
      .op(Op.i64ShrU)
      .get(T)
      .i64(32n - a)
      .op(Op.i64Shl, Op.i64Or)
      .i64(M32)
      .op(Op.i64And);
  }
}

/** Pushes extendReg(v, option, shift). */
function extended(e: Emitter, value: () => void, option: number, shift: number): void {
  value();
  switch (option) {
    case 0:
      e.i64(0xffn).op(Op.i64And);
      break;
    case 1:
      e.i64(0xffffn).op(Op.i64And);
      break;
    case 2:
      e.i64(M32).op(Op.i64And);
      break;
    case 4:
      e.op(Op.i64Extend8S);
      break;
    case 5:
      e.op(Op.i64Extend16S);
      break;
    case 6:
      e.op(Op.i64Extend32S);
      break;
  }
  if (shift) e.i64(BigInt(shift)).op(Op.i64Shl);
}

function dataProcessingRegister(e: Emitter, insn: number): Outcome {
  const op1 = (insn >>> 28) & 1;
  const op2 = (insn >>> 21) & 0xf;
  const sf = insn >>> 31 !== 0;
  const rd = insn & 31;
  const rn = (insn >>> 5) & 31;
  const rm = (insn >>> 16) & 31;
  if (!op1) {
    if (!(op2 & 8)) {
      // logicalShifted
      const opc = (insn >>> 29) & 3;
      const amount = (insn >>> 10) & 0x3f;
      if (!sf && amount >= 32) return NO;
      shifted(e, () => e.x(rm), (insn >>> 22) & 3, amount, sf);
      if ((insn >>> 21) & 1) e.i64(-1n).op(Op.i64Xor);
      e.set(B);
      e.x(rn)
        .get(B)
        .op(opc === 1 ? Op.i64Or : opc === 2 ? Op.i64Xor : Op.i64And);
      if (!sf) e.i64(M32).op(Op.i64And);
      e.set(R);
      if (opc === 3) e.logicalFlags(sf);
      e.setX(rd, () => e.get(R));
      return NEXT;
    }
    const sub = ((insn >>> 30) & 1) !== 0;
    const setFlags = ((insn >>> 29) & 1) !== 0;
    if (op2 & 1) {
      // addSubExtended
      const amount = (insn >>> 10) & 7;
      if (((insn >>> 22) & 3) !== 0 || amount > 4) return NO;
      extended(e, () => e.x(rm), (insn >>> 13) & 7, amount);
      e.set(B);
      e.xsp(rn).set(A);
      e.addSub(sf, sub, setFlags);
      if (setFlags) e.setX(rd, () => e.get(R));
      else e.setXSP(rd, () => e.get(R));
      return NEXT;
    }
    // addSubShifted
    const shift = (insn >>> 22) & 3;
    const amount = (insn >>> 10) & 0x3f;
    if (shift === 3 || (!sf && amount >= 32)) return NO;
    shifted(e, () => e.x(rm), shift, amount, sf);
    e.set(B);
    e.x(rn).set(A);
    e.addSub(sf, sub, setFlags);
    e.setX(rd, () => e.get(R));
    return NEXT;
  }
  if (op2 === 0) {
    // addSubCarry: ADC, ADCS, SBC, SBCS
    if (((insn >>> 10) & 0x3f) !== 0) return NO;
    const sub = ((insn >>> 30) & 1) !== 0;
    e.x(rn).set(A);
    e.x(rm);
    if (sub) e.i64(-1n).op(Op.i64Xor);
    e.set(B);
    e.addWithCarry(sf, ((insn >>> 29) & 1) !== 0);
    e.setX(rd, () => e.get(R));
    return NEXT;
  }
  if (op2 === 2) {
    // conditionalCompare
    if (!((insn >>> 29) & 1) || (insn >>> 10) & 1 || (insn >>> 4) & 1) return NO;
    const sub = ((insn >>> 30) & 1) !== 0;
    // Either way NZCV is written whole, so pending flags are only tested, never computed.
    e.condition((insn >>> 12) & 15);
    e.ifElse(
      () => {
        e.x(rn).set(A);
        if ((insn >>> 11) & 1) e.i64(BigInt(rm));
        else e.x(rm);
        e.set(B);
        e.addSub(sf, sub, true).materializeFlags();
      },
      () => e.i32((insn & 15) << 28).gset(G_NZCV),
    );
    e.flags = FLAGS_GLOBAL;
    return NEXT;
  }
  if (op2 === 4) {
    // conditionalSelect
    if ((insn >>> 29) & 1 || (insn >>> 11) & 1) return NO;
    const op = (insn >>> 30) & 1;
    const o2 = (insn >>> 10) & 1;
    e.setX(rd, () => {
      e.x(rn);
      e.x(rm);
      if (op) e.i64(-1n).op(Op.i64Xor);
      if (o2) e.i64(1n).op(Op.i64Add);
      e.condition((insn >>> 12) & 15).op(Op.select);
      if (!sf) e.i64(M32).op(Op.i64And);
    });
    return NEXT;
  }
  if (op2 === 6) return (insn >>> 30) & 1 ? oneSource(e, insn) : twoSource(e, insn);
  if (op2 & 8) {
    // threeSource: MADD, MSUB, SMADDL, SMSUBL, UMADDL, UMSUBL
    const op31 = (insn >>> 21) & 7;
    const o0 = (insn >>> 15) & 1;
    if ((op31 === 2 || op31 === 6) && sf && !o0 && !((insn >>> 29) & 3))
      return multiplyHigh(e, insn, op31 === 2);
    if ((insn >>> 29) & 3 || (op31 !== 0 && op31 !== 1 && op31 !== 5) || (op31 !== 0 && !sf)) return NO;
    e.setX(rd, () => {
      e.x((insn >>> 10) & 31);
      e.x(rn);
      if (op31 === 1) e.op(Op.i64Extend32S);
      if (op31 === 5) e.i64(M32).op(Op.i64And);
      e.x(rm);
      if (op31 === 1) e.op(Op.i64Extend32S);
      if (op31 === 5) e.i64(M32).op(Op.i64And);
      e.op(Op.i64Mul);
      e.op(o0 ? Op.i64Sub : Op.i64Add);
      if (!sf) e.i64(M32).op(Op.i64And);
    });
    return NEXT;
  }
  return NO;
}

/** SMULH, UMULH: the high half of the 128-bit product from 32-bit halves (alu.ts umulh, smulh). */
function multiplyHigh(e: Emitter, insn: number, signed: boolean): Outcome {
  e.x((insn >>> 5) & 31).set(A);
  e.x((insn >>> 16) & 31).set(B);
  e.get(A).i64(M32).op(Op.i64And).get(B).i64(32n).op(Op.i64ShrU, Op.i64Mul).set(V); // lh
  e.get(A).i64(32n).op(Op.i64ShrU).get(B).i64(M32).op(Op.i64And, Op.i64Mul).set(W); // hl
  e.get(A).i64(M32).op(Op.i64And).get(B).i64(M32).op(Op.i64And, Op.i64Mul).i64(32n).op(Op.i64ShrU);
  e.get(V).i64(M32).op(Op.i64And, Op.i64Add).get(W).i64(M32).op(Op.i64And, Op.i64Add).set(T); // mid
  e.get(A).i64(32n).op(Op.i64ShrU).get(B).i64(32n).op(Op.i64ShrU, Op.i64Mul);
  e.get(V).i64(32n).op(Op.i64ShrU, Op.i64Add).get(W).i64(32n).op(Op.i64ShrU, Op.i64Add);
  e.get(T).i64(32n).op(Op.i64ShrU, Op.i64Add).set(R);
  if (signed) {
    e.get(R).get(B).i64(0n).get(A).i64(0n).op(Op.i64LtS, Op.select, Op.i64Sub).set(R);
    e.get(R).get(A).i64(0n).get(B).i64(0n).op(Op.i64LtS, Op.select, Op.i64Sub).set(R);
  }
  e.setX(insn & 31, () => e.get(R));
  return NEXT;
}

/** twoSource: UDIV, SDIV, LSLV, LSRV, ASRV, RORV (CRC32 stays in the interpreter). */
function twoSource(e: Emitter, insn: number): Outcome {
  if ((insn >>> 29) & 1) return NO;
  const sf = insn >>> 31 !== 0;
  const opcode = (insn >>> 10) & 0x3f;
  const rd = insn & 31;
  const rn = (insn >>> 5) & 31;
  const rm = (insn >>> 16) & 31;
  if (opcode >= 8 && opcode <= 11) {
    // shiftReg(n, type, m & 63 or m & 31, sf); wasm shifts take the amount modulo 64 themselves.
    const type = opcode & 3;
    e.setX(rd, () => {
      if (sf) {
        e.x(rn).x(rm).op([Op.i64Shl, Op.i64ShrU, Op.i64ShrS, Op.i64Rotr][type]!);
        return;
      }
      e.x(rm).i64(31n).op(Op.i64And).set(B);
      e.x(rn).i64(M32).op(Op.i64And);
      if (type === 0) e.get(B).op(Op.i64Shl);
      else if (type === 1) e.get(B).op(Op.i64ShrU);
      else if (type === 2) e.op(Op.i64Extend32S).get(B).op(Op.i64ShrS);
      else {
        e.set(T);
        e.get(T).get(B).op(Op.i64ShrU).get(T).i64(32n).get(B).op(Op.i64Sub, Op.i64Shl, Op.i64Or);
      }
      e.i64(M32).op(Op.i64And);
    });
    return NEXT;
  }
  if (opcode !== 2 && opcode !== 3) return NO;
  const signed = opcode === 3;
  // UDIV/SDIV: a zero divisor gives 0; SDIV of the most negative value by -1 gives it back.
  e.x(rn).set(A);
  e.x(rm).set(B);
  if (!sf) {
    if (signed) {
      e.get(A).op(Op.i64Extend32S).set(A);
      e.get(B).op(Op.i64Extend32S).set(B);
    } else {
      e.get(A).i64(M32).op(Op.i64And).set(A);
      e.get(B).i64(M32).op(Op.i64And).set(B);
    }
  }
  e.i64(0n).set(R);
  e.get(B).op(Op.i64Eqz, Op.i32Eqz);
  e.if(() => {
    if (signed && sf) {
      e.get(A)
        .i64(-(1n << 63n))
        .op(Op.i64Eq)
        .get(B)
        .i64(-1n)
        .op(Op.i64Eq, Op.i32And);
      e.ifElse(
        () => e.get(A).set(R),
        () => e.get(A).get(B).op(Op.i64DivS).set(R),
      );
    } else {
      e.get(A)
        .get(B)
        .op(signed ? Op.i64DivS : Op.i64DivU)
        .set(R);
    }
  });
  e.setX(rd, () => {
    e.get(R);
    if (!sf) e.i64(M32).op(Op.i64And);
  });
  return NEXT;
}

/** oneSource: RBIT, REV16, REV32, REV, CLZ, CLS (the PAC forms stay in the interpreter). */
function oneSource(e: Emitter, insn: number): Outcome {
  if ((insn >>> 29) & 1 || ((insn >>> 16) & 31) !== 0) return NO;
  const opcode = (insn >>> 10) & 0x3f;
  const sf = insn >>> 31 !== 0;
  if (opcode > 5 || (opcode === 3 && !sf)) return NO;
  e.x((insn >>> 5) & 31).set(A);
  if (opcode <= 3) {
    // RBIT swaps bits within bytes and then reverses all bytes; REV16, REV32 and REV reverse the
    // bytes within halfwords, words and the doubleword (reverseBytesInHalves(), rbit64()).
    if (opcode === 0) {
      swapFields(e, 1n, 0x5555_5555_5555_5555n);
      swapFields(e, 2n, 0x3333_3333_3333_3333n);
      swapFields(e, 4n, 0x0f0f_0f0f_0f0f_0f0fn);
    }
    swapFields(e, 8n, 0x00ff_00ff_00ff_00ffn);
    if (opcode !== 1) swapFields(e, 16n, 0x0000_ffff_0000_ffffn);
    if (opcode === 0 || opcode === 3) e.get(A).i64(32n).op(Op.i64Rotr).set(A);
    e.setX(insn & 31, () => {
      e.get(A);
      if (!sf && opcode === 0) e.i64(32n).op(Op.i64ShrU);
      if (!sf) e.i64(M32).op(Op.i64And);
    });
    return NEXT;
  }
  e.setX(insn & 31, () => {
    if (opcode === 4) {
      e.get(A);
      if (sf) e.op(Op.i64Clz);
      else e.op(Op.i32WrapI64, Op.i32Clz, Op.i64ExtendI32U);
      return;
    }
    // CLS: clz(x ^ (x >> 1)) - 1, arithmetic shift, on the operand size
    if (sf) e.get(A).get(A).i64(1n).op(Op.i64ShrS, Op.i64Xor, Op.i64Clz).i64(1n).op(Op.i64Sub);
    else {
      e.get(A).op(Op.i32WrapI64).get(A).op(Op.i32WrapI64).i32(1).op(Op.i32ShrS, Op.i32Xor, Op.i32Clz);
      e.i32(1).op(Op.i32Sub, Op.i64ExtendI32U).i64(M32).op(Op.i64And);
    }
  });
  return NEXT;
}

/** A = ((A >> shift) & mask) | ((A & mask) << shift): swaps neighbouring fields of `shift` bits. */
function swapFields(e: Emitter, shift: bigint, mask: bigint): void {
  e.get(A).i64(shift).op(Op.i64ShrU).i64(mask).op(Op.i64And);
  e.get(A).i64(mask).op(Op.i64And).i64(shift).op(Op.i64Shl, Op.i64Or).set(A);
}

// ---- branches (branches.ts) ----

/** Jumps to `target` (constant) from the block's last instruction: loops to its start, or leaves. */
function jump(e: Emitter, target: bigint): void {
  if (target === e.startPc) e.backEdge(e.index + 1);
  else e.branchTo(target, e.index + 1);
}

/** A conditional branch leaves the block when taken; otherwise the block goes on with the next instruction. */
function conditional(e: Emitter, condition: () => void, target: bigint): Outcome {
  condition();
  e.if(() => jump(e, target & M64));
  return NEXT;
}

function branch(e: Emitter, insn: number): Outcome {
  if (((insn >>> 26) & 0x1f) === 0x05) {
    const target = (e.insnPc + (signExtend(insn & 0x3ff_ffff, 26) << 2n)) & M64;
    if (insn >>> 31) e.setX(30, () => e.i64(e.insnPc + 4n));
    jump(e, target);
    return END;
  }
  const rt = insn & 31;
  switch (insn >>> 24) {
    case 0x34:
    case 0x35:
    case 0xb4:
    case 0xb5: {
      const target = e.insnPc + (signExtend((insn >>> 5) & 0x7ffff, 19) << 2n);
      return conditional(
        e,
        () => {
          e.x(rt);
          if (!(insn >>> 31)) e.i64(M32).op(Op.i64And);
          e.op(Op.i64Eqz);
          if ((insn >>> 24) & 1) e.op(Op.i32Eqz);
        },
        target,
      );
    }
    case 0x36:
    case 0x37:
    case 0xb6:
    case 0xb7: {
      const bit = ((insn >>> 31) << 5) | ((insn >>> 19) & 31);
      const target = e.insnPc + (signExtend((insn >>> 5) & 0x3fff, 14) << 2n);
      return conditional(
        e,
        () => {
          e.x(rt).i64(BigInt(bit)).op(Op.i64ShrU).i64(1n).op(Op.i64And, Op.i32WrapI64);
          if (!((insn >>> 24) & 1)) e.op(Op.i32Eqz);
        },
        target,
      );
    }
    case 0x54: {
      if (insn & 0x10) return NO;
      const target = e.insnPc + (signExtend((insn >>> 5) & 0x7ffff, 19) << 2n);
      return conditional(e, () => e.condition(insn & 15), target);
    }
    case 0xd5:
      if ((insn >>> 22) & 3) return NO;
      if ((insn >>> 19) & 2) return moveSystemRegister(e, insn);
      if (((insn >>> 19) & 3) === 1) return systemInstruction(e, insn);
      return ((insn >>> 12) & 15) === 4 ? daifImmediate(e, insn) : hintOrBarrier(insn);
    case 0xd6:
    case 0xd7: {
      const opc = (insn >>> 21) & 15;
      if (((insn >>> 16) & 31) !== 31 || ((insn >>> 10) & 0x3f) !== 0 || (insn & 31) !== 0) return NO;
      if (opc !== 0 && opc !== 1 && opc !== 2) return NO;
      // BR, BLR, RET: a misaligned target goes to the interpreter, which raises the fault.
      e.x((insn >>> 5) & 31).set(V);
      e.get(V).i64(3n).op(Op.i64And, Op.i64Eqz, Op.i32Eqz);
      e.if(() => e.bail());
      if (opc === 1) e.setX(30, () => e.i64(e.insnPc + 4n));
      e.branchToRegister(V, e.index + 1);
      return END;
    }
    default:
      return NO;
  }
}

/**
 * The hints and barriers that do nothing in the interpreter (system.ts executeSystem: the NOP space of
 * hint(), DSB, DMB and ISB of barrier()); WFE, WFI, SEV, SEVL and CLREX stay there.
 */
function hintOrBarrier(insn: number): Outcome {
  if ((insn >>> 21) & 1 || ((insn >>> 19) & 3) !== 0) return NO;
  const crn = (insn >>> 12) & 15;
  if ((insn & 31) !== 31 || ((insn >>> 16) & 7) !== 3) return NO;
  if (crn === 2) {
    const op = (insn >>> 5) & 0x7f;
    return op >= 2 && op <= 5 ? NO : NEXT;
  }
  if (crn === 3) {
    const op2 = (insn >>> 5) & 7;
    return op2 >= 4 && op2 <= 6 ? NEXT : NO;
  }
  return NO;
}

/**
 * SYS at EL1 (system.ts systemInstruction(), cacheOrTranslate()): the cache maintenance that does
 * nothing on this coherent memory (IC IALLU(IS), IC IVAU, DC IVAC, ISW, CSW, CISW, CVAC, CVAU,
 * CIVAC: stale translations are caught by each block's code check), and DC ZVA, which zeroes the
 * aligned block through the write translation cache (mmu.ts zeroBlock() probes it first too). AT,
 * TLBI and every SYS at EL0 (trapped or UNDEFINED by SCTLR_EL1) stay in the interpreter.
 */
function systemInstruction(e: Emitter, insn: number): Outcome {
  const op1 = (insn >>> 16) & 7;
  const crm = (insn >>> 8) & 15;
  const op2 = (insn >>> 5) & 7;
  if ((insn >>> 21) & 1 || ((insn >>> 12) & 15) !== 7 || e.el === 0) return NO;
  if (op1 === 0) {
    const nothing =
      ((crm === 1 || crm === 5) && op2 === 0) ||
      (crm === 6 && (op2 === 1 || op2 === 2)) ||
      ((crm === 10 || crm === 14) && op2 === 2);
    return nothing ? NEXT : NO;
  }
  if (op1 !== 3 || op2 !== 1) return NO;
  if (crm === 5 || crm === 10 || crm === 11 || crm === 14) return NEXT;
  if (crm !== 4) return NO;
  const bytes = e.layout.dcZvaBytes;
  e.x(insn & 31)
    .i64(~BigInt(bytes - 1) & M64)
    .op(Op.i64And)
    .set(T);
  e.probe(true, T, bytes, H);
  for (let offset = 0; offset < bytes; offset += 8) e.get(H).i64(0n).mem(Op.i64Store, 3, offset);
  e.selfModifyCheck(H, bytes);
  return NEXT;
}

/**
 * MSR DAIFSet/DAIFClr at EL1 (system.ts msrImmediate(); EL0 needs SCTLR_EL1.UMA): the new mask, then
 * the event check the interpreter requests.
 */
function daifImmediate(e: Emitter, insn: number): Outcome {
  if ((insn >>> 21) & 1 || (insn & 31) !== 31 || ((insn >>> 16) & 7) !== 3 || e.el === 0) return NO;
  const op2 = (insn >>> 5) & 7;
  if (op2 !== 6 && op2 !== 7) return NO;
  const bits = ((insn >>> 8) & 15) << 6;
  e.gget(G_DAIF);
  if (op2 === 6) e.i32(bits).op(Op.i32Or);
  else e.i32(~bits).op(Op.i32And);
  e.gset(G_DAIF);
  return eventCheckAfter(e);
}

/**
 * requestEventCheck() (eventAt = 0) after an instruction that can unmask or mask an interrupt: the
 * block ends after it, so the run loop checks events before the next instruction, as it does after
 * the interpreter's.
 */
function eventCheckAfter(e: Emitter): Outcome {
  e.i64(0n).gset(G_EVENT_AT);
  e.exit(e.insnPc + 4n, e.index + 1, BLOCK_STOPPED);
  return END;
}

const KEY = CORE_SYSTEM_REGISTER_KEYS;

/**
 * MRS and MSR of the registers that are plain state at the block's EL, with no trap and no side
 * effect (sysregs.ts readSystemRegister, writeSystemRegister): NZCV, TPIDR_EL0, TPIDRRO_EL0 (written
 * at EL1), and at EL1 TPIDR_EL1, SP_EL0, DCZID_EL0 (read) and DAIF, whose write ends the block with
 * the interpreter's event check. EL0's accesses to the EL1 ones trap or are UNDEFINED: left out.
 */
function moveSystemRegister(e: Emitter, insn: number): Outcome {
  const read = ((insn >>> 21) & 1) !== 0;
  const key = (insn >>> 5) & 0xffff;
  const rt = insn & 31;
  const el1 = e.el !== 0;
  const { layout } = e;
  let address: number;
  switch (key) {
    case KEY.NZCV:
      if (read) e.materializeFlags().setX(rt, () => e.gget(G_NZCV).op(Op.i64ExtendI32U));
      else {
        e.x(rt)
          .op(Op.i32WrapI64)
          .i32(0xf000_0000 | 0)
          .op(Op.i32And)
          .gset(G_NZCV);
        e.flags = FLAGS_GLOBAL;
      }
      return NEXT;
    case KEY.DAIF:
      if (!el1) return NO;
      if (read) {
        e.setX(rt, () => e.gget(G_DAIF).op(Op.i64ExtendI32U));
        return NEXT;
      }
      e.x(rt).op(Op.i32WrapI64).i32(0x3c0).op(Op.i32And).gset(G_DAIF);
      return eventCheckAfter(e);
    case KEY.DCZID_EL0:
      if (!read || !el1) return NO;
      e.setX(rt, () => e.i64(layout.dczidEl1));
      return NEXT;
    case KEY.TPIDR_EL0:
      address = layout.tpidrEl0;
      break;
    case KEY.TPIDRRO_EL0:
      if (!read && !el1) return NO;
      address = layout.tpidrroEl0;
      break;
    case KEY.TPIDR_EL1:
      if (!el1) return NO;
      address = layout.tpidrEl1;
      break;
    case KEY.SP_EL0:
      if (!el1) return NO;
      // With SPSel 0, SP_EL0 is the current SP and the access UNDEFINED: the interpreter raises it.
      // With SPSel 1 at EL1, SP_EL1 is the current SP and SP_EL0 is in its bank slot.
      e.gget(G_SP_SEL).op(Op.i32Eqz);
      e.if(() => e.bail());
      address = layout.spEl0Slot;
      break;
    default:
      return NO;
  }
  if (read) e.setX(rt, () => e.i32(0).mem(Op.i64Load, 3, address));
  else e.i32(0).x(rt).mem(Op.i64Store, 3, address);
  return NEXT;
}

// ---- loads and stores (load-store.ts) ----

/** classify(): 0 a load or store, 1 a prefetch, 2 unallocated. */
function classify(size: number, opc: number): number {
  if (opc < 2) return 0;
  if (size === 3) return opc === 2 ? 1 : 2;
  if (size === 2 && opc === 3) return 2;
  return 0;
}

/**
 * The single-register transfer at the VA in local `va` (transfer()), then the base writeback
 * `writeback` (pushes the new base) in the interpreter's order.
 */
function single(
  e: Emitter,
  size: number,
  opc: number,
  rt: number,
  rn: number,
  writeback: (() => void) | undefined,
): void {
  const bytes = 1 << size;
  if (opc === 0) {
    e.x(rt).set(V);
    e.probe(true, T, bytes, H);
    e.storeTo(H, size, V);
    if (writeback) e.setXSP(rn, writeback);
    e.selfModifyCheck(H, bytes);
    return;
  }
  e.probe(false, T, bytes, H);
  e.loadFrom(H, size, opc).set(V);
  if (writeback) e.setXSP(rn, writeback);
  e.setX(rt, () => e.get(V));
}

function loadStore(e: Emitter, insn: number): Outcome {
  const op = (insn >>> 24) & 0x3b;
  const rt = insn & 31;
  const rn = (insn >>> 5) & 31;
  if ((op & 0x38) === 0x28) return pair(e, insn);
  const size = insn >>> 30;
  if (op === 0x08)
    return (insn >>> 23) & 1 ? ordered(e, insn, size, rt, rn) : exclusive(e, insn, size, rt, rn);
  const opc = (insn >>> 22) & 3;
  const kind = classify(size, opc);
  if (op === 0x39) {
    if (kind === 2) return NO;
    if (kind === 1) return NEXT; // PRFM
    e.base(rn);
    e.get(A)
      .i64(BigInt(((insn >>> 10) & 0xfff) << size))
      .op(Op.i64Add)
      .set(T);
    single(e, size, opc, rt, rn, undefined);
    return NEXT;
  }
  if (op !== 0x38) return NO;
  if ((insn >>> 21) & 1) {
    // registerOffset
    if (((insn >>> 10) & 3) !== 2) return NO;
    const option = (insn >>> 13) & 7;
    if (!(option & 2) || kind === 2) return NO;
    if (kind === 1) return NEXT;
    e.base(rn);
    e.get(A);
    extended(e, () => e.x((insn >>> 16) & 31), option, (insn >>> 12) & 1 ? size : 0);
    e.op(Op.i64Add).set(T);
    single(e, size, opc, rt, rn, undefined);
    return NEXT;
  }
  // unscaledOrIndexed
  const mode = (insn >>> 10) & 3;
  const imm = signExtend((insn >>> 12) & 0x1ff, 9) & M64;
  if (kind === 2) return NO;
  if (kind === 1) return mode === 0 ? NEXT : NO;
  if (mode === 2) return NO; // LDTR/STTR stay in the interpreter
  e.base(rn);
  if (mode === 1) e.get(A).set(T);
  else e.get(A).i64(imm).op(Op.i64Add).set(T);
  const writeback = mode === 0 ? undefined : () => e.get(A).i64(imm).op(Op.i64Add);
  single(e, size, opc, rt, rn, writeback);
  return NEXT;
}

/**
 * LDAR/STLR: a single load or store at the base with no offset, which faults when not aligned
 * (exclusiveOrOrdered()); this core orders all accesses, so acquire and release add nothing.
 */
function ordered(e: Emitter, insn: number, size: number, rt: number, rn: number): Outcome {
  if ((insn >>> 21) & 1 || !((insn >>> 15) & 1)) return NO;
  e.base(rn);
  e.get(A).set(T);
  if (size) {
    e.get(T)
      .i64(BigInt((1 << size) - 1))
      .op(Op.i64And, Op.i64Eqz, Op.i32Eqz);
    e.if(() => e.bail());
  }
  single(e, size, (insn >>> 22) & 1, rt, rn, undefined);
  return NEXT;
}

/**
 * LDXR/STXR, LDXP/STXP and their acquire/release forms (exclusiveOrOrdered()): an aligned access
 * through the translation cache (translateForHost() probes it first); a load reserves the host
 * address and size in the core's exclusive monitor, a store checks and clears the reservation and
 * writes only when it matched, then sets Ws to 0 (done) or 1.
 */
function exclusive(e: Emitter, insn: number, size: number, rt: number, rn: number): Outcome {
  const pairOf = (insn >>> 21) & 1;
  if (pairOf && size < 2) return NO;
  const isLoad = ((insn >>> 22) & 1) !== 0;
  const rt2 = (insn >>> 10) & 31;
  const bytes = 1 << size;
  const total = pairOf ? 2 * bytes : bytes;
  e.base(rn);
  e.get(A).set(T);
  if (total > 1) {
    e.get(T)
      .i64(BigInt(total - 1))
      .op(Op.i64And, Op.i64Eqz, Op.i32Eqz);
    e.if(() => e.bail());
  }
  e.probe(!isLoad, T, total, H);
  if (isLoad) {
    e.loadFrom(H, size, 1).set(V);
    if (pairOf) {
      e.get(H)
        .mem(size === 3 ? Op.i64Load : Op.i64Load32U, size, bytes)
        .set(W);
      e.setX(rt, () => e.get(V));
      e.setX(rt2, () => e.get(W));
    } else {
      e.setX(rt, () => e.get(V));
    }
    e.get(H).gset(G_RESERVED_ADDRESS);
    e.i32(total).gset(G_RESERVED_SIZE);
    return NEXT;
  }
  // H2 = the reservation matched (checkAndClearExclusiveMonitor()).
  e.gget(G_RESERVED_ADDRESS)
    .get(H)
    .op(Op.i32Xor)
    .gget(G_RESERVED_SIZE)
    .i32(total)
    .op(Op.i32Xor, Op.i32Or, Op.i32Eqz);
  e.set(H2);
  e.i32(e.layout.noReservation).gset(G_RESERVED_ADDRESS);
  e.get(H2);
  e.if(() => {
    e.x(rt).set(V);
    e.storeTo(H, size, V);
    if (pairOf) {
      e.get(H).x(rt2);
      e.mem(size === 3 ? Op.i64Store : Op.i64Store32, size, bytes);
    }
  });
  e.setX((insn >>> 16) & 31, () => e.get(H2).op(Op.i32Eqz, Op.i64ExtendI32U));
  e.selfModifyCheck(H, total);
  return NEXT;
}

function pair(e: Emitter, insn: number): Outcome {
  const opc = insn >>> 30;
  const mode = (insn >>> 23) & 3;
  const isLoad = ((insn >>> 22) & 1) !== 0;
  if (opc === 3 || (opc === 1 && (!isLoad || mode === 0))) return NO;
  const size = opc === 2 ? 3 : 2;
  const bytes = 1 << size;
  const imm = (signExtend((insn >>> 15) & 0x7f, 7) << BigInt(size)) & M64;
  const rt = insn & 31;
  const rt2 = (insn >>> 10) & 31;
  const rn = (insn >>> 5) & 31;
  e.base(rn);
  if (mode === 1) e.get(A).set(T);
  else e.get(A).i64(imm).op(Op.i64Add).set(T);
  e.probe(!isLoad, T, bytes, H);
  e.get(T).i64(BigInt(bytes)).op(Op.i64Add).set(R);
  e.probe(!isLoad, R, bytes, H2);
  const writeback = mode === 1 || mode === 3;
  if (!isLoad) {
    e.x(rt).set(V);
    e.x(rt2).set(W);
    e.storeTo(H, size, V);
    e.storeTo(H2, size, W);
    if (writeback) e.setXSP(rn, () => e.get(A).i64(imm).op(Op.i64Add));
    e.selfModifyCheck(H, bytes);
    e.selfModifyCheck(H2, bytes);
    return NEXT;
  }
  const loadOpc = opc === 1 ? 2 : 1;
  e.loadFrom(H, size, loadOpc).set(V);
  e.loadFrom(H2, size, loadOpc).set(W);
  if (writeback) e.setXSP(rn, () => e.get(A).i64(imm).op(Op.i64Add));
  e.setX(rt, () => e.get(V));
  e.setX(rt2, () => e.get(W));
  return NEXT;
}
