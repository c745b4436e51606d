// The seed's exercise on virtkit's own CPU: Linux boots in the crossvm example's VM, its init script
// creates the connector nodes, and the seed's print_client sends strings to the native print_server,
// one event round trip each; then many round trips, latched and coalesced events, a page with no
// NUL, the doorbell stored with every access size, and connectors the VMM does not declare.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LinuxSession } from "../system/linux-session.ts";

const SYSTEM = join(import.meta.dirname, "../../examples/crossvm/crossvm.system");
const DOORBELL = 0x5010_0000;

describe("the crossvm example (virtkit's guest modules)", () => {
  let session: LinuxSession;
  let boot: string;

  beforeAll(async () => {
    session = await LinuxSession.boot("minimal", { system: SYSTEM });
    boot = await session.waitFor("Welcome to virtkit");
    await session.login();
  }, 900_000);

  afterAll(async () => {
    session?.system.stop();
    await session?.done;
  });

  it("runs the seed's camkes_init at boot", () => {
    expect(boot).toContain(
      [
        "Creating dataport node /dev/camkes_data",
        "Allocating 4096 bytes for /dev/camkes_data",
        "Creating consuming event node /dev/camkes_done_printing",
        "Creating emitting event node /dev/camkes_do_print",
      ].join("\r\n"),
    );
    expect(boot).not.toMatch(/(dataport|consumes_event|emits_event)_init: /); // no complaint from the tools
  });

  it("prints hello and world from the native PD, one per round trip", async () => {
    const output = await session.run("print_client hello world");
    expect(output).toMatch(/^\[ *\d+\.\d{6}\] dataport received mmap for minor 1\nhello\nworld\n$/);
  });

  it("makes 1000 round trips with no event lost or doubled", async () => {
    const output = await session.run("crossvm_check rounds 1000");
    const lines = output.split("\n").filter((line) => line.startsWith("round "));
    expect(lines).toEqual(Array.from({ length: 1000 }, (_, i) => `round ${i + 1}`));
    expect(output).toContain("crossvm_check: 1000 round trips\n");
  }, 300_000);

  it("latches an event that arrives while nobody waits, once", async () => {
    const output = await session.run("crossvm_check latched");
    expect(output).toContain("latched\ncrossvm_check: latched 1, then 0\n");
    expect(output).toContain("latched wait\ncrossvm_check: a wait after the reply returned at once\n");
  });

  it("lets the guest emit without waiting for the replies: each emit is printed, the replies coalesce", async () => {
    const output = await session.run("crossvm_check burst 5");
    expect(output.match(/^burst$/gm)).toHaveLength(5);
    expect(output).toContain("crossvm_check: 5 emitted, replies taken 1, then 0\n");
  });

  it("reports a dataport with no NUL instead of reading past it", async () => {
    const output = await session.run("crossvm_check fill A");
    expect(output).toContain(
      "print_server: the dataport's 4096 bytes hold no NUL, so there is no string to print (the guest must end its string within the dataport)\n",
    );
    expect(output).not.toContain("AAAA");
    expect(output).toContain("crossvm_check: filled 4096 bytes with 'A'\n");
  });

  it("rings the doorbell once for a store of each size", async () => {
    await session.run("print_client doorbell");
    const output = await session.run(
      [8, 16, 32, 64].map((bits, i) => `devmem 0x${(DOORBELL + i * 8).toString(16)} ${bits} 1`).join("; "),
    );
    expect(output).toBe("doorbell\n".repeat(4));
  });

  it("refuses connector ids the VMM does not declare, naming them", async () => {
    const output = await session.run(
      "emits_event_init /tmp/e1 /tmp/e2; consumes_event_init /tmp/c1 /tmp/c2; dataport_init /tmp/d1 8192",
    );
    expect(output).toContain(
      "emits_event_init: cannot open /tmp/e2 (id 2): No such device (the VMM declares no emitted event with id 2)",
    );
    expect(output).toContain(
      "consumes_event_init: cannot open /tmp/c2 (id 2): No such device (the VMM declares no consumed event with id 2)",
    );
    expect(output).toContain("dataport_init: /tmp/d1 (id 1): the VMM declares 4096 bytes, not 8192");
    expect(output).toMatch(
      /dataport: dataport 1 \('data'\) is 4096 bytes, as the VMM declares it; 8192 bytes were asked for/,
    );
  });
});
