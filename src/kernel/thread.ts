// Thread control blocks. A thread's "body" is how it executes: an event thread (a PD's
// handler loop) runs one received event at a time as a synchronous call; a compute thread
// (a vCPU) runs slices of virtual time and stops on faults.

import type { Fault } from "./faults.ts";
import { MESSAGE_REGISTERS, type MessageInfo } from "./message.ts";
import type { Notification } from "./notification.ts";
import type { SchedulingContext } from "./scheduling-context.ts";

export type KernelEvent =
  /** The thread's first run, or its first run after a restart. */
  | { kind: "start" }
  /** The bound notification's word, cleared on receipt. */
  | { kind: "signal"; badge: bigint }
  /** A protected procedure call on the thread's endpoint; MRs already copied in. */
  | { kind: "call"; badge: number; info: MessageInfo }
  /** A child's fault message; MRs already copied in. */
  | { kind: "fault"; badge: number; info: MessageInfo };

export interface EventBody {
  readonly kind: "event";
  /**
   * Handles one event and returns when the thread is back in its receive: the reply for
   * calls and faults, or undefined for no reply. Throwing faults the thread.
   */
  handle(event: KernelEvent): MessageInfo | undefined;
}

export interface SliceResult {
  /** Virtual time consumed. */
  usedNs: number;
  /** A fault that stops the thread until its handler replies. */
  fault?: Fault;
}

export interface ComputeBody {
  readonly kind: "compute";
  /** Executes for at most `maxNs` of virtual time, starting at virtual time `nowNs`. */
  run(maxNs: number, nowNs: number): SliceResult;
  /**
   * While the thread is blocked on a fault: the virtual time at which something it waits
   * for happens by itself, such as a sleeping vCPU's timer.
   */
  wakeupAt?(): number | undefined;
  /** That time has come: the fault to raise instead of the one it is blocked on, if still due. */
  wake?(): Fault | undefined;
  /** The fault it was blocked on was withdrawn (a restart) before its handler received it. */
  faultWithdrawn?(fault: Fault): void;
}

export type ThreadBody = EventBody | ComputeBody;

export type ThreadState =
  /** Not started, or suspended (TCB_Suspend). */
  | "inactive"
  | "ready"
  /** Executing: the innermost thread on the host call stack. */
  | "running"
  /** On the host call stack beneath a higher-priority thread. */
  | "preempted"
  /** On the host call stack, waiting for the reply to its PPC. */
  | "calling"
  /** An event thread waiting in its receive. */
  | "receiving"
  /** Waiting for its fault handler's reply. */
  | "fault-blocked"
  /** Blocked for good: a PPC to a server that will never receive. */
  | "blocked"
  /** Out of budget until its scheduling context's next period. */
  | "throttled";

/** Where a thread's faults go: its parent's endpoint with a badge, or the monitor. */
export type FaultHandler = { thread: Thread; badge: number } | "monitor";

export interface EndpointMessage {
  kind: "fault";
  badge: number;
  info: MessageInfo;
  mrs: bigint[];
  from: Thread;
}

export class Thread {
  state: ThreadState = "inactive";
  notification: Notification | undefined;
  readonly mrs = new BigUint64Array(MESSAGE_REGISTERS);
  /** Messages waiting on this thread's endpoint (fault IPC). */
  readonly endpointQueue: EndpointMessage[] = [];
  /** A passive thread has given its scheduling context to its notification. */
  passive = false;
  /** The next dispatch runs the start event (first run or restart). */
  startPending = false;
  /** The thread's host frames must unwind: it was stopped, restarted or blocked for good. */
  abandoned = false;
  /** The fault this thread is blocked on, while fault-blocked. */
  pendingFault: Fault | undefined;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly priority: number,
    readonly sc: SchedulingContext,
    readonly body: ThreadBody,
    public faultHandler: FaultHandler,
  ) {}

  get onStack(): boolean {
    return this.state === "running" || this.state === "preempted" || this.state === "calling";
  }
}

/**
 * Unwinds a thread's host frames when the kernel will not let it continue (it was
 * stopped, restarted, or blocked for good). The kernel catches it at the thread's own
 * dispatch; PD code must let it pass.
 */
export class ThreadAbandoned extends Error {
  constructor(readonly thread: Thread) {
    super(`thread '${thread.name}' cannot continue`);
    this.name = "ThreadAbandoned";
  }
}

/** Thrown by kernel-model code (memory accessors) to fault the current thread. */
export class FaultError extends Error {
  constructor(
    readonly fault: Fault,
    message: string,
  ) {
    super(message);
    this.name = "FaultError";
  }
}
