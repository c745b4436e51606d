// An ELF PD from a Microkit build, run at EL0 on the emulated core as seL4 runs a native thread:
// its libmicrokit handler loop is C, so each event resumes the thread in its receive syscall and
// runs it until it receives again. Its syscalls and invocations go through Microkit's CSpace
// layout to the kernel model; its exceptions become seL4 faults.

import {
  FaultError,
  FAST_MESSAGE_REGISTERS,
  InvocationLabel,
  IpcBuffer,
  MESSAGE_REGISTERS,
  NS_PER_INSTRUCTION,
  Sel4ErrorCode,
  SyscallRegister,
  USER_CONTEXT_REGISTERS,
  decodeMessageInfo,
  encodeMessageInfo,
  illegalOperationMessage,
  invocationLabelName,
  messageInfo,
  nullCapMessage,
  syscallName,
  type Fault,
  type Kernel,
  type MessageInfo,
} from "../kernel/index.ts";
import type { NativeExit, Vcpu } from "../machine/cpu.ts";
import {
  ExceptionClass,
  decodeDataAbort,
  decodeSysregAccess,
  exceptionClass,
  extendLoadedValue,
  faultStatus,
  instructionSpecificSyndrome,
  isPermissionFault,
  isDataAbort,
  stepPastInstruction,
  systemRegisterName,
} from "../machine/arch/index.ts";
import type { MmioDevice } from "../machine/devices/mmio.ts";
import type { ProtectionDomain } from "../sdf/model.ts";
import { hex } from "../util/hex.ts";
import { FAULT_BADGE_BIT, INPUT_CAP, PPC_BADGE_BIT, capSlot, type CapSlot } from "./cspace.ts";
import type { ElfFile } from "./elf-file.ts";
import type { NativeAddressSpace } from "./native-address-space.ts";
import type { Pd } from "./pd.ts";
import type { PdProgram } from "./program.ts";

/** Below the stack, this many bytes of unmapped space make a fault a stack overflow. */
const STACK_GUARD = 0x1000;
/** Instructions per run of the core before the host looks at the clock again. */
const SLICE = 200_000;
/** An event handler that runs this long without returning to its receive is reported as stuck. */
const MAX_INSTRUCTIONS_PER_EVENT = 2_000_000_000;

export interface NativeThreadContext {
  readonly kernel: Kernel;
  readonly vcpu: Vcpu;
  readonly space: NativeAddressSpace;
  readonly ipcBuffer: number;
  readonly stackTop: number;
  /** Moves the core's counter to the kernel's virtual time before the thread runs. */
  readonly syncCounter: (nowNs: number) => void;
  /** Where a fault happened in the program's source, for the monitor. */
  readonly locate: (pc: number) => string | undefined;
  /** The board's device model behind a physical address (a PD's uncached device maps). */
  readonly deviceAt: (paddr: number) => { device: MmioDevice; offset: number } | undefined;
  /** The lowest address of the PD's stack, to tell a stack overflow from other faults. */
  readonly stackBottom: number;
}

/** How the thread came back to its receive: with a reply (ReplyRecv) or without (Recv, Wait). */
type Receive = { reply: MessageInfo | undefined };

/** A fault of an ELF PD, with where it happened in the program, a remedy and its registers. */
export class NativeFault extends FaultError {
  constructor(
    fault: Fault,
    message: string,
    readonly location: string | undefined,
    readonly details: readonly string[],
  ) {
    super(fault, message);
    this.name = "NativeFault";
  }
}

export class ElfProgram implements PdProgram {
  constructor(
    private readonly elf: ElfFile,
    private readonly description: ProtectionDomain,
    private readonly context: NativeThreadContext,
  ) {}

  /** Instructions the PD's thread has executed (the IPC benchmark's measure). */
  get instructionsRetired(): number {
    return this.context.vcpu.instructionsRetired;
  }

