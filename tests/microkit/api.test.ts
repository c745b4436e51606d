import { describe, expect, test } from "vitest";
import type { Pd } from "../../src/microkit/index.ts";
import { boot, channel, end, initOnly, pd, runToIdle } from "./harness.ts";

const lines = (output: string): string[] => output.split("\n").filter((l) => l !== "");

describe("the monitor", () => {
  test("prints its start line first and reports passive PDs", async () => {
    const out = await runToIdle(
      pd("server", 'priority="200" passive="true"') + pd("client", 'priority="100"'),
      {
        server: initOnly((p) => p.dbgPuts("server init\n")),
        client: initOnly((p) => p.dbgPuts("client init\n")),
      },
    );
    expect(lines(out)).toEqual([
      "MON|INFO: Microkit Monitor started!",
      "server init",
      "MON|INFO: PD 'server' is now passive!",
      "client init",
    ]);
  });
});

describe("misuse prints libmicrokit's messages", () => {
  const xml =
    pd("alpha", 'priority="100"', '<irq irq="40" id="3" />') +
    pd("beta", 'priority="200"') +
    channel(end("alpha", 1, 'pp="true"'), end("beta", 7)) +
    channel(end("alpha", 2, 'notify="false"'), end("beta", 8));

  test("invalid channels are reported and the call does nothing", async () => {
    let reply: unknown;
    const beta = { init() {}, notified: (p: Pd, ch: number) => p.dbgPuts(`beta notified ${ch}\n`) };
    const out = await runToIdle(xml, {
      alpha: initOnly((p) => {
        p.notify(5);
        p.notify(2); // notify="false" on alpha's end
        p.notify(62);
        p.irqAck(1); // a channel, not an IRQ
        p.deferredNotify(3); // an IRQ, not a channel
        p.deferredIrqAck(1);
        reply = p.ppcall(2, p.msginfoNew(9, 1)); // no pp on this end
        p.notify(-1);
      }),
      beta,
    });
    const output = lines(out).slice(1);
    // virtkit's remedies follow libmicrokit's lines; libmicrokit's own lines are unchanged.
    expect(output.filter((line) => line.startsWith("virtkit: "))).toEqual([
      'virtkit: to notify on channel 5, \'alpha\' needs <end pd="alpha" id="5"/> in a <channel> (notify not "false")',
      'virtkit: to notify on channel 2, \'alpha\' needs <end pd="alpha" id="2"/> in a <channel> (notify not "false")',
      "virtkit: channel ids are 0 to 61",
      'virtkit: channel 1 of \'alpha\' is not an interrupt: give the PD <irq irq="..." id="1"/>',
      'virtkit: to notify on channel 3, \'alpha\' needs <end pd="alpha" id="3"/> in a <channel> (notify not "false")',
      'virtkit: channel 1 of \'alpha\' is not an interrupt: give the PD <irq irq="..." id="1"/>',
      'virtkit: to PPC on channel 2, \'alpha\' needs <end pd="alpha" id="2" pp="true"/> in a <channel> to a PD of higher priority',
      "virtkit: channel ids are 0 to 61",
    ]);
    expect(output.filter((line) => !line.startsWith("virtkit: "))).toEqual([
      "alpha microkit_notify: invalid channel given '5'",
      "alpha microkit_notify: invalid channel given '2'",
      "alpha microkit_notify: invalid channel given '62'",
      "alpha microkit_irq_ack: invalid channel given '1'",
      "alpha microkit_deferred_notify: invalid channel given '3'",
      "alpha microkit_deferred_irq_ack: invalid channel given '1'",
      "alpha microkit_ppcall: invalid channel given '2'",
      "alpha microkit_notify: invalid channel given '4294967295'",
    ]);
    expect(reply).toEqual({ label: 0, count: 0 });
  });

  test("a PPC from the end without pp is refused", async () => {
    const out = await runToIdle(xml, {
      alpha: initOnly(() => {}),
      beta: initOnly((p) => void p.ppcall(7, p.msginfoNew(0, 0))),
    });
    expect(out).toContain("beta microkit_ppcall: invalid channel given '7'\n");
  });

  test("child, vCPU and SMC calls without the capability hit a null cap and crash the PD", async () => {
    const out = await runToIdle(pd("alpha", 'priority="100"'), {
      alpha: initOnly((p) => p.pdRestart(3, 0x200000)),
    });
    expect(lines(out).slice(1, 4)).toEqual([
      "<<seL4(CPU 0) [decodeInvocation]: Attempted to invoke a null cap #205.>>",
      "microkit_pd_restart: error writing TCB registers",
      "MON|ERROR: received message 0x00000006  badge: 0x0000000000000001  tcb cap: 0x00000000000000ca",
    ]);
    expect(out).toContain("MON|ERROR: faulting PD: alpha\n");
    expect(out).toContain("fault_addr=0x0000000000000002");
    for (const [call, message] of [
      [(p: Pd) => p.pdStop(0), "microkit_pd_stop: error writing TCB registers"],
      [(p: Pd) => p.vcpuRestart(0, 0), "microkit_vcpu_restart: error writing registers"],
      [(p: Pd) => p.vcpuStop(0), "microkit_vcpu_stop: error suspending TCB"],
      [(p: Pd) => p.vcpuArmInjectIrq(0, 33, 0, 1, 0), "microkit_vcpu_arm_inject_irq: error injecting IRQ"],
      [(p: Pd) => p.vcpuArmAckVppi(0, 27), "microkit_vcpu_arm_ack_vppi: error acking VPPI"],
      [(p: Pd) => p.vcpuArmReadReg(0, 0), "microkit_vcpu_arm_read_reg: error reading vCPU register"],
      [(p: Pd) => p.vcpuArmWriteReg(0, 0, 1), "microkit_vcpu_arm_write_reg: error writing vCPU register"],
      [(p: Pd) => p.armSmcCall([0x84000000]), "microkit_arm_smc_call: error making SMC call"],
    ] as const) {
      const text = await runToIdle(pd("alpha", 'priority="100"'), { alpha: initOnly(call) });
      expect(text).toContain(`${message}\nMON|ERROR: received message 0x00000006`);
    }
  });

  test("a missing protected entry point is reported and faults the callee; the caller stays blocked", async () => {
    const out = await runToIdle(
      pd("alpha", 'priority="100"') +
        pd("beta", 'priority="200"') +
        channel(end("alpha", 1, 'pp="true"'), end("beta", 7)),
      {
        alpha: initOnly((p) => {
          p.ppcall(1, p.msginfoNew(0, 0));
          p.dbgPuts("alpha: unreachable\n");
        }),
        beta: initOnly(() => {}),
      },
    );
    expect(out).toContain("beta is missing the 'protected' entry point\n");
    expect(out).toContain("MON|ERROR: faulting PD: beta\n");
    expect(out).not.toContain("unreachable");
  });
});

