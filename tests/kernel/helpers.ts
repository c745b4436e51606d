// Small event threads for kernel tests: each records what it handles in a shared log.

import { Kernel, type KernelEvent, type MessageInfo, type Thread } from "../../src/kernel/index.ts";

export type Handler = (event: KernelEvent, self: Thread) => MessageInfo | undefined | void;

export interface TestThreadOptions {
  priority: number;
  budgetUs?: number;
  periodUs?: number;
  handler?: Handler;
}

export class TestSystem {
  readonly kernel: Kernel;
  readonly log: string[] = [];
  readonly monitorFaults: string[] = [];

  constructor() {
    this.kernel = new Kernel({
      onMonitorFault: (thread, fault) => this.monitorFaults.push(`${thread.name}:${fault.kind}`),
    });
  }

  thread(name: string, options: TestThreadOptions): Thread {
    const handlers: { current?: Handler } = { current: options.handler };
    const thread: Thread = this.kernel.createThread({
      name,
      priority: options.priority,
      budgetUs: options.budgetUs ?? 1000,
      periodUs: options.periodUs ?? options.budgetUs ?? 1000,
      body: {
        kind: "event",
        handle: (event) => {
          this.log.push(`${name}:${describe(event)}`);
          const reply = handlers.current?.(event, thread);
          this.log.push(`${name}:end`);
          return reply ?? (event.kind === "call" ? { label: 0, count: 0 } : undefined);
        },
      },
    });
    this.kernel.bindNotification(thread);
    return thread;
  }

  /** Starts the threads and runs until nothing is ready. */
  start(...threads: Thread[]): void {
    for (const thread of threads) this.kernel.resume(thread);
    this.kernel.runReady();
    this.log.length = 0;
  }
}

function describe(event: KernelEvent): string {
  switch (event.kind) {
    case "start":
      return "start";
    case "signal":
      return `signal(${event.badge.toString(2)})`;
    case "call":
      return `call(${event.badge})`;
    case "fault":
      return `fault(${event.badge},label ${event.info.label})`;
  }
}