  init(pd: Pd): void {
    const { vcpu } = this.context;
    for (let n = 0; n <= 30; n++) vcpu.setX(n, 0n);
    vcpu.pc = BigInt(this.elf.entry);
    vcpu.setSp(0, BigInt(this.context.stackTop));
    vcpu.pstate = 0; // EL0t, interrupts unmasked
    this.runUntilReceive(pd);
  }

  notified(pd: Pd, channel: number): void {
    this.resume(pd, 1n << BigInt(channel), messageInfo(0, 0));
  }

  protected(pd: Pd, channel: number, info: MessageInfo): MessageInfo {
    const received = this.resume(pd, (1n << PPC_BADGE_BIT) | BigInt(channel), info);
    // A C server that receives again without replying: its caller gets an empty reply (on seL4 it
    // would stay blocked; docs/c-pds.md lists the difference).
    return received.reply ?? messageInfo(0, 0);
  }

  fault(pd: Pd, child: number, info: MessageInfo): boolean | MessageInfo {
    return this.resume(pd, (1n << FAULT_BADGE_BIT) | BigInt(child), info).reply ?? false;
  }

  /** Returns from the receive with `badge`, `info` and the PD's message registers, and runs. */
  private resume(pd: Pd, badge: bigint, info: MessageInfo): Receive {
    const { vcpu } = this.context;
    this.writeMessage(pd, info);
    vcpu.setX(SyscallRegister.cap, badge);
    vcpu.setX(SyscallRegister.info, encodeMessageInfo(info));
    return this.runUntilReceive(pd);
  }

  private runUntilReceive(pd: Pd): Receive {
    const { vcpu, kernel } = this.context;
    const start = vcpu.instructionsRetired;
    for (;;) {
      this.context.syncCounter(kernel.clock.nowNs);
      const before = vcpu.instructionsRetired;
      const exit = vcpu.runNative(SLICE);
      kernel.clock.advance((vcpu.instructionsRetired - before) * NS_PER_INSTRUCTION);
      if (exit.kind === "el0-sync" && exceptionClass(exit.esr) === ExceptionClass.SVC64) {
        const received = this.syscall(pd);
        if (received) return received;
        continue;
      }
      if (exit.kind === "stage2-abort" && this.deviceAccess(exit)) continue;
      if (exit.kind === "sysreg" && this.timerAccess(pd, exit)) continue;
      if (exit.kind === "slice-end" || exit.kind === "wfi" || exit.kind === "wfe") {
        if (vcpu.instructionsRetired - start > MAX_INSTRUCTIONS_PER_EVENT) {
          this.raise(
            userException(vcpu, 0, 0),
            "has run 2e9 instructions without returning to its event loop",
          );
        }
        continue;
      }
      this.exception(exit);
    }
  }

  // ---- syscalls ----

  private syscall(pd: Pd): Receive | undefined {
    const { vcpu } = this.context;
    const number = vcpu.getX(SyscallRegister.number);
    const name = syscallName(number);
    const cap = capPointer(vcpu.getX(SyscallRegister.cap));
    switch (name) {
      case "Recv":
      case "Wait":
        return this.receive(pd, name, cap, undefined);
      case "ReplyRecv":
        return this.receive(pd, name, cap, this.readMessage(pd));
      case "NBSendRecv":
      case "NBSendWait": {
        // The send goes to x8's capability, the receive is on x0's.
        this.send(pd, capPointer(vcpu.getX(8)));
        return this.receive(pd, name, cap, undefined);
      }
      case "Send":
      case "NBSend":
        this.send(pd, cap);
        return undefined;
      case "Call":
        this.call(pd, cap);
        return undefined;
      case "DebugPutChar":
        pd.dbgPutc(Number(vcpu.getX(0) & 0xffn));
        return undefined;
      case "Yield":
      case "DebugNameThread":
      case "DebugSnapshot":
      case "DebugDumpScheduler":
      case "NBRecv":
      case "NBWait":
        return undefined;
      case "DebugCapIdentify":
        vcpu.setX(0, this.slotOf(cap) ? 1n : 0n);
        return undefined;
      case "DebugHalt":
        pd.dbgPuts(`virtkit: ${this.description.name} called seL4_DebugHalt; the PD stops\n`);
        this.raise(userException(vcpu, 0, 0), "called seL4_DebugHalt");
        break;
      default:
        this.raise(
          { kind: "UnknownSyscall", syscall: number },
          `made syscall ${BigInt.asIntN(64, number)}, which seL4 does not have`,
        );
    }
    return undefined;
  }