describe("protected procedure calls and messages", () => {
  test("the callee gets the channel id, label and message registers; the reply comes back", async () => {
    const out = await runToIdle(
      pd("client", 'priority="100"') +
        pd("server", 'priority="200"') +
        channel(end("client", 1, 'pp="true"'), end("server", 4)),
      {
        client: initOnly((p) => {
          p.mrSet(0, 20);
          p.mrSet(1, 22n);
          const reply = p.ppcall(1, p.msginfoNew(3, 2));
          p.dbgPuts(
            `reply label ${p.msginfoGetLabel(reply)} count ${p.msginfoGetCount(reply)} mr0 ${p.mrGet(0)}\n`,
          );
        }),
        server: {
          init() {},
          notified() {},
          protected(p, ch, info) {
            p.dbgPuts(`call on ${ch} label ${info.label} count ${info.count}\n`);
            p.mrSet(0, p.mrGet(0) + p.mrGet(1));
            return p.msginfoNew(5, 1);
          },
        },
      },
    );
    expect(lines(out).slice(1)).toEqual(["call on 4 label 3 count 2", "reply label 5 count 1 mr0 42"]);
  });

  test("a protected entry point that returns no reply faults its PD with a clear message", async () => {
    const out = await runToIdle(
      pd("client", 'priority="100"') +
        pd("server", 'priority="200"') +
        channel(end("client", 1, 'pp="true"'), end("server", 4)),
      {
        client: initOnly((p) => void p.ppcall(1, p.msginfoNew(0, 0))),
        server: { init() {}, notified() {}, protected: (() => undefined) as never },
      },
    );
    expect(out).toContain("MON|ERROR: faulting PD: server\n");
    expect(out).toContain(
      "MON|ERROR: UserException: TypeError: protected() returned undefined: return the reply, e.g. pd.msginfoNew(0, 0)",
    );
  });

  test("mrSet/mrGet hold 64 words of 64 bits; MR 64 does not exist", async () => {
    const out = await runToIdle(pd("alpha", 'priority="1"'), {
      alpha: initOnly((p) => {
        p.mrSet(63, -1n);
        p.dbgPuts(`${p.mrGet(63).toString(16)}\n`);
        p.mrSet(64, 1);
      }),
    });
    expect(out).toContain("ffffffffffffffff\n");
    expect(out).toContain("MON|ERROR: UserException: RangeError: message register 64 does not exist");
  });
});

