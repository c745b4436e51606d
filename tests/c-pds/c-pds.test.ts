// C protection domains built with virtkit's SDK, run at EL0 on the emulated core over the seL4 ABI.
import { beforeAll, describe, expect, test } from "vitest";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ElfFile } from "../../src/microkit/elf-file.ts";
import { MONITOR_STARTED, buildPd, folder, runSystem, toolchainProblem, type Keys } from "./harness.ts";

const problem = toolchainProblem();
const SRC = join(import.meta.dirname, "../../src/microkit/index.ts");

const pd = (name: string, image: string, attrs = "", body = ""): string =>
  `<protection_domain name="${name}" ${attrs}><program_image path="${image}" />${body}</protection_domain>`;
const system = (body: string): string => `<?xml version="1.0"?>\n<system>${body}</system>\n`;

describe.skipIf(problem !== undefined)("C PDs", () => {
  let dir: string;
  const elf: Record<string, string> = {};

  beforeAll(() => {
    dir = folder({});
    const names = [
      "hello",
      "client",
      "server",
      "crasher",
      "misuse",
      "setvar",
      "parent",
      "overflow",
      "readonly",
      "uart",
      "vmm",
      "echo",
      "deferred",
      "smc",
      "timer",
      "suspend",
    ];
    for (const name of names) elf[name] = buildPd(dir, name);
    for (let fault = 1; fault <= 5; fault++) {
      elf[`fault${fault}`] = buildPd(dir, "faults", `fault${fault}.elf`, [`FAULT=${fault}`]);
    }
    elf.ping = buildPd(dir, "pingpong", "ping.elf", ["PING"]);
    elf.atOnce = buildPd(dir, "deferred", "atonce.elf", ["AT_ONCE"]);
    elf.echoDeferred = buildPd(dir, "echo", "echo-deferred.elf", ["DEFERRED"]);
    elf.fuzz = buildPd(dir, "fuzz", "fuzz.elf", ["ITERATIONS=3000"]);
    elf.pong = buildPd(dir, "pingpong", "pong.elf");
  }, 60_000);

  const run = (
    xml: string,
    files: Record<string, string> = {},
    copies: Record<string, string> = {},
    input: Keys[] = [],
  ) => runSystem(folder({ "test.system": system(xml), ...files }, copies), "test.system", input);

  test("hello: microkit_dbg_puts from init", async () => {
    expect(await run(pd("hello", "hello.elf"), {}, { "hello.elf": elf.hello! })).toBe(
      `${MONITOR_STARTED}hello, world\n`,
    );
  });

  test("two C PDs bounce a notification until the third round; the signalled PD runs at once when higher", async () => {
    const xml =
      pd("ping", "ping.elf", 'priority="2"') +
      pd("pong", "pong.elf", 'priority="1"') +
      '<channel><end pd="ping" id="0"/><end pd="pong" id="0"/></channel>';
    expect(await run(xml, {}, { "ping.elf": elf.ping!, "pong.elf": elf.pong! })).toBe(
      MONITOR_STARTED +
        "ping: start\n" +
        "pong: notified on 0, round 1\n" +
        "ping: notified on 0, round 1\n" +
        "pong: notified on 0, round 2\n" +
        "ping: notified on 0, round 2\n" +
        "pong: notified on 0, round 3\n",
    );
  });

  test("ppcall: the label, message registers in x2-x5 and in the IPC buffer go both ways", async () => {
    const xml =
      pd("client", "client.elf", 'priority="1"') +
      pd("server", "server.elf", 'priority="2"') +
      '<channel><end pd="client" id="0" pp="true"/><end pd="server" id="3"/></channel>';
    expect(await run(xml, {}, { "client.elf": elf.client!, "server.elf": elf.server! })).toBe(
      MONITOR_STARTED +
        "server: ready\n" +
        "server: called on channel 3\n" +
        "client: reply label 43 count 6 mr0 42 mr5 99\n",
    );
  });

  test("a C client calls a TypeScript server, and a TypeScript client a C server", async () => {
    const tsServer =
      `import { definePd } from ${JSON.stringify(SRC)};\n` +
      `export default definePd({ init() {}, notified() {}, protected(pd, ch, info) {\n` +
      `  pd.dbgPuts(\`ts server: ch \${ch} label \${info.label} mr1 \${pd.mrGet(1)}\\n\`);\n` +
      `  pd.mrSet(0, pd.mrGet(0) + pd.mrGet(1)); pd.mrSet(5, 7n);\n` +
      `  return pd.msginfoNew(1, 6); } });\n`;
    const tsClient =
      `import { definePd } from ${JSON.stringify(SRC)};\n` +
      `export default definePd({ init(pd) { pd.mrSet(0, 2n); pd.mrSet(1, 21n);\n` +
      `  const reply = pd.ppcall(1, pd.msginfoNew(9, 2));\n` +
      `  pd.dbgPuts(\`ts client: label \${reply.label} mr0 \${pd.mrGet(0)} mr5 \${pd.mrGet(5)}\\n\`); }, notified() {} });\n`;
    const xml =
      pd("client", "client.elf", 'priority="1"') +
      pd("tsserver", "tsserver.elf", 'priority="3"') +
      pd("tsclient", "tsclient.elf", 'priority="1"') +
      pd("server", "server.elf", 'priority="2"') +
      '<channel><end pd="client" id="0" pp="true"/><end pd="tsserver" id="4"/></channel>' +
      '<channel><end pd="tsclient" id="1" pp="true"/><end pd="server" id="2"/></channel>';
    const output = await run(
      xml,
      { "tsserver.ts": tsServer, "tsclient.ts": tsClient },
      { "client.elf": elf.client!, "server.elf": elf.server! },
    );
    expect(output).toContain("ts server: ch 4 label 42 mr1 7\nclient: reply label 1 count 6 mr0 13 mr5 7\n");
    expect(output).toContain("server: called on channel 2\nts client: label 10 mr0 42 mr5 99\n");
  });

  test("a null dereference is reported by the monitor with the function and instruction; others run on", async () => {
    const xml = pd("crasher", "crasher.elf", 'priority="2"') + pd("hello", "hello.elf", 'priority="1"');
    const output = await run(xml, {}, { "crasher.elf": elf.crasher!, "hello.elf": elf.hello! });
    expect(output).toContain("crasher: about to fault\nMON|ERROR: received message 0x00000006");
    expect(output).toContain("MON|ERROR: faulting PD: crasher\n");
    expect(output).toMatch(
      /VMFault: ip=0x0000000000200[0-9a-f]{3} {2}fault_addr=0x0000000000000000 .*\(data fault\)/,
    );
    expect(output).toContain("dfsc = translation fault, level 2 (0x00000006)");
    expect(output).toMatch(
      /at read_target\+0x[0-9a-f]+, crasher\.c:8 \(0x200[0-9a-f]{3}: ldr x0, \[x0\]\)\n/,
    );
    expect(output).toContain(
      "MON|ERROR: virtkit: no <map> or program segment of 'crasher' covers 0x0: map a memory region there, or fix the pointer\n",
    );
    expect(output).toMatch(
      /MON\|ERROR: Registers: pc 0x0000000000200[0-9a-f]{3} {2}sp 0x000000ffffff[0-9a-f]{4}/,
    );
    expect(output).toMatch(/MON\|ERROR: x0 {2}0x0000000000000000 {2}x1 /);
    expect(output.endsWith("hello, world\n")).toBe(true);
  });

  test("misuse: libmicrokit's invalid-channel messages, then seL4's null-cap error with virtkit's hint", async () => {
    const output = await run(pd("misuse", "misuse.elf"), {}, { "misuse.elf": elf.misuse! });
    expect(output).toBe(
      MONITOR_STARTED +
        "misuse microkit_notify: invalid channel given '5'\n" +
        "misuse microkit_ppcall: invalid channel given '0'\n" +
        "misuse microkit_irq_ack: invalid channel given '3'\n" +
        "<<seL4(CPU 0) [decodeInvocation]: Attempted to invoke a null cap #17.>>\n" +
        `virtkit: slot 17 is channel 7's notification: 'misuse' needs <end pd="misuse" id="7"/> in a <channel>\n` +
        "misuse: still running\n",
    );
  });

  test("setvar_vaddr/setvar_size are patched in, a prefilled region is readable, writes reach shared RAM", async () => {
    const xml =
      '<memory_region name="shared" size="0x2000"/>' +
      '<memory_region name="data" size="0x1000" prefill_path="data.txt"/>' +
      pd(
        "setvar",
        "setvar.elf",
        'priority="2"',
        '<map mr="shared" vaddr="0x4000000" perms="rw" setvar_vaddr="shared_vaddr" setvar_size="shared_size"/>' +
          '<map mr="data" vaddr="0x5000000" perms="r" setvar_vaddr="data_vaddr"/>',
      ) +
      `<protection_domain name="reader" priority="1"><program_image path="reader.elf"/><map mr="shared" vaddr="0x10000000" perms="r"/></protection_domain>`;
    const reader =
      `import { definePd } from ${JSON.stringify(SRC)};\n` +
      `export default definePd({ init(pd) { pd.dbgPuts(\`reader: \${pd.memory.read64(0x10000000).toString(16)}\\n\`); }, notified() {} });\n`;
    const output = await run(
      xml,
      { "data.txt": "prefilled bytes\nmore\n", "reader.ts": reader },
      { "setvar.elf": elf.setvar! },
    );
    expect(output).toBe(
      MONITOR_STARTED +
        "setvar: shared at 0x4000000 size 0x2000\n" +
        "setvar: prefill says prefilled bytes\n" +
        "reader: 1234\n",
    );
  });

  test("a passive C server runs on its client's PPC; the monitor reports it passive", async () => {
    const xml =
      pd("client", "client.elf", 'priority="1"') +
      pd("server", "server.elf", 'priority="2" passive="true"') +
      '<channel><end pd="client" id="0" pp="true"/><end pd="server" id="3"/></channel>';
    expect(await run(xml, {}, { "client.elf": elf.client!, "server.elf": elf.server! })).toBe(
      MONITOR_STARTED +
        "server: ready\n" +
        "MON|INFO: PD 'server' is now passive!\n" +
        "server: called on channel 3\n" +
        "client: reply label 43 count 6 mr0 42 mr5 99\n",
    );
  });

  test("a child's fault reaches its C parent's fault(), which restarts it once and then stops it", async () => {
    const xml =
      '<protection_domain name="parent" priority="2"><program_image path="parent.elf"/>' +
      pd("crasher", "crasher.elf", 'id="1" priority="1"') +
      "</protection_domain>";
    const output = await run(xml, {}, { "parent.elf": elf.parent!, "crasher.elf": elf.crasher! });
    expect(output).toBe(
      MONITOR_STARTED +
        "<<seL4(CPU 0) [decodeTCBInvocation]: TCB: Illegal operation attempted.>>\n" +
        "virtkit: parent invoked slot 203 (TCB of child 1) with label 26 (IRQAckIRQ), which that object does not take\n" +
        "parent: bad TCB invocation returned error 0x3\n" +
        "crasher: about to fault\n" +
        "parent: child 0x1 fault label 0x6 addr 0x0\n" +
        "crasher: about to fault\n" +
        "parent: child 0x1 fault label 0x6 addr 0x0\n" +
        "parent: child stopped\n",
    );
  });

  test("a stack overflow is named as one, with the stack_size to raise", async () => {
    const output = await run(
      pd("overflow", "overflow.elf", 'stack_size="0x2000"'),
      {},
      { "overflow.elf": elf.overflow! },
    );
    expect(output).toContain("MON|ERROR: faulting PD: overflow\n");
    expect(output).toMatch(/fault_addr=0x000000ffffffd[0-9a-f]{3}/);
    expect(output).toMatch(/at deep\+0x[0-9a-f]+, overflow\.c:\d+ /);
    expect(output).toContain(
      "is just below the stack [0xffffffe000..0x10000000000): a stack overflow; give " +
        '<protection_domain name="overflow"> a larger stack_size\n',
    );
  });

  test("a write through a read-only map is a permission fault naming the region and its perms", async () => {
    const xml =
      '<memory_region name="table" size="0x1000" prefill_path="table.txt"/>' +
      pd(
        "readonly",
        "readonly.elf",
        "",
        '<map mr="table" vaddr="0x6000000" perms="r" setvar_vaddr="table"/>',
      );
    const output = await run(xml, { "table.txt": "T" }, { "readonly.elf": elf.readonly! });
    expect(output).toContain("readonly: reading works: T\n");
    expect(output).toContain("dfsc = permission fault, level 3 (0x0000000f) -- write not read\n");
    expect(output).toContain(
      "MON|ERROR: virtkit: write of 0x6000000 in memory region 'table' mapped at 0x6000000 with perms=\"r\": " +
        "add w to that <map> if the access is meant\n",
    );
  });

  test("a C PD drives the board's UART through an uncached device map", async () => {
    const xml =
      '<memory_region name="uart" size="0x1000" phys_addr="0x9000000"/>' +
      pd(
        "uart",
        "uart.elf",
        "",
        '<map mr="uart" vaddr="0x2000000" perms="rw" cached="false" setvar_vaddr="uart_base"/>',
      );
    expect(await run(xml, {}, { "uart.elf": elf.uart! })).toBe(
      `${MONITOR_STARTED}uart: written to the PL011 by a C PD\n`,
    );
  });

  test("a C VMM starts a guest, gets its HVCs as VCPU faults, reads its registers, resumes and stops it", async () => {
    const xml =
      '<memory_region name="guest_ram" size="0x200000" page_size="0x200000" phys_addr="0x40000000"/>' +
      '<protection_domain name="vmm" priority="101"><program_image path="vmm.elf"/>' +
      '<map mr="guest_ram" vaddr="0x40000000" perms="rw" setvar_vaddr="guest_ram_vaddr"/>' +
      '<virtual_machine name="guest" priority="100"><vcpu id="0"/>' +
      '<map mr="guest_ram" vaddr="0x40000000" perms="rwx"/></virtual_machine></protection_domain>';
    const output = await run(xml, {}, { "vmm.elf": elf.vmm! });
    const lines = output.split("\n");
    expect(lines.slice(0, 3)).toEqual([
      MONITOR_STARTED.trimEnd(),
      "vmm: starting guest",
      "vmm: vcpu 0x0 fault label 0x8 hsr 0x5a000000 pc 0x40080008 x0 0x42 x1 0x0",
    ]);
    // seL4_NoError, then seL4_DeleteFirst for the busy list register, seL4_InvalidArgument for the VPPI.
    expect(lines[3]).toBe("vmm: inject 0, into the same list register 8, ack of VPPI 40 1");
    expect(lines[4]).toMatch(/^vmm: guest SCTLR_EL1 0x[0-9a-f]+, resuming$/);
    expect(lines.slice(5)).toEqual([
      "vmm: vcpu 0x0 fault label 0x8 hsr 0x5a000001 pc 0x40080010 x0 0x42 x1 0x7",
      "vmm: guest stopped",
      "",
    ]);
  });

  test.each([
    [1, "brk", "UserException: exception class 0x3c (ISS 0x7)"],
    [2, "undefined instruction", "UserException: exception class 0x0 (ISS 0x0)"],
    // An EL1 register is UNDEFINED at EL0 (exception class 0), not a trap.
    [3, "a system register EL0 may not write", "UserException: exception class 0x0 (ISS 0x0)"],
    [4, "a syscall seL4 does not have", "MON|ERROR: UnknownSyscall"],
    [5, "jump into data", "which does not allow it: a stray pointer or jump\n"],
  ])(
    "exception %i (%s) stops the PD with the monitor's report; the system runs on",
    async (fault, what, report) => {
      const xml =
        pd("faults", `fault${fault}.elf`, 'priority="2"') + pd("hello", "hello.elf", 'priority="1"');
      const output = await run(
        xml,
        {},
        { [`fault${fault}.elf`]: elf[`fault${fault}`]!, "hello.elf": elf.hello! },
      );
      expect(output).toContain(`faults: ${what}\nMON|ERROR: received message`);
      expect(output).toContain(report);
      expect(output).toContain("MON|ERROR: faulting PD: faults\n");
      // A jump into data faults at the data's address, in no function.
      if (fault !== 5)
        expect(output).toMatch(/MON\|ERROR: {4}at init\+0x[0-9a-f]+, faults\.c:\d+ \(0x200[0-9a-f]{3}: /);
      expect(output).not.toContain("not reached");
      expect(output.endsWith("hello, world\n")).toBe(true);
    },
  );

  test.each([
    ["echo.elf", "microkit_irq_ack"],
    ["echo-deferred.elf", "microkit_deferred_irq_ack"],
  ])(
    "a C driver (%s) is notified of its UART's interrupt, reads the input and acks the IRQ with %s",
    async (image) => {
      const xml =
        '<memory_region name="uart" size="0x1000" phys_addr="0x9000000"/>' +
        pd(
          "echo",
          image,
          "",
          '<map mr="uart" vaddr="0x2000000" perms="rw" cached="false" setvar_vaddr="uart_base"/>' +
            '<irq irq="33" id="1"/>',
        );
      const output = await run(
        xml,
        {},
        { [image]: image === "echo.elf" ? elf.echo! : elf.echoDeferred! },
        // Two batches: the second interrupt comes only if the first was acked.
        [
          { type: "hello\n", waitFor: "HELLO\n" },
          { type: "again\n", waitFor: "AGAIN\n" },
        ],
      );
      expect(output).toBe(`${MONITOR_STARTED}echo: ready\nHELLO\nAGAIN\n`);
    },
  );

  test("a file that is not a loadable AArch64 ELF stops the boot with an error naming the PD and the file", async () => {
    const bad = new Uint8Array(64);
    bad.set([0x7f, 0x45, 0x4c, 0x46, 2, 1]);
    new DataView(bad.buffer).setUint16(18, 62, true); // x86-64
    const dir = folder({ "test.system": system(pd("bad", "bad.elf")) });
    writeFileSync(join(dir, "bad.elf"), bad);
    await expect(runSystem(dir)).rejects.toThrow(
      `Error: protection domain 'bad': cannot load ${join(dir, "bad.elf")}: ${join(dir, "bad.elf")} is for ELF machine 62, not AArch64 (183)`,
    );
    writeFileSync(join(dir, "bad.elf"), bad.subarray(0, 20));
    await expect(runSystem(dir)).rejects.toThrow(/^Error: protection domain 'bad': cannot load /);
    // A folder of that name is no program: the TypeScript module lookup reports it.
    const folderImage = folder({ "test.system": system(pd("bad", "bad.elf")) });
    mkdirSync(join(folderImage, "bad.elf"));
    await expect(runSystem(folderImage)).rejects.toThrow(
      /protection domain 'bad': program_image 'bad.elf' has no TypeScript module/,
    );
    const clash = folder(
      {
        "test.system": system(
          '<memory_region name="m" size="0x1000"/>' +
            pd("hello", "hello.elf", "", '<map mr="m" vaddr="0x200000" perms="rw"/>'),
        ),
      },
      { "hello.elf": elf.hello! },
    );
    await expect(runSystem(clash)).rejects.toThrow(
      `Error: protection domain 'hello': the map of memory region 'm' at [0x200000..0x201000) overlaps the program's ` +
        `segment [0x200000..0x200`,
    );
  });

  test.each([
    [
      "deferred.elf",
      "microkit_deferred_notify: the signal goes with the next receive",
      ["deferred: init done", "peer: notified on 2"],
    ],
    [
      "atonce.elf",
      "microkit_notify: the higher-priority TypeScript peer runs at once",
      ["peer: notified on 2", "deferred: init done"],
    ],
  ])("%s, %s; the peer's notify comes back to C", async (image, _what, first) => {
    const peer =
      `import { definePd } from ${JSON.stringify(SRC)};\n` +
      `export default definePd({ init() {}, notified(pd, ch) { pd.dbgPuts(\`peer: notified on \${ch}\\n\`); pd.notify(ch); } });\n`;
    const xml =
      pd("deferred", image, 'priority="1"') +
      pd("peer", "peer.elf", 'priority="2"') +
      '<channel><end pd="deferred" id="0"/><end pd="peer" id="2"/></channel>';
    const output = await run(
      xml,
      { "peer.ts": peer },
      { [image]: image === "deferred.elf" ? elf.deferred! : elf.atOnce! },
    );
    expect(output).toBe(`${MONITOR_STARTED}${first.join("\n")}\ndeferred: notified back on 0\n`);
  });

  test("microkit_arm_smc_call reaches the board's firmware with smc=\"true\"; without it, seL4's null cap", async () => {
    const granted = await run(pd("smc", "smc.elf", 'smc="true"'), {}, { "smc.elf": elf.smc! });
    expect(granted).toBe(`${MONITOR_STARTED}smc: PSCI version 1.1\n`);
    const refused = await run(pd("smc", "smc.elf"), {}, { "smc.elf": elf.smc! });
    expect(refused).toContain(
      "<<seL4(CPU 0) [decodeInvocation]: Attempted to invoke a null cap #7.>>\n" +
        `virtkit: slot 7 is the SMC capability: give 'smc' smc="true"\n` +
        "microkit_arm_smc_call: error making SMC call\n",
    );
    expect(refused).toContain("MON|ERROR: faulting PD: smc\n");
    expect(refused).toContain("fault_addr=0x0000000000000002");
  });

  test("random instructions in place of a PD's code fault that PD only; the host never throws", async () => {
    const original = new Uint8Array(readFileSync(elf.hello!));
    const text = new ElfFile(original, "hello.elf").segments.find((segment) => segment.execute)!;
    let seed = 0x2545f491;
    const random = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    for (let round = 0; round < 8; round++) {
      const bytes = original.slice();
      const words = new DataView(bytes.buffer, text.data.byteOffset, text.data.length);
      for (let at = 0; at + 4 <= Math.min(256, text.data.length); at += 4)
        words.setUint32(at, random(), true);
      const dir = folder({
        "test.system": system(pd("noise", "noise.elf", 'priority="2"') + pd("hello", "hello.elf")),
      });
      writeFileSync(join(dir, "noise.elf"), bytes);
      copyFileSync(elf.hello!, join(dir, "hello.elf"));
      const output = await runSystem(dir);
      expect(output, `round ${round}`).toContain("MON|ERROR: faulting PD: noise\n");
      expect(output.endsWith("hello, world\n"), `round ${round}`).toBe(true);
    }
  });

  test("thousands of random syscalls on random slots, labels and lengths are each answered; the PD survives", async () => {
    const xml =
      pd("fuzz", "fuzz.elf", 'priority="1"') +
      pd("server", "server.elf", 'priority="3"') +
      pd("peer", "hello.elf", 'priority="2"') +
      '<channel><end pd="fuzz" id="0" pp="true"/><end pd="server" id="0"/></channel>' +
      '<channel><end pd="fuzz" id="1"/><end pd="peer" id="1"/></channel>';
    const output = await run(
      xml,
      {},
      { "fuzz.elf": elf.fuzz!, "server.elf": elf.server!, "hello.elf": elf.hello! },
    );
    expect(output).toMatch(/fuzz: survived, \d+ calls refused\n/);
    expect(output).toContain("Attempted to invoke a null cap");
    expect(output).toContain("server: called on channel 0\n");
    expect(output).not.toContain("MON|ERROR");
  });

  test("the ARM generic timer at EL0: CNTFRQ, CNTPCT and CNTP_TVAL/CTL, its PPI 30 as an <irq>", async () => {
    const output = await run(
      pd("timer", "timer.elf", "", '<irq irq="30" id="0"/>'),
      {},
      { "timer.elf": elf.timer! },
    );
    expect(output).toBe(`${MONITOR_STARTED}timer: 62 MHz\n${"timer: fired after 1 ms\n".repeat(3)}`);
  });

  test("microkit_pd_stop holds a child's notification until microkit_pd_resume", async () => {
    const xml =
      '<protection_domain name="parent" priority="1"><program_image path="suspend.elf"/>' +
      pd("pong", "pong.elf", 'id="1" priority="2"') +
      "</protection_domain>" +
      '<channel><end pd="parent" id="0"/><end pd="pong" id="0"/></channel>';
    const output = await run(xml, {}, { "suspend.elf": elf.suspend!, "pong.elf": elf.pong! });
    expect(output).toBe(
      MONITOR_STARTED +
        "parent: child stopped, notifying it\n" +
        "parent: resuming it\n" +
        "pong: notified on 0, round 1\n" +
        "parent: done\n",
    );
  });
});