  private receive(pd: Pd, name: string, cap: number, reply: MessageInfo | undefined): Receive {
    if (cap !== INPUT_CAP) {
      pd.dbgPuts(
        `virtkit: ${this.description.name}: seL4_${name} on slot ${cap}: virtkit runs a PD's receives only on ` +
          `its input endpoint (slot ${INPUT_CAP}), as libmicrokit's handler loop does\n`,
      );
      this.raise(userException(this.context.vcpu, 0, 0), `received on slot ${cap}`);
    }
    return { reply };
  }

  /** seL4_Send/NBSend: a signal on a notification, or an invocation whose reply is dropped. */
  private send(pd: Pd, cap: number): void {
    const slot = this.slotOf(cap);
    if (slot?.kind === "notification") {
      pd.notify(slot.channel);
      return;
    }
    this.invoke(pd, cap, slot);
  }

  /** seL4_Call: a PPC on an endpoint, or an invocation of a kernel object. */
  private call(pd: Pd, cap: number): void {
    const slot = this.slotOf(cap);
    if (slot?.kind === "endpoint") {
      const info = this.readMessage(pd);
      const reply = pd.ppcall(slot.channel, info);
      this.writeMessage(pd, reply);
      this.context.vcpu.setX(SyscallRegister.cap, 0n);
      this.context.vcpu.setX(SyscallRegister.info, encodeMessageInfo(reply));
      return;
    }
    const result = this.invoke(pd, cap, slot);
    this.writeMessage(pd, result);
    this.context.vcpu.setX(SyscallRegister.info, encodeMessageInfo(result));
  }

  /** The capability in `cap` as Microkit lays out the CSpace, if this PD has one there. */
  private slotOf(cap: number): CapSlot | undefined {
    const slot = capSlot(cap);
    if (!slot) return undefined;
    const pd = this.description;
    const has = (mask: bigint, channel: number): boolean => ((mask >> BigInt(channel)) & 1n) === 1n;
    switch (slot.kind) {
      case "input":
      case "reply":
        return slot;
      case "smc":
        return pd.smc ? slot : undefined;
      case "notification":
        return has(pd.notifyMask, slot.channel) ? slot : undefined;
      case "endpoint":
        return has(pd.ppMask, slot.channel) ? slot : undefined;
      case "irq":
        return has(pd.irqMask, slot.channel) ? slot : undefined;
      case "tcb":
        return pd.children.some((c) => c.id === slot.child) ? slot : undefined;
      case "vm-tcb":
      case "vcpu":
        return pd.virtualMachine?.vcpus.some((v) => v.id === slot.vcpu) ? slot : undefined;
    }
  }