describe("deferred calls", () => {
  const xml =
    pd("alpha", 'priority="100"') +
    pd("beta", 'priority="200"') +
    pd("gamma", 'priority="200"') +
    channel(end("alpha", 1), end("beta", 1)) +
    channel(end("alpha", 2), end("gamma", 1));
  const reporter = (name: string) => ({
    init() {},
    notified: (p: Pd, ch: number) => p.dbgPuts(`${name} notified ${ch}\n`),
  });

  test("one slot: a later deferred call replaces the earlier; it is sent when the handler returns", async () => {
    const out = await runToIdle(xml, {
      alpha: initOnly((p) => {
        p.deferredNotify(1);
        p.deferredNotify(2);
        p.dbgPuts("alpha: init done\n");
      }),
      beta: reporter("beta"),
      gamma: reporter("gamma"),
    });
    expect(lines(out).slice(1)).toEqual(["alpha: init done", "gamma notified 1"]);
  });

  test("a plain notify preempts at once instead", async () => {
    const out = await runToIdle(xml, {
      alpha: initOnly((p) => {
        p.notify(1);
        p.dbgPuts("alpha: init done\n");
      }),
      beta: reporter("beta"),
      gamma: reporter("gamma"),
    });
    expect(lines(out).slice(1)).toEqual(["beta notified 1", "alpha: init done"]);
  });

  test("a deferred IRQ ack unmasks the interrupt after the handler", async () => {
    const { system, console, done } = await boot(
      pd("driver", 'priority="10"', '<irq irq="40" id="0" trigger="edge" />'),
      {
        driver: {
          init() {},
          notified(p, ch) {
            p.dbgPuts(`irq on ${ch}\n`);
            p.deferredIrqAck(ch);
          },
        },
      },
    );
    await done;
    // The handler defers its ack; a second edge while masked waits for it.
    system.kernel.setIrqLine(40, true);
    system.kernel.setIrqLine(40, false);
    system.kernel.setIrqLine(40, true);
    system.kernel.runReady();
    expect(console.output.match(/irq on 0/g)).toHaveLength(2);
  });
});

describe("faults and isolation", () => {
  test("touching unmapped memory stops only that PD; the monitor names the PD, the address and the fault", async () => {
    const xml =
      '<memory_region name="page" size="0x1000" />' +
      pd("broken", 'priority="150"', '<map mr="page" vaddr="0x400000" perms="r" setvar_vaddr="page" />') +
      pd("healthy", 'priority="100"') +
      pd("ticker", 'priority="50"') +
      channel(end("ticker", 1), end("broken", 1)) +
      channel(end("ticker", 2), end("healthy", 1));
    const out = await runToIdle(xml, {
      broken: { init() {}, notified: (p) => p.memory.read32(0x600000) },
      healthy: { init() {}, notified: (p) => p.dbgPuts("healthy served\n") },
      ticker: initOnly((p) => {
        for (let i = 0; i < 3; i++) {
          p.notify(1);
          p.notify(2);
        }
      }),
    });
    expect(out).toContain(
      [
        "MON|ERROR: received message 0x00000006  badge: 0x0000000000000001  tcb cap: 0x00000000000000ca",
        "MON|ERROR: faulting PD: broken",
        "MON|ERROR: VMFault: ip=0x0000000000000000  fault_addr=0x0000000000600000  fsr=0x0000000092000006  (data fault)",
        "MON|ERROR:    ec: 0x00000024  Data Abort from a lower Exception level   il: 1   iss: 0x00000006",
        "MON|ERROR:    dfsc = translation fault, level 2 (0x00000006)",
      ].join("\n"),
    );
    expect(out.match(/healthy served/g)).toHaveLength(3);
    expect(out.match(/MON\|ERROR: faulting PD/g)).toHaveLength(1);
  });

  test("writing a read-only map is a permission fault; reading past a map is a translation fault", async () => {
    const xml =
      '<memory_region name="page" size="0x1000" />' +
      pd("writer", 'priority="2"', '<map mr="page" vaddr="0x400000" perms="r" />') +
      pd("reader", 'priority="1"', '<map mr="page" vaddr="0x400000" perms="rw" />');
    const out = await runToIdle(xml, {
      writer: initOnly((p) => p.memory.write8(0x400010, 1)),
      reader: initOnly((p) => p.memory.read64(0x400ffc)),
    });
    expect(out).toContain("fault_addr=0x0000000000400010  fsr=0x000000009200004f");
    expect(out).toContain("dfsc = permission fault, level 3 (0x0000000f) -- write not read");
    expect(out).toContain("fault_addr=0x0000000000401000  fsr=0x0000000092000007");
  });

  test("region accessors work by offset and fault past the end of the map", async () => {
    const xml =
      '<memory_region name="page" size="0x1000" />' +
      pd("alpha", "", '<map mr="page" vaddr="0x400000" perms="rw" />');
    const out = await runToIdle(xml, {
      alpha: initOnly((p) => {
        const region = p.regions[0]!;
        region.write32(0xffc, 0xabcd);
        p.dbgPuts(`${region.mr} ${region.size} ${p.memory.read32(0x400ffc).toString(16)}\n`);
        region.read8(0x1000);
      }),
    });
    expect(out).toContain("page 4096 abcd\n");
    expect(out).toContain("fault_addr=0x0000000000401000  fsr=0x0000000092000007");
  });

  test("a child's fault goes to its parent's fault entry with the child id; pdRestart runs init again", async () => {
    const xml = pd(
      "parent",
      'priority="200"',
      pd("child", 'id="4" priority="100"', '<irq irq="41" id="0" />'),
    );
    let inits = 0;
    const out = await runToIdle(xml, {
      parent: {
        init() {},
        notified() {},
        fault(p, child, info) {
          p.dbgPuts(`fault from ${child} label ${info.label} addr ${p.mrGet(1).toString(16)}\n`);
          if (inits < 2) p.pdRestart(child, 0x200000);
          else p.pdStop(child);
          return false;
        },
      },
      child: initOnly((p) => {
        inits++;
        p.dbgPuts(`child init ${inits}\n`);
        p.memory.write32(0x1000, 1);
      }),
    });
    expect(lines(out).slice(1)).toEqual([
      "child init 1",
      "fault from 4 label 6 addr 1000",
      "child init 2",
      "fault from 4 label 6 addr 1000",
    ]);
  });

  test("a missing fault entry point in the parent is reported", async () => {
    const out = await runToIdle(pd("parent", 'priority="200"', pd("child", 'id="1" priority="100"')), {
      parent: initOnly(() => {}),
      child: initOnly(() => {
        throw new Error("child gives up");
      }),
    });
    expect(out).toContain("parent is missing the 'fault' entry point\n");
    expect(out).toContain("MON|ERROR: faulting PD: parent\n");
  });
});

