// The seL4 MCS model: priorities, scheduling contexts, notifications, endpoint calls,
// IRQ handlers and fault delivery on one core.
//
// Event threads run on the host call stack. When a signal makes a higher-priority thread
// runnable, that thread runs *inside* the signalling call before it returns, exactly as
// seL4 switches to it before the sender resumes. Lower or equal priorities are queued and
// run when the threads above them go back to their receive. Compute threads (vCPUs) run
// only from the top-level loop, slice by slice.

import { faultMessage, type Fault } from "./faults.ts";
import { IrqHandler, type IrqTrigger } from "./irq.ts";
import { messageInfo, transferMessageRegisters, type MessageInfo } from "./message.ts";
import { Notification } from "./notification.ts";
import { SchedulingContext } from "./scheduling-context.ts";
import {
  FaultError,
  Thread,
  ThreadAbandoned,
  type ComputeBody,
  type FaultHandler,
  type KernelEvent,
  type ThreadBody,
} from "./thread.ts";
import { VirtualClock } from "./time.ts";

const PRIORITIES = 256;

export interface KernelOptions {
  /** Virtual time charged for each event a thread handles (kernel entry and handler). */
  eventCostNs?: number;
  /** Longest slice a compute thread runs before the scheduler looks again. */
  maxSliceNs?: number;
  /** Receives faults of threads whose handler is the monitor. */
  onMonitorFault?: (thread: Thread, fault: Fault) => void;
}

export interface ThreadOptions {
  name: string;
  priority: number;
  budgetUs: number;
  periodUs: number;
  body: ThreadBody;
  faultHandler?: FaultHandler;
}

export class Kernel {
  readonly clock = new VirtualClock();
  private readonly readyQueues: Thread[][] = Array.from({ length: PRIORITIES }, () => []);
  private readonly irqHandlers = new Map<number, IrqHandler>();
  private readonly threads: Thread[] = [];
  private currentThread: Thread | undefined;
  private readonly eventCostNs: number;
  private readonly maxSliceNs: number;
  private readonly onMonitorFault: (thread: Thread, fault: Fault) => void;

  constructor(options: KernelOptions = {}) {
    this.eventCostNs = options.eventCostNs ?? 1000;
    this.maxSliceNs = options.maxSliceNs ?? 1_000_000;
    this.onMonitorFault = options.onMonitorFault ?? (() => {});
  }

  get current(): Thread | undefined {
    return this.currentThread;
  }

  createThread(options: ThreadOptions): Thread {
    if (!Number.isInteger(options.priority) || options.priority < 0 || options.priority >= PRIORITIES) {
      throw new RangeError(`thread '${options.name}': priority ${options.priority} is outside 0..255`);
    }
    const sc = new SchedulingContext(options.budgetUs, options.periodUs);
    const thread = new Thread(
      this.threads.length,
      options.name,
      options.priority,
      sc,
      options.body,
      options.faultHandler ?? "monitor",
    );
    this.threads.push(thread);
    return thread;
  }

  bindNotification(thread: Thread): Notification {
    thread.notification ??= new Notification(thread);
    return thread.notification;
  }

  createIrqHandler(irq: number, trigger: IrqTrigger, notification: Notification, bit: number): IrqHandler {
    if (this.irqHandlers.has(irq)) throw new Error(`IRQ ${irq} already has a handler`);
    const handler = new IrqHandler(irq, trigger, notification, 1n << BigInt(bit));
    this.irqHandlers.set(irq, handler);
    return handler;
  }

  /** Makes an inactive thread runnable (TCB_Resume); event threads begin with their start event. */
  resume(thread: Thread): void {
    if (thread.state !== "inactive") return;
    if (thread.body.kind === "event") thread.startPending = true;
    this.makeReady(thread);
  }

  /**
   * TCB_WriteRegisters with resume: the thread starts again from its entry point, whatever
   * it was doing. An event thread runs its start event again.
   */
  restart(thread: Thread): void {
    this.cancelIpc(thread);
    if (thread.body.kind === "event") thread.startPending = true;
    if (thread.onStack) {
      thread.abandoned = true;
      return;
    }
    this.removeReady(thread);
    thread.state = "inactive";
    this.makeReady(thread);
    this.preemptIfHigher();
  }