  /** An invocation: the label names the method; returns the reply (an error in its label). */
  private invoke(pd: Pd, cap: number, slot: CapSlot | undefined): MessageInfo {
    const info = this.readMessage(pd);
    if (!slot) {
      pd.dbgPuts(`${nullCapMessage(cap)}\n`);
      pd.dbgPuts(`virtkit: ${this.nullCapHint(cap)}\n`);
      return messageInfo(Sel4ErrorCode.seL4_InvalidCapability, 0);
    }
    const label = info.label;
    const mr = (i: number): bigint => pd.mrGet(i);
    const illegal = (object: string): MessageInfo => {
      pd.dbgPuts(`${illegalOperationMessage(object)}\n`);
      pd.dbgPuts(
        `virtkit: ${this.description.name} invoked slot ${cap} (${describeSlot(slot)}) with label ${label}` +
          ` (${invocationLabelName(label) ?? "no such label"}), which that object does not take\n`,
      );
      return messageInfo(Sel4ErrorCode.seL4_IllegalOperation, 0);
    };
    const ok = messageInfo(Sel4ErrorCode.seL4_NoError, 0);
    switch (slot.kind) {
      case "irq":
        if (label !== InvocationLabel.IRQAckIRQ) return illegal("IRQHandler");
        pd.irqAck(slot.channel);
        return ok;
      case "tcb":
        switch (label) {
          case InvocationLabel.TCBSuspend:
            pd.pdStop(slot.child);
            return ok;
          case InvocationLabel.TCBResume:
            pd.pdResume(slot.child);
            return ok;
          case InvocationLabel.TCBWriteRegisters:
            // With resume and a PC (MR0 bit 0, MR1 >= 1, MR2), as microkit_pd_restart writes them.
            if ((mr(0) & 1n) === 1n && mr(1) >= 1n) pd.pdRestart(slot.child, mr(2));
            return ok;
          default:
            return illegal("TCB");
        }
      case "vm-tcb":
        return this.invokeVmTcb(pd, slot.vcpu, label, illegal);
      case "vcpu":
        return this.invokeVcpu(pd, slot.vcpu, label, illegal);
      case "smc": {
        if (label !== InvocationLabel.ARMSMCCall) return illegal("ARMSMC");
        const result = pd.armSmcCall(Array.from({ length: 8 }, (_, i) => mr(i)));
        result.forEach((value, i) => pd.mrSet(i, value));
        return messageInfo(Sel4ErrorCode.seL4_NoError, 8);
      }
      case "notification":
      case "endpoint":
      case "input":
      case "reply":
        return illegal(
          slot.kind === "notification" ? "Notification" : slot.kind === "reply" ? "Reply" : "Endpoint",
        );
    }
  }

  private invokeVmTcb(pd: Pd, vcpu: number, label: number, illegal: (o: string) => MessageInfo): MessageInfo {
    const ok = messageInfo(Sel4ErrorCode.seL4_NoError, 0);
    if (label === InvocationLabel.TCBSuspend) {
      pd.vcpuStop(vcpu);
      return ok;
    }
    if (label === InvocationLabel.TCBResume) return ok;
    const view = pd.vcpuRegisters(vcpu);
    if (!view) return messageInfo(Sel4ErrorCode.seL4_InvalidCapability, 0);
    const count = Math.min(Number(pd.mrGet(1)), USER_CONTEXT_REGISTERS.length);
    if (label === InvocationLabel.TCBReadRegisters) {
      USER_CONTEXT_REGISTERS.slice(0, count).forEach((name, i) => {
        const value =
          name === "pc"
            ? view.pc
            : name === "spsr"
              ? BigInt(view.pstate)
              : name.startsWith("x")
                ? view.getX(Number(name.slice(1)))
                : 0n;
        pd.mrSet(i, value);
      });
      return messageInfo(Sel4ErrorCode.seL4_NoError, count);
    }
    if (label === InvocationLabel.TCBWriteRegisters) {
      const resume = (pd.mrGet(0) & 1n) === 1n;
      USER_CONTEXT_REGISTERS.slice(0, count).forEach((name, i) => {
        const value = pd.mrGet(2 + i);
        if (name === "pc") view.pc = value;
        else if (name === "spsr") view.pstate = Number(value & 0xffff_ffffn);
        else if (name.startsWith("x")) view.setX(Number(name.slice(1)), value);
      });
      if (resume) pd.vcpuRestart(vcpu, view.pc);
      return ok;
    }
    return illegal("TCB");
  }