describe("variables and memory", () => {
  test("setvars hold vaddrs, sizes, ids and physical addresses; maps of one MR share bytes", async () => {
    const xml =
      '<memory_region name="shared" size="0x2000" phys_addr="0x41000000" />' +
      pd(
        "writer",
        'priority="2"',
        '<map mr="shared" vaddr="0x400000" perms="rw" setvar_vaddr="buf" setvar_size="buf_size" />' +
          '<irq irq="42" id="5" setvar_id="irq_ch" /><setvar symbol="buf_paddr" region_paddr="shared" />',
      ) +
      pd("reader", 'priority="1"', '<map mr="shared" vaddr="0x800000" perms="r" setvar_vaddr="buf" />') +
      channel(end("writer", 1, 'setvar_id="peer_ch"'), end("reader", 2));
    const out = await runToIdle(xml, {
      writer: initOnly((p) => {
        const { buf, buf_size, irq_ch, buf_paddr, peer_ch } = p.setvars;
        p.dbgPuts(`${[buf, buf_size, irq_ch, buf_paddr, peer_ch].map((v) => v!.toString(16)).join(" ")}\n`);
        p.memory.view(buf!, 4).set([1, 2, 3, 4]);
        p.memory.write64(buf! + 8, 0x1122334455667788n);
        p.dbgPuts(
          `${p.name} ${p.passive} ${p.irqs.toString(2)} ${p.notifications.toString(2)} ${p.regions[0]!.mr}\n`,
        );
      }),
      reader: initOnly((p) => {
        const buf = p.setvars.buf!;
        p.dbgPuts(`${p.memory.read32(buf).toString(16)} ${p.memory.read16(buf + 8).toString(16)}\n`);
      }),
    });
    expect(lines(out).slice(1)).toEqual([
      "400000 2000 5 41000000 1",
      "writer false 100000 10 shared",
      "4030201 7788",
    ]);
  });

  test('an SMC from a PD with smc="true" reaches the board\'s firmware', async () => {
    const out = await runToIdle(pd("alpha", 'priority="1" smc="true"'), {
      alpha: initOnly((p) => {
        const [x0] = p.armSmcCall([0x84000000]);
        const [y0] = p.armSmcCall([0xc2000006]);
        p.dbgPuts(`${x0!.toString(16)} ${y0!.toString(16)}\n`);
      }),
    });
    expect(out).toContain("10001 ffffffffffffffff\n");
  });
});
