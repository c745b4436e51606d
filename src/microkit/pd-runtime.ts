// libmicrokit's main() and handler loop for a TypeScript PD: the PD's thread body.

import {
  ThreadAbandoned,
  messageInfo,
  type EventBody,
  type KernelEvent,
  type MessageInfo,
} from "../kernel/index.ts";
import type { DeferredSlot, Pd } from "./pd.ts";
import type { PdProgram } from "./program.ts";
import { NativeFault } from "./elf-program.ts";

export interface RuntimeHooks {
  /** The monitor's handling of a passive request: unbind the scheduling context, report. */
  becomePassive(): void;
  /** The kernel's IRQ Ack and signal for deferred actions. */
  irqAck(channel: number): void;
  notify(channel: number): void;
}

export class PdRuntime implements EventBody {
  readonly kind = "event";
  /** Where the last fault was raised in the PD's source, for the monitor's report. */
  faultLocation: string | undefined;
  /** More lines for the monitor's report of the last fault (an ELF PD's registers and a remedy). */
  faultDetails: readonly string[] = [];

  constructor(
    private readonly pd: Pd,
    private readonly program: PdProgram,
    private readonly programPath: string,
    private readonly deferred: DeferredSlot,
    private readonly hooks: RuntimeHooks,
  ) {}

  handle(event: KernelEvent): MessageInfo | undefined {
    try {
      const reply = this.dispatch(event);
      this.flushDeferred();
      return reply;
    } catch (error) {
      if (error instanceof NativeFault) {
        this.faultLocation = error.location;
        this.faultDetails = error.details;
      } else if (!(error instanceof ThreadAbandoned)) {
        this.faultLocation = locate(error, this.programPath);
        this.faultDetails = [];
      }
      throw error;
    }
  }

  private dispatch(event: KernelEvent): MessageInfo | undefined {
    const { pd, program } = this;
    switch (event.kind) {
      case "start":
        this.deferred.action = undefined;
        program.init(pd);
        // A passive PD's request to the monitor takes the one deferred slot, as in libmicrokit.
        if (pd.passive) this.deferred.action = { kind: "passive" };
        // libmicrokit acks every IRQ once before its first receive (seL4 issue 1536).
        for (let channel = 0; channel < 64; channel++) {
          if ((pd.irqs >> BigInt(channel)) & 1n) pd.irqAck(channel);
        }
        return undefined;
      case "signal":
        for (let channel = 0, bits = event.badge; bits !== 0n; channel++, bits >>= 1n) {
          if (bits & 1n) program.notified(pd, channel);
        }
        return undefined;
      case "call":
        if (!program.protected) {
          this.missingEntryPoint("protected");
          return undefined;
        }
        return checkReply(program.protected(pd, event.badge, event.info));
      case "fault": {
        if (!program.fault) {
          this.missingEntryPoint("fault");
          return undefined;
        }
        const result = program.fault(pd, event.badge, event.info);
        if (result === false) return undefined;
        return result === true ? messageInfo(0, 0) : result;
      }
    }
  }

  /** libmicrokit's weak default entry points: report, then crash as microkit_internal_crash(0). */
  private missingEntryPoint(entry: "protected" | "fault"): void {
    this.pd.dbgPuts(`${this.pd.name} is missing the '${entry}' entry point\n`);
    this.pd.memory.write32(0, 0);
  }

  private flushDeferred(): void {
    const action = this.deferred.action;
    if (!action) return;
    this.deferred.action = undefined;
    if (action.kind === "passive") this.hooks.becomePassive();
    else if (action.kind === "notify") this.hooks.notify(action.channel);
    else this.hooks.irqAck(action.channel);
  }
}

/** protected() must answer every call: a PD written in JavaScript may forget to return. */
function checkReply(reply: unknown): MessageInfo {
  const info = reply as Partial<MessageInfo> | undefined;
  if (typeof info?.label !== "number" || typeof info.count !== "number") {
    throw new TypeError(`protected() returned ${String(reply)}: return the reply, e.g. pd.msginfoNew(0, 0)`);
  }
  return reply as MessageInfo;
}

/** The first stack frame inside the PD's own source file, as file:line:column. */
function locate(error: unknown, programPath: string): string | undefined {
  const stack = error instanceof Error ? error.stack : undefined;
  if (!stack) return undefined;
  const name = programPath.split(/[\\/]/).pop()!;
  for (const line of stack.split("\n").slice(1)) {
    const match = /\(?((?:file:\/\/)?[^()\s]+):(\d+):(\d+)\)?\s*$/.exec(line.trim());
    if (match && match[1]!.endsWith(name)) return `${name}:${match[2]}:${match[3]}`;
  }
  return undefined;
}
