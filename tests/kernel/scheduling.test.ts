import { describe, expect, test } from "vitest";
import { messageInfo, type ComputeBody, type Thread } from "../../src/kernel/index.ts";
import { TestSystem } from "./helpers.ts";

describe("notifications", () => {
  test("a signal to a higher-priority thread runs it before the signal returns", () => {
    const sys = new TestSystem();
    const high = sys.thread("high", { priority: 200 });
    const low = sys.thread("low", {
      priority: 100,
      handler: () => {
        sys.log.push("low:before");
        sys.kernel.signal(high.notification!, 1n << 3n);
        sys.log.push("low:after");
      },
    });
    sys.start(high, low);
    sys.kernel.signal(low.notification!, 1n);
    sys.kernel.runReady();
    expect(sys.log).toEqual([
      "low:signal(1)",
      "low:before",
      "high:signal(1000)",
      "high:end",
      "low:after",
      "low:end",
    ]);
  });

  test("a signal to a lower or equal priority thread waits until the sender returns to its receive", () => {
    const sys = new TestSystem();
    const equal = sys.thread("equal", { priority: 100 });
    const lower = sys.thread("lower", { priority: 50 });
    const sender = sys.thread("sender", {
      priority: 100,
      handler: () => {
        sys.kernel.signal(lower.notification!, 1n);
        sys.kernel.signal(equal.notification!, 1n);
        sys.log.push("sender:signalled");
      },
    });
    sys.start(equal, lower, sender);
    sys.kernel.signal(sender.notification!, 1n);
    sys.kernel.runReady();
    expect(sys.log).toEqual([
      "sender:signal(1)",
      "sender:signalled",
      "sender:end",
      "equal:signal(1)",
      "equal:end",
      "lower:signal(1)",
      "lower:end",
    ]);
  });

  test("repeated signals collapse into one delivery; different badges are ORed", () => {
    const sys = new TestSystem();
    const receiver = sys.thread("receiver", { priority: 10 });
    const sender = sys.thread("sender", {
      priority: 20,
      handler: () => {
        sys.kernel.signal(receiver.notification!, 1n << 2n);
        sys.kernel.signal(receiver.notification!, 1n << 2n);
        sys.kernel.signal(receiver.notification!, 1n << 2n);
        sys.kernel.signal(receiver.notification!, 1n << 5n);
      },
    });
    sys.start(receiver, sender);
    sys.kernel.signal(sender.notification!, 1n);
    sys.kernel.runReady();
    expect(sys.log.filter((l) => l.startsWith("receiver"))).toEqual([
      "receiver:signal(100100)",
      "receiver:end",
    ]);
  });

  test("when the preempting thread goes back to receive, threads between the two priorities run first", () => {
    const sys = new TestSystem();
    const middle = sys.thread("middle", { priority: 150 });
    const high = sys.thread("high", {
      priority: 200,
      handler: () => sys.kernel.signal(middle.notification!, 1n),
    });
    const low = sys.thread("low", {
      priority: 100,
      handler: () => {
        sys.kernel.signal(high.notification!, 1n);
        sys.log.push("low:resumed");
      },
    });
    sys.start(middle, high, low);
    sys.kernel.signal(low.notification!, 1n);
    sys.kernel.runReady();
    expect(sys.log).toEqual([
      "low:signal(1)",
      "high:signal(1)",
      "high:end",
      "middle:signal(1)",
      "middle:end",
      "low:resumed",
      "low:end",
    ]);
  });
});

