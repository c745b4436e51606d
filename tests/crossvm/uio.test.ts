// The same guest library and tools over libvmm's UIO model: every connection a generic-uio device
// (examples/crossvm/uio), and the models mixed per connection. UIO maps its regions as Device memory,
// as uio_pdrv_genirq does on hardware, so a dataport there takes aligned accesses only: the seed's
// strncpy (which pads with memset, DC ZVA) gets SIGBUS, and word-sized copies work.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LinuxSession } from "../system/linux-session.ts";

const EXAMPLE = join(import.meta.dirname, "../../examples/crossvm");

/** The example's system with this folder's mixed-model VMM. */
function mixedSystem(): string {
  const system = readFileSync(join(EXAMPLE, "crossvm.system"), "utf8")
    .replace('path="vmm.elf"', `path="${join(import.meta.dirname, "mixed-vmm.ts")}"`)
    .replace('path="print_server.elf"', `path="${join(EXAMPLE, "print_server.ts")}"`);
  const file = join(mkdtempSync(join(tmpdir(), "virtkit-crossvm-")), "mixed.system");
  writeFileSync(file, system);
  return file;
}

async function withSession(system: string, body: (session: LinuxSession, boot: string) => Promise<void>) {
  const session = await LinuxSession.boot("minimal", { system });
  try {
    const boot = await session.waitFor("Welcome to virtkit");
    await session.login();
    await body(session, boot);
  } finally {
    session.system.stop();
    await session.done;
  }
}

describe("the crossvm example on libvmm's UIO model", () => {
  it("binds uio_pdrv_genirq to every connection and runs round trips over /dev/uioN", async () => {
    await withSession(join(EXAMPLE, "uio", "crossvm.system"), async (session, boot) => {
      expect(boot).toContain("uio_pdrv_genirq.of_id=generic-uio");
      expect(boot).toContain("Allocating 4096 bytes for /dev/camkes_data");
      expect(await session.run("cat /sys/class/uio/uio*/name")).toBe(
        "crossvm-dataport-1\ncrossvm-emits-event-1\ncrossvm-consumes-event-1\n",
      );
      const uioMajor = (await session.run("grep ' uio$' /proc/devices")).trim().split(" ")[0];
      const nodes = await session.run(
        "stat -c '%n %t' /dev/camkes_data /dev/camkes_do_print /dev/camkes_done_printing",
      );
      for (const line of nodes.trim().split("\n"))
        expect(parseInt(line.split(" ")[1]!, 16)).toBe(Number(uioMajor));
      expect(await session.run("crossvm_check words hello")).toBe(
        "hello\ncrossvm_check: sent 'hello' in 32-bit words\n",
      );
      const rounds = await session.run("crossvm_check rounds 200");
      expect(rounds.split("\n").filter((l) => l.startsWith("round "))).toEqual(
        Array.from({ length: 200 }, (_, i) => `round ${i + 1}`),
      );
      expect(await session.run("grep crossvm /proc/interrupts")).toMatch(
        /GIC-0 +40 Edge +crossvm-consumes-event-1/,
      );
    });
  }, 600_000);

  it("gives the seed's print_client a bus error on the Device-memory dataport, as hardware would", async () => {
    await withSession(join(EXAMPLE, "uio", "crossvm.system"), async (session) => {
      expect(await session.run("print_client hello world")).toBe("Bus error\n");
    });
  }, 600_000);
});

describe("the crossvm example with models mixed per connection", () => {
  it("runs the seed's print_client with the dataport on the module and the events on UIO", async () => {
    await withSession(mixedSystem(), async (session) => {
      expect(await session.run("cat /sys/class/uio/uio*/name")).toBe(
        "crossvm-emits-event-1\ncrossvm-consumes-event-1\n",
      );
      expect(await session.run("print_client hello world")).toMatch(
        /^\[ *\d+\.\d{6}\] dataport received mmap for minor 1\nhello\nworld\n$/,
      );
      expect(await session.run("crossvm_check latched")).toContain("crossvm_check: latched 1, then 0\n");
      expect(await session.run("crossvm_check burst 3")).toContain(
        "crossvm_check: 3 emitted, replies taken 1, then 0\n",
      );
    });
  }, 600_000);
});