  private invokeVcpu(pd: Pd, vcpu: number, label: number, illegal: (o: string) => MessageInfo): MessageInfo {
    const object = pd.vcpuObject(vcpu);
    if (!object) return messageInfo(Sel4ErrorCode.seL4_InvalidCapability, 0);
    const mr = (i: number): bigint => pd.mrGet(i);
    const result = (error: number): MessageInfo => messageInfo(error, 0);
    switch (label) {
      case InvocationLabel.ARMVCPUReadReg: {
        const value = mr(0) < 2n ** 32n ? object.readRegister(Number(mr(0))) : undefined;
        if (value === undefined) return result(Sel4ErrorCode.seL4_InvalidArgument);
        pd.mrSet(0, value);
        return messageInfo(Sel4ErrorCode.seL4_NoError, 1);
      }
      case InvocationLabel.ARMVCPUWriteReg: {
        const written = mr(0) < 2n ** 32n && object.writeRegister(Number(mr(0)), mr(1));
        return result(written ? Sel4ErrorCode.seL4_NoError : Sel4ErrorCode.seL4_InvalidArgument);
      }
      case InvocationLabel.ARMVCPUInjectIRQ: {
        // MR0: virq 15:0, priority 23:16, group 31:24, index 39:32.
        const word = mr(0);
        const field = (shift: bigint, mask: bigint): number => Number((word >> shift) & mask);
        return result(
          object.injectIrq(field(0n, 0xffffn), field(16n, 0xffn), field(24n, 0xffn), field(32n, 0xffn)),
        );
      }
      case InvocationLabel.ARMVCPUAckVPPI:
        return result(mr(0) < 2n ** 32n ? object.ackVppi(Number(mr(0))) : Sel4ErrorCode.seL4_InvalidArgument);
      default:
        return illegal("ARMVCPU");
    }
  }

  /** Which <channel>, <irq>, child or vCPU the empty slot stands for, and what to add to the system. */
  private nullCapHint(cap: number): string {
    const slot = capSlot(cap);
    const name = this.description.name;
    const end = (channel: number, extra = ""): string => `<end pd="${name}" id="${channel}"${extra}/>`;
    if (!slot) return `slot ${cap} of '${name}' is not one Microkit fills (see microkit.h's BASE_*_CAP)`;
    switch (slot.kind) {
      case "notification":
        return `slot ${cap} is channel ${slot.channel}'s notification: '${name}' needs ${end(slot.channel)} in a <channel>`;
      case "endpoint":
        return `slot ${cap} is channel ${slot.channel}'s endpoint: '${name}' needs ${end(slot.channel, ' pp="true"')} in a <channel> to a PD of higher priority`;
      case "irq":
        return `slot ${cap} is channel ${slot.channel}'s IRQ handler: give '${name}' <irq irq="..." id="${slot.channel}"/>`;
      case "tcb":
        return `slot ${cap} is child ${slot.child}'s TCB: '${name}' has no child <protection_domain id="${slot.child}">`;
      case "vm-tcb":
      case "vcpu":
        return `slot ${cap} is vCPU ${slot.vcpu}'s ${slot.kind === "vcpu" ? "VCPU object" : "TCB"}: '${name}' needs a <virtual_machine> with <vcpu id="${slot.vcpu}"/>`;
      case "smc":
        return `slot ${cap} is the SMC capability: give '${name}' smc="true"`;
      default:
        return `slot ${cap}`;
    }
  }

  // ---- messages ----

  /** The message the thread sends: its info word and MRs (x2–x5, then the IPC buffer) into the PD's MRs. */
  private readMessage(pd: Pd): MessageInfo {
    const { vcpu, space, ipcBuffer } = this.context;
    const info = decodeMessageInfo(vcpu.getX(SyscallRegister.info));
    const count = Math.min(info.count, MESSAGE_REGISTERS);
    for (let i = 0; i < count; i++) {
      const value =
        i < FAST_MESSAGE_REGISTERS
          ? vcpu.getX(SyscallRegister.firstMr + i)
          : (space.load64(ipcBuffer + IpcBuffer.msg + 8 * i) ?? 0n);
      pd.mrSet(i, value);
    }
    return info;
  }

  /** The message the thread receives: MRs into x2–x5 and the IPC buffer. */
  private writeMessage(pd: Pd, info: MessageInfo): void {
    const { vcpu, space, ipcBuffer } = this.context;
    const count = Math.min(info.count, MESSAGE_REGISTERS);
    for (let i = 0; i < count; i++) {
      const value = pd.mrGet(i);
      if (i < FAST_MESSAGE_REGISTERS) vcpu.setX(SyscallRegister.firstMr + i, value);
      space.store64(ipcBuffer + IpcBuffer.msg + 8 * i, value);
    }
  }

