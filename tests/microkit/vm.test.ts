import { existsSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { beforeAll, describe, expect, test } from "vitest";
import { boot } from "./harness.ts";

const ROOT = join(import.meta.dirname, "../..");

beforeAll(() => {
  // The CPU core is built by `npm run build`; build it here if this checkout has not yet.
  if (!existsSync(join(ROOT, "build/cpu.wasm"))) {
    const build = spawnSync(process.execPath, [join(ROOT, "scripts/build.mjs")], {
      cwd: ROOT,
      encoding: "utf8",
    });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stderr}`);
  }
});

const SYSTEM = `
  <memory_region name="uart" size="0x1000" phys_addr="0x9000000" />
  <memory_region name="guest_ram" size="0x200000" page_size="0x200000" phys_addr="0x40000000" />
  <protection_domain name="vmm" priority="101">
    <program_image path="vmm.elf" />
    <map mr="guest_ram" vaddr="0x40000000" perms="rw" setvar_vaddr="guest_ram_vaddr" />
    <virtual_machine name="guest" priority="100">
      <vcpu id="0" />
      <map mr="guest_ram" vaddr="0x40000000" perms="rwx" />
      <map mr="uart" vaddr="0x9000000" perms="rw" cached="false" />
    </virtual_machine>
  </protection_domain>`;

// movz x0, #0x900, lsl #16; movz w1, #'h'; str w1, [x0]; movz w1, #'i'; str w1, [x0]; hvc #0
const GUEST = [0xd2a12000, 0x52800d01, 0xb9000001, 0x52800d21, 0xb9000001, 0xd4000002];
const ENTRY = 0x40080000;

describe("virtual machines", () => {
  test("a guest on the CPU core reaches its passed-through UART directly; its HVC is a fault at the VMM", async () => {
    const { console, done } = await boot(SYSTEM, {
      vmm: {
        init(pd) {
          GUEST.forEach((word, i) =>
            pd.memory.write32(pd.setvars.guest_ram_vaddr + (ENTRY - 0x40000000) + 4 * i, word),
          );
          pd.vcpuRegisters(0)!.pstate = 0x3c5; // EL1h, DAIF masked
          pd.dbgPuts("vmm: starting guest\n");
          pd.vcpuRestart(0, ENTRY);
        },
        notified() {},
        fault(pd, child, info) {
          const regs = pd.vcpuRegisters(child)!;
          pd.dbgPuts(
            `\nvmm: vcpu ${child} fault label ${info.label} hsr ${pd.mrGet(0).toString(16)} pc ${regs.pc.toString(16)}\n`,
          );
          return false;
        },
      },
    });
    await done;
    expect(console.output).toBe(
      "MON|INFO: Microkit Monitor started!\nvmm: starting guest\nhi\nvmm: vcpu 0 fault label 8 hsr 5a000000 pc 40080018\n",
    );
  });
});