describe("protected procedure calls", () => {
  test("the callee runs synchronously at its priority with the caller's message registers, and replies", () => {
    const sys = new TestSystem();
    const server = sys.thread("server", {
      priority: 200,
      handler: (event, self) => {
        if (event.kind !== "call") return undefined;
        self.mrs[0] = self.mrs[0]! + self.mrs[1]!;
        return messageInfo(7, 1);
      },
    });
    let reply: { label: number; count: number } | undefined;
    const client = sys.thread("client", {
      priority: 100,
      handler: (_event, self) => {
        self.mrs[0] = 40n;
        self.mrs[1] = 2n;
        reply = sys.kernel.call(server, 3, messageInfo(1, 2));
        sys.log.push(`client:got ${self.mrs[0]}`);
      },
    });
    sys.start(server, client);
    sys.kernel.signal(client.notification!, 1n);
    sys.kernel.runReady();
    expect(sys.log).toEqual([
      "client:signal(1)",
      "server:call(3)",
      "server:end",
      "client:got 42",
      "client:end",
    ]);
    expect(reply).toEqual({ label: 7, count: 1 });
  });

  test("during a call the callee's priority rules: a thread between the two runs before the caller resumes", () => {
    const sys = new TestSystem();
    const middle = sys.thread("middle", { priority: 150 });
    const server = sys.thread("server", {
      priority: 200,
      handler: (event) => {
        if (event.kind === "call") sys.kernel.signal(middle.notification!, 1n);
      },
    });
    const client = sys.thread("client", {
      priority: 100,
      handler: () => {
        sys.kernel.call(server, 1, messageInfo(0, 0));
        sys.log.push("client:replied");
      },
    });
    sys.start(middle, server, client);
    sys.kernel.signal(client.notification!, 1n);
    sys.kernel.runReady();
    expect(sys.log).toEqual([
      "client:signal(1)",
      "server:call(1)",
      "server:end",
      "middle:signal(1)",
      "middle:end",
      "client:replied",
      "client:end",
    ]);
  });

  test("a passive server's call is charged to the caller's scheduling context", () => {
    const sys = new TestSystem();
    const server = sys.thread("server", { priority: 200 });
    const client = sys.thread("client", {
      priority: 100,
      handler: () => void sys.kernel.call(server, 1, messageInfo(0, 0)),
    });
    sys.start(server, client);
    sys.kernel.makePassive(server);
    const serverBefore = server.sc.available(sys.kernel.clock.nowNs);
    const clientBefore = client.sc.available(sys.kernel.clock.nowNs);
    sys.kernel.signal(client.notification!, 1n);
    sys.kernel.runReady();
    const now = sys.kernel.clock.nowNs;
    expect(server.sc.available(now)).toBe(serverBefore);
    // Two events on the client's context: its own signal and the server's call.
    expect(clientBefore - client.sc.available(now)).toBe(2000);
  });

  test("a call to a server that faulted leaves the caller blocked for good", () => {
    const sys = new TestSystem();
    const server = sys.thread("server", {
      priority: 200,
      handler: (event) => {
        if (event.kind === "call") throw new Error("server bug");
      },
    });
    const client = sys.thread("client", {
      priority: 100,
      handler: () => {
        sys.kernel.call(server, 1, messageInfo(0, 0));
        sys.log.push("client:unreachable");
      },
    });
    sys.start(server, client);
    sys.kernel.signal(client.notification!, 1n);
    sys.kernel.runReady();
    expect(sys.log).not.toContain("client:unreachable");
    expect(client.state).toBe("blocked");
    expect(server.state).toBe("fault-blocked");
    expect(sys.monitorFaults).toEqual(["server:UserException"]);
  });
});

describe("IRQ handlers", () => {
  test("a level IRQ is masked from delivery until acked, and fires again if still asserted", () => {
    const sys = new TestSystem();
    const driver = sys.thread("driver", { priority: 100 });
    const irq = sys.kernel.createIrqHandler(33, "level", driver.notification!, 1);
    sys.start(driver);
    sys.kernel.setIrqLine(33, true);
    sys.kernel.runReady();
    expect(sys.log).toEqual([]); // masked until the first ack
    sys.kernel.irqAck(irq);
    sys.kernel.runReady();
    expect(sys.log).toEqual(["driver:signal(10)", "driver:end"]);
    sys.kernel.runReady();
    expect(sys.log).toHaveLength(2); // masked again after delivery
    sys.kernel.irqAck(irq); // still asserted
    sys.kernel.runReady();
    expect(sys.log).toHaveLength(4);
    sys.kernel.setIrqLine(33, false);
    sys.kernel.irqAck(irq);
    sys.kernel.runReady();
    expect(sys.log).toHaveLength(4);
  });

  test("an edge that arrives while masked is delivered after the ack", () => {
    const sys = new TestSystem();
    const driver = sys.thread("driver", { priority: 100 });
    const irq = sys.kernel.createIrqHandler(79, "edge", driver.notification!, 2);
    sys.start(driver);
    sys.kernel.irqAck(irq);
    sys.kernel.setIrqLine(79, true);
    sys.kernel.setIrqLine(79, false);
    sys.kernel.runReady();
    sys.kernel.setIrqLine(79, true); // while masked
    sys.kernel.setIrqLine(79, false);
    sys.kernel.runReady();
    expect(sys.log).toEqual(["driver:signal(100)", "driver:end"]);
    sys.kernel.irqAck(irq);
    sys.kernel.runReady();
    expect(sys.log).toEqual(["driver:signal(100)", "driver:end", "driver:signal(100)", "driver:end"]);
  });
});