  // ---- exceptions ----

  /**
   * A load or store to a device page (stage 1 let it through; RAM is all stage 2 maps for native
   * threads): the board's device model performs it, as the hardware would, and the thread goes on.
   */
  private deviceAccess(exit: Extract<NativeExit, { kind: "stage2-abort" }>): boolean {
    const target = this.context.deviceAt(exit.ipa);
    if (!target || !isDataAbort(exit.esr)) return false;
    const access = decodeDataAbort(exit.esr);
    if (!access.valid) return false;
    const { vcpu } = this.context;
    const rt = access.register;
    if (access.write) {
      const value = rt === 31 ? 0n : vcpu.getX(rt);
      target.device.write(target.offset, access.size, BigInt.asUintN(access.size * 8, value), 0);
    } else {
      const value = target.device.read(target.offset, access.size, 0);
      if (rt !== 31) vcpu.setX(rt, extendLoadedValue(value, access));
    }
    stepPastInstruction(vcpu, exit.esr);
    return true;
  }

  /**
   * CNTP_CTL_EL0, CNTP_CVAL_EL0 and CNTP_TVAL_EL0, which Microkit's seL4 lets EL0 use: the core
   * leaves them to the host, and the PDs share the one physical timer (its PPI 30 is an <irq>).
   */
  private timerAccess(pd: Pd, exit: Extract<NativeExit, { kind: "sysreg" }>): boolean {
    const access = decodeSysregAccess(exit.esr);
    const name = systemRegisterName(access);
    const timer = pd.armTimer;
    const { vcpu } = this.context;
    const value = access.rt === 31 ? 0n : vcpu.getX(access.rt);
    let result: bigint | undefined;
    switch (name) {
      case "CNTP_CTL_EL0":
        if (access.read) result = BigInt(timer.control);
        else timer.control = Number(value & 0xffff_ffffn);
        break;
      case "CNTP_CVAL_EL0":
        if (access.read) result = timer.compare;
        else timer.compare = value;
        break;
      case "CNTP_TVAL_EL0":
        // TVAL is the signed 32-bit distance from the counter to the compare value.
        if (access.read) result = BigInt.asUintN(64, BigInt.asIntN(32, timer.compare - timer.counter()));
        else timer.compare = timer.counter() + BigInt.asIntN(32, value);
        break;
      default:
        return false;
    }
    if (result !== undefined && access.rt !== 31) vcpu.setX(access.rt, result);
    stepPastInstruction(vcpu, exit.esr);
    return true;
  }

  private exception(exit: NativeExit): never {
    const { vcpu } = this.context;
    const pc = vcpu.pc;
    if (exit.kind === "el0-sync") {
      const ec = exceptionClass(exit.esr);
      if (ec === ExceptionClass.DATA_ABORT_LOWER || ec === ExceptionClass.INSTRUCTION_ABORT_LOWER) {
        const prefetch = ec === ExceptionClass.INSTRUCTION_ABORT_LOWER;
        const write = !prefetch && decodeDataAbort(exit.esr).write;
        this.raise(
          { kind: "VMFault", ip: pc, addr: exit.far, prefetch, fsr: exit.esr },
          `${prefetch ? "fetched" : "accessed"} ${hex(exit.far)}`,
          this.remedy(Number(exit.far), prefetch ? "execute" : write ? "write" : "read", exit.esr),
        );
      }
      this.raise(
        userException(vcpu, ec, instructionSpecificSyndrome(exit.esr)),
        `took exception class ${hex(ec)}`,
      );
    }
    if (exit.kind === "stage2-abort") {
      // A device page: virtkit's ELF PDs reach device memory only through the kernel's model.
      this.raise(
        { kind: "VMFault", ip: pc, addr: exit.far, prefetch: false, fsr: exit.esr },
        `accessed device memory at ${hex(exit.far)}; ELF PDs cannot drive device models yet`,
      );
    }
    this.raise(userException(vcpu, 0, 0), `stopped the core: ${exit.kind}`);
  }