  /** TCB_Suspend. */
  suspend(thread: Thread): void {
    this.cancelIpc(thread);
    thread.startPending = false;
    if (thread.onStack) {
      thread.abandoned = true;
      thread.state = "inactive";
      return;
    }
    this.removeReady(thread);
    thread.state = "inactive";
  }

  /**
   * TCB_Resume of a suspended thread: an event thread goes back to its receive (and runs if events
   * wait for it), a compute thread runs again. A thread that is not suspended is left alone.
   */
  resumeSuspended(thread: Thread): void {
    if (thread.state !== "inactive" || thread.startPending || thread.onStack) return;
    if (thread.body.kind === "compute" || this.hasEvents(thread)) {
      this.makeReady(thread);
      this.preemptIfHigher();
    } else {
      thread.state = "receiving";
    }
  }

  makePassive(thread: Thread): void {
    thread.passive = true;
  }

  /** seL4_Signal: ORs `badge` into the word; a higher-priority receiver runs before this returns. */
  signal(notification: Notification, badge: bigint): void {
    notification.word |= badge;
    const receiver = notification.bound;
    if (receiver.state === "receiving") this.makeReady(receiver);
    this.preemptIfHigher();
  }

  /**
   * seL4_Call on an endpoint whose receiver is `callee`: the caller blocks, the callee
   * handles the call at its own priority (on the caller's scheduling context if passive)
   * and replies.
   */
  call(callee: Thread, badge: number, info: MessageInfo): MessageInfo {
    const caller = this.requireCurrent("seL4_Call");
    if (callee.state !== "receiving" || callee.body.kind !== "event") {
      // The server never receives again: seL4 leaves the caller blocked on the endpoint.
      caller.state = "blocked";
      caller.abandoned = true;
      throw new ThreadAbandoned(caller);
    }
    transferMessageRegisters(caller.mrs, callee.mrs, info.count);
    caller.state = "calling";
    callee.state = "running";
    this.currentThread = callee;
    this.chargeEvent(callee.passive ? caller : callee);
    const reply = this.deliver(callee, { kind: "call", badge, info });
    this.currentThread = caller;
    if (reply !== undefined) this.returnToReceive(callee);
    if (caller.abandoned) throw new ThreadAbandoned(caller);
    if (reply === undefined) {
      // The server faulted or was stopped: the reply never comes.
      caller.state = "blocked";
      caller.abandoned = true;
      throw new ThreadAbandoned(caller);
    }
    transferMessageRegisters(callee.mrs, caller.mrs, reply.count);
    caller.state = "running";
    this.preemptIfHigher();
    return reply;
  }

  /** IRQHandler_Ack. */
  irqAck(handler: IrqHandler): void {
    if (handler.ack()) this.deliverIrq(handler);
  }

  /** A hardware interrupt line changed level (from a device model). */
  setIrqLine(irq: number, high: boolean): void {
    const handler = this.irqHandlers.get(irq);
    if (handler?.setLine(high)) this.deliverIrq(handler);
  }

  // ---- the top-level loop's interface ----

  /**
   * Runs ready threads until none is left, `maxDispatches` were run or `yieldNow()` says
   * the host needs a turn; true if work remains.
   */
  runReady(maxDispatches = 1000, yieldNow: () => boolean = () => false): boolean {
    if (this.currentThread) throw new Error("runReady must be called from the top level");
    for (let i = 0; i < maxDispatches; i++) {
      const thread = this.highestReady();
      if (!thread) return false;
      this.dispatch(thread);
      this.clock.fireDue();
      if (yieldNow()) break;
    }
    return this.highestReady() !== undefined;
  }

  // ---- scheduling ----

  private highestReady(): Thread | undefined {
    for (let p = PRIORITIES - 1; p >= 0; p--) {
      const queue = this.readyQueues[p]!;
      if (queue.length > 0) return queue[0];
    }
    return undefined;
  }

  private makeReady(thread: Thread, front = false): void {
    if (thread.state === "ready") return;
    thread.state = "ready";
    const queue = this.readyQueues[thread.priority]!;
    if (front) queue.unshift(thread);
    else queue.push(thread);
  }

