// Robustness: a guest spinning with interrupts masked never stalls the host. The VM keeps running (as
// the architecture says: nothing stops it), and a higher-priority PD keeps serving the console.
import { existsSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import {
  Vmm,
  createVmmLog,
  microkitFault,
  microkitInterrupts,
  microkitVcpuControl,
} from "../../src/libvmm/index.ts";
import type { Pd } from "../../src/microkit/index.ts";
import { boot } from "../microkit/harness.ts";
import { binutilsAvailable } from "./binutils.ts";
import { buildGuest } from "./core-harness.ts";

const haveTools = binutilsAvailable();
const haveCore = existsSync(new URL("../../build/cpu.wasm", import.meta.url));

const UART = 0x200_0000;
const UARTDR = 0x000;
const UARTFR = 0x018;
const UARTFR_RXFE = 1 << 4;
const UARTIMSC = 0x038;
const UARTICR = 0x044;

const SYSTEM = `
  <memory_region name="guest_ram" size="0x200000" page_size="0x200000" phys_addr="0x40000000" />
  <memory_region name="uart" size="0x1000" phys_addr="0x9000000" />
  <protection_domain name="echo" priority="254">
    <program_image path="echo.elf" />
    <map mr="uart" vaddr="0x2000000" perms="rw" cached="false" />
    <irq irq="33" id="1" />
  </protection_domain>
  <protection_domain name="vmm" priority="101">
    <program_image path="vmm.elf" />
    <map mr="guest_ram" vaddr="0x40000000" perms="rw" setvar_vaddr="guest_ram_vaddr" />
    <virtual_machine name="guest" priority="100">
      <vcpu id="0" />
      <map mr="guest_ram" vaddr="0x40000000" perms="rwx" />
    </virtual_machine>
  </protection_domain>`;

describe.runIf((haveTools && haveCore) || process.env.CI)("a guest spinning with interrupts masked", () => {
  it("keeps executing while a higher-priority PD goes on serving the console", async () => {
    const guest = buildGuest(new URL("./guests/spin-masked.s", import.meta.url).pathname);
    let vmmPd: Pd | undefined;
    const guestCounter = () => vmmPd!.vcpuRegisters(0)!.getX(1);
    const { system, console, done } = await boot(
      SYSTEM,
      {
        echo: {
          init(pd) {
            pd.memory.write32(UART + UARTIMSC, 0x50);
          },
          notified(pd, channel) {
            while ((pd.memory.read32(UART + UARTFR) & UARTFR_RXFE) === 0) {
              const c = String.fromCharCode(pd.memory.read32(UART + UARTDR) & 0xff);
              pd.dbgPuts(`echo: ${c} (guest counter ${guestCounter() > 0n ? "running" : "zero"})\n`);
            }
            pd.memory.write32(UART + UARTICR, 0x7f0);
            pd.irqAck(channel);
          },
        },
        vmm: {
          init(pd) {
            vmmPd = pd;
            const vmm = new Vmm({
              vmName: "guest",
              vcpuCount: 1,
              log: createVmmLog(pd.name, (line) => pd.dbgPuts(`${line}\n`)),
              control: microkitVcpuControl(pd),
              interrupts: microkitInterrupts(pd),
              gic: { version: 2, distributor: 0x800_0000 },
            });
            pd.memory.view(pd.setvars.guest_ram_vaddr!, guest.length).set(guest);
            vmm.guest.start(0, { pc: 0x4000_0000n, x0: 0n });
          },
          notified() {},
          fault(pd, _child, msginfo) {
            pd.dbgPuts(`vmm: unexpected fault ${JSON.stringify(microkitFault(pd, msginfo))}\n`);
            return false;
          },
        },
      },
      { keepInputOpen: true },
    );
    try {
      // The key goes in once the VM runs: the echo PD (higher priority) starts before the VMM does.
      await vi.waitFor(() => expect(vmmPd && guestCounter()).toBeGreaterThan(0n), { timeout: 20_000 });
      console.type("a");
      await console.waitFor("echo: a (guest counter running)", { timeoutMs: 20_000 });
      const before = guestCounter();
      console.type("b");
      await console.waitFor("echo: b", { timeoutMs: 20_000 });
      // The VM neither faulted nor stopped: its counter went on rising between the two keys.
      expect(guestCounter()).toBeGreaterThan(before);
      expect(console.output).not.toContain("fault");
      // Interrupts stayed masked (PSTATE.I set), as the guest asked.
      expect((vmmPd!.vcpuRegisters(0)!.pstate >> 7) & 1).toBe(1);
    } finally {
      system.stop();
      await done;
    }
  });
});