  /** What went wrong in the PD's terms: which map or the stack, and what to change. */
  private remedy(address: number, access: "read" | "write" | "execute", esr: number): string[] {
    const pd = this.description;
    const { stackBottom } = this.context;
    if (address < stackBottom && address >= stackBottom - STACK_GUARD) {
      return [
        `virtkit: ${hex(address)} is just below the stack [${hex(stackBottom)}..${hex(stackBottom + pd.stackSize)}): ` +
          `a stack overflow; give <protection_domain name="${pd.name}"> a larger stack_size`,
      ];
    }
    const segment = this.elf.segments.find((g) => address >= g.vaddr && address < g.vaddr + g.memsz);
    if (segment) {
      const rights = `${segment.read ? "r" : "-"}${segment.write ? "w" : "-"}${segment.execute ? "x" : "-"}`;
      return [
        `virtkit: ${access} of ${hex(address)} in the program's segment [${hex(segment.vaddr)}..` +
          `${hex(segment.vaddr + segment.memsz)}) (${rights}), which does not allow it: a stray pointer or jump`,
      ];
    }
    const map = pd.maps.find((m) => address >= m.vaddr && address < m.vaddr + m.region.size);
    if (map && isPermissionFault(faultStatus(esr))) {
      const perms = `${map.perms.read ? "r" : ""}${map.perms.write ? "w" : ""}${map.perms.execute ? "x" : ""}`;
      return [
        `virtkit: ${access} of ${hex(address)} in memory region '${map.mr}' mapped at ${hex(map.vaddr)} with ` +
          `perms="${perms}": add ${access === "execute" ? "x" : access === "write" ? "w" : "r"} to that <map> if the access is meant`,
      ];
    }
    if (map) return [];
    return [
      `virtkit: no <map> or program segment of '${pd.name}' covers ${hex(address)}: map a memory region there, or fix the pointer`,
    ];
  }

  private raise(fault: Fault, what: string, remedy: readonly string[] = []): never {
    const { vcpu } = this.context;
    const location = this.context.locate(Number(vcpu.pc));
    throw new NativeFault(fault, `${this.description.name} ${what}`, location, [
      ...remedy,
      ...registerLines(vcpu),
    ]);
  }
}

/** A capability pointer as a number; one too large to be exact names no slot (nor does any slot aliased by it). */
function capPointer(word: bigint): number {
  return word <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(word) : Number.MAX_SAFE_INTEGER;
}

function userException(vcpu: Vcpu, number: number, code: number): Fault {
  return {
    kind: "UserException",
    ip: vcpu.pc,
    sp: vcpu.getSp(0),
    spsr: BigInt(vcpu.pstate),
    number,
    code,
    detail: `exception class ${hex(number)} (ISS ${hex(code)}) at pc ${hex(vcpu.pc)}`,
  };
}

/** The thread's registers as the monitor prints them: pc, sp, spsr, then x0–x30, four a line. */
function registerLines(vcpu: Vcpu): string[] {
  const word = (value: bigint): string => `0x${value.toString(16).padStart(16, "0")}`;
  const lines = [
    `Registers: pc ${word(vcpu.pc)}  sp ${word(vcpu.getSp(0))}  spsr ${word(BigInt(vcpu.pstate))}`,
  ];
  for (let n = 0; n <= 30; n += 4) {
    const names = Array.from({ length: Math.min(4, 31 - n) }, (_, i) => n + i);
    lines.push(names.map((r) => `x${r}`.padEnd(3) + ` ${word(vcpu.getX(r))}`).join("  "));
  }
  return lines;
}

function describeSlot(slot: CapSlot): string {
  return "channel" in slot
    ? `${slot.kind} of channel ${slot.channel}`
    : "child" in slot
      ? `TCB of child ${slot.child}`
      : "vcpu" in slot
        ? `${slot.kind} ${slot.vcpu}`
        : slot.kind;
}