  private removeReady(thread: Thread): void {
    const queue = this.readyQueues[thread.priority]!;
    const index = queue.indexOf(thread);
    if (index >= 0) queue.splice(index, 1);
  }

  /** Runs every ready event thread above the current thread's priority, nested. */
  private preemptIfHigher(): void {
    const current = this.currentThread;
    if (!current) return;
    for (;;) {
      const next = this.highestReady();
      if (!next || next.priority <= current.priority || next.body.kind !== "event") break;
      this.dispatch(next);
    }
    this.checkCurrent();
  }

  /** Unwinds the current thread if the kernel has abandoned it (stopped or restarted meanwhile). */
  private checkCurrent(): void {
    const thread = this.currentThread;
    if (thread?.abandoned) throw new ThreadAbandoned(thread);
  }

  private dispatch(thread: Thread): void {
    this.removeReady(thread);
    const below = this.currentThread;
    if (below?.state === "running") below.state = "preempted";
    this.currentThread = thread;
    thread.state = "running";
    try {
      if (thread.body.kind === "compute") this.runSlice(thread, thread.body);
      else this.runEvents(thread);
    } finally {
      this.currentThread = below;
      if (below?.state === "preempted") below.state = "running";
    }
  }

  private runEvents(thread: Thread): void {
    for (;;) {
      const received = this.receive(thread);
      if (!received) {
        thread.state = "receiving";
        return;
      }
      const exhausted = this.chargeEvent(thread);
      const faulted = received.faultFrom;
      const reply = this.deliver(thread, received.event);
      if (thread.state !== "running") return;
      if (faulted && reply !== undefined) this.replyToFault(faulted, reply);
      if (exhausted || this.higherComputeReady(thread)) {
        this.returnToReceive(thread, exhausted);
        return;
      }
    }
  }

  /**
   * Runs one event to completion on `thread` (already current). Returns the reply, or
   * undefined when there is none or the thread faulted or was abandoned.
   */
  private deliver(thread: Thread, event: KernelEvent): MessageInfo | undefined {
    const body = thread.body;
    if (body.kind !== "event") throw new Error(`thread '${thread.name}' does not receive events`);
    try {
      if (event.kind === "start") thread.startPending = false;
      return body.handle(event);
    } catch (error) {
      if (error instanceof ThreadAbandoned && error.thread !== thread) throw error;
      if (error instanceof ThreadAbandoned) this.finishAbandon(thread);
      else this.raiseFault(thread, faultOf(error));
      return undefined;
    }
  }

  /** The next event for an event thread: its start, then signals, then endpoint messages. */
  private receive(thread: Thread): { event: KernelEvent; faultFrom?: Thread } | undefined {
    if (thread.startPending) return { event: { kind: "start" } };
    const notification = thread.notification;
    if (notification && notification.word !== 0n) {
      const badge = notification.word;
      notification.word = 0n;
      return { event: { kind: "signal", badge } };
    }
    const message = thread.endpointQueue.shift();
    if (!message) return undefined;
    thread.mrs.fill(0n);
    message.mrs.forEach((value, i) => (thread.mrs[i] = value));
    return { event: { kind: "fault", badge: message.badge, info: message.info }, faultFrom: message.from };
  }

  private hasEvents(thread: Thread): boolean {
    return thread.startPending || (thread.notification?.word ?? 0n) !== 0n || thread.endpointQueue.length > 0;
  }

  /** After an event: back to the receive, or queued again if more events are waiting. */
  private returnToReceive(thread: Thread, exhausted = false): void {
    if (!this.hasEvents(thread)) {
      thread.state = "receiving";
      return;
    }
    thread.state = "inactive";
    if (exhausted && !thread.sc.roundRobin) this.throttle(thread);
    else this.makeReady(thread, !exhausted);
  }

  private higherComputeReady(thread: Thread): boolean {
    const next = this.highestReady();
    return next !== undefined && next.priority > thread.priority;
  }