describe("round robin and budgets", () => {
  function spinner(log: string[], name: string, sliceLimitNs?: number): ComputeBody {
    return {
      kind: "compute",
      run: (maxNs) => {
        const used = Math.min(maxNs, sliceLimitNs ?? maxNs);
        log.push(`${name}:${used / 1000}us`);
        return { usedNs: used };
      },
    };
  }

  test("equal-priority compute threads take turns, one budget each", () => {
    const sys = new TestSystem();
    const a = sys.kernel.createThread({
      name: "a",
      priority: 50,
      budgetUs: 300,
      periodUs: 300,
      body: spinner(sys.log, "a"),
    });
    const b = sys.kernel.createThread({
      name: "b",
      priority: 50,
      budgetUs: 200,
      periodUs: 200,
      body: spinner(sys.log, "b"),
    });
    sys.kernel.resume(a);
    sys.kernel.resume(b);
    sys.kernel.runReady(6);
    expect(sys.log).toEqual(["a:300us", "b:200us", "a:300us", "b:200us", "a:300us", "b:200us"]);
  });

  test("a thread keeps the processor until its budget runs out", () => {
    const sys = new TestSystem();
    const a = sys.kernel.createThread({
      name: "a",
      priority: 50,
      budgetUs: 300,
      periodUs: 300,
      body: spinner(sys.log, "a", 100_000),
    });
    const b = sys.kernel.createThread({
      name: "b",
      priority: 50,
      budgetUs: 300,
      periodUs: 300,
      body: spinner(sys.log, "b", 100_000),
    });
    sys.kernel.resume(a);
    sys.kernel.resume(b);
    sys.kernel.runReady(6);
    expect(sys.log).toEqual(["a:100us", "a:100us", "a:100us", "b:100us", "b:100us", "b:100us"]);
  });

  test("a sporadic context (budget < period) waits for its next period", () => {
    const sys = new TestSystem();
    const a = sys.kernel.createThread({
      name: "a",
      priority: 50,
      budgetUs: 100,
      periodUs: 1000,
      body: spinner(sys.log, "a"),
    });
    sys.kernel.resume(a);
    sys.kernel.runReady(1);
    expect(a.state).toBe("throttled");
    expect(sys.kernel.clock.nowNs).toBe(100_000);
    expect(sys.kernel.runReady()).toBe(false);
    expect(sys.kernel.clock.skipToNextDeadline()).toBe(true);
    expect(sys.kernel.clock.nowNs).toBe(1_000_000);
    sys.kernel.runReady(1);
    expect(sys.log).toEqual(["a:100us", "a:100us"]);
  });

  test("equal-priority event threads are served in the order they became ready", () => {
    const sys = new TestSystem();
    const threads: Thread[] = ["p", "q", "r"].map((name) => sys.thread(name, { priority: 10 }));
    sys.start(...threads);
    for (const t of [threads[2]!, threads[0]!, threads[1]!]) sys.kernel.signal(t.notification!, 1n);
    sys.kernel.runReady();
    expect(sys.log.filter((l) => !l.endsWith(":end"))).toEqual(["r:signal(1)", "p:signal(1)", "q:signal(1)"]);
  });
});