  /** Charges one event to the scheduling context in use; true when its budget ran out. */
  private chargeEvent(thread: Thread): boolean {
    const now = this.clock.nowNs;
    this.clock.advance(this.eventCostNs);
    return thread.sc.charge(now, this.eventCostNs);
  }

  private runSlice(thread: Thread, body: ComputeBody): void {
    const now = this.clock.nowNs;
    const slice = Math.max(1, Math.min(thread.sc.available(now), this.maxSliceNs));
    const result = body.run(slice, now);
    const used = Math.max(1, result.usedNs);
    this.clock.advance(used);
    const exhausted = thread.sc.charge(now, used);
    if (thread.state !== "running") return;
    if (result.fault) {
      this.raiseFault(thread, result.fault);
      return;
    }
    thread.state = "inactive";
    if (exhausted && !thread.sc.roundRobin) this.throttle(thread);
    else this.makeReady(thread, !exhausted);
  }

  private throttle(thread: Thread): void {
    thread.state = "throttled";
    this.clock.at(thread.sc.nextRelease, () => {
      if (thread.state === "throttled") {
        thread.state = "inactive";
        this.makeReady(thread);
      }
    });
  }

  // ---- faults ----

  private raiseFault(thread: Thread, fault: Fault): void {
    thread.state = "fault-blocked";
    thread.pendingFault = fault;
    const handler = thread.faultHandler;
    if (handler === "monitor") {
      this.onMonitorFault(thread, fault);
      return;
    }
    const { label, mrs } = faultMessage(fault);
    handler.thread.endpointQueue.push({
      kind: "fault",
      badge: handler.badge,
      info: messageInfo(label, mrs.length),
      mrs,
      from: thread,
    });
    if (handler.thread.state === "receiving") this.makeReady(handler.thread);
    this.armWakeup(thread, fault);
  }

  /**
   * A compute thread blocked on `fault` may have something that happens by itself (a
   * sleeping vCPU's timer): at that time the blocked fault gives way to the new one.
   */
  private armWakeup(thread: Thread, blockedOn: Fault): void {
    const body = thread.body;
    const at = body.kind === "compute" ? body.wakeupAt?.() : undefined;
    if (body.kind !== "compute" || at === undefined) return;
    this.clock.at(Math.max(at, this.clock.nowNs), () => {
      if (thread.state !== "fault-blocked" || thread.pendingFault !== blockedOn) return;
      const fault = body.wake?.();
      if (!fault) return;
      this.cancelIpc(thread);
      this.raiseFault(thread, fault);
    });
  }

  private replyToFault(child: Thread, _reply: MessageInfo): void {
    if (child.state !== "fault-blocked") return;
    child.pendingFault = undefined;
    child.state = "inactive";
    if (child.body.kind === "compute" || this.hasEvents(child)) this.makeReady(child);
    else child.state = "receiving";
  }

  private cancelIpc(thread: Thread): void {
    const fault = thread.pendingFault;
    thread.pendingFault = undefined;
    if (thread.faultHandler !== "monitor") {
      const queue = thread.faultHandler.thread.endpointQueue;
      const index = queue.findIndex((m) => m.from === thread);
      if (index < 0) return;
      queue.splice(index, 1);
      if (fault && thread.body.kind === "compute") thread.body.faultWithdrawn?.(fault);
    }
  }

  private finishAbandon(thread: Thread): void {
    thread.abandoned = false;
    if (thread.startPending) {
      thread.state = "inactive";
      this.makeReady(thread);
    } else if (thread.state === "running" || thread.state === "preempted") {
      thread.state = "inactive";
    }
  }

  private deliverIrq(handler: IrqHandler): void {
    handler.take();
    this.signal(handler.notification, handler.badge);
  }

  private requireCurrent(operation: string): Thread {
    const thread = this.currentThread;
    if (!thread) throw new Error(`${operation} needs a running thread`);
    return thread;
  }
}

/** A thrown value as a fault: memory accessors throw FaultError; anything else is a user exception. */
function faultOf(error: unknown): Fault {
  if (error instanceof FaultError) return error.fault;
  const detail = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  return { kind: "UserException", ip: 0n, sp: 0n, spsr: 0n, number: 0, code: 0, detail };
}
