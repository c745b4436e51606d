// C VMMs on virtkit's SDK and its libvmm. A tiny guest (programs/libvmm_guest.S) under a C VMM
// (programs/libvmm_vmm.c) checks libvmm's answers one by one: PSCI and SMCCC, the emulated GICv2
// distributor's registers, the loads it completes, its refusals and a stray load's report; a
// two-vCPU one (programs/libvmm_smp_guest.S) PSCI's CPU_ON and AFFINITY_INFO; an interrupt-taking
// one (programs/libvmm_irq_guest.S) eight SPIs injected at once, through the list registers and the
// queue behind them, each acked at its EOI. Then the
// tutorial's C VMM: examples/c-simple built with make against the SDK (its VMM embeds the guest's
// images), run with `virtkit run build/loader.img`; the minimal Linux guest boots on the emulated
// GIC's timer and UART interrupts, takes a login and commands, and powers off through libvmm's PSCI.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ensureGuestImages } from "../../src/guest/images.ts";
import { boardNamed } from "../../src/machine/boards/index.ts";
import { startVirtkit } from "../system/virtkit-process.ts";
import { CROSS_PREFIX } from "../../src/cli/sdk.ts";
import { runSystem, sdkPath, toolchainProblem } from "./harness.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const VIRTKIT = join(ROOT, "bin/virtkit.mjs");
const PROGRAMS = join(import.meta.dirname, "programs");
const problem = toolchainProblem();

/** The folders the tests build in, removed at the end (each VMM embeds megabytes of guest images). */
const folders: string[] = [];
function buildFolder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  folders.push(dir);
  return dir;
}
afterAll(() => folders.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** programs/<guest>.S as a raw binary, and programs/libvmm_vmm.c linked with the SDK's libvmm, for `vcpus` vCPUs. */
function buildTinyVm(dir: string, guest: string, vcpus = 1): void {
  const board = join(sdkPath(), "board/qemu_virt_aarch64/debug");
  const cc = (args: string[]) => execFileSync(`${CROSS_PREFIX}gcc`, args);
  cc(["-c", join(PROGRAMS, `${guest}.S`), "-o", join(dir, "guest.o")]);
  execFileSync(`${CROSS_PREFIX}objcopy`, ["-O", "binary", join(dir, "guest.o"), join(dir, "guest.bin")]);
  cc([
    ...["-ffreestanding", "-nostdlib", "-O2", "-g", "-Wall", "-Werror", "-mstrict-align"],
    `-DGUEST_BINARY="\\"${join(dir, "guest.bin")}\\""`,
    ...["-I", join(board, "include"), "-c", join(PROGRAMS, "libvmm_vmm.c"), "-o", join(dir, "vmm.o")],
  ]);
  execFileSync(`${CROSS_PREFIX}ld`, [
    ...["-L", join(board, "lib"), join(dir, "vmm.o"), "-lvmm", "-lmicrokit", "-Tmicrokit.ld"],
    ...["-o", join(dir, "vmm.elf")],
  ]);
  writeFileSync(
    join(dir, "test.system"),
    `<system>
       <memory_region name="guest_ram" size="0x200000"/>
       <memory_region name="gic_vcpu" size="0x1000" phys_addr="0x8040000"/>
       <protection_domain name="VMM" priority="254">
         <program_image path="vmm.elf"/>
         <map mr="guest_ram" vaddr="0x40000000" perms="rw" setvar_vaddr="guest_ram_vaddr"/>
         <virtual_machine name="tiny">
           ${Array.from({ length: vcpus }, (_, id) => `<vcpu id="${id}"/>`).join("")}
           <map mr="guest_ram" vaddr="0x40000000" perms="rwx"/>
           <map mr="gic_vcpu" vaddr="0x8010000" perms="rw" cached="false"/>
         </virtual_machine>
       </protection_domain>
     </system>`,
  );
}

describe.skipIf(problem !== undefined)("a C VMM on the SDK's libvmm", () => {
  test("a tiny guest: PSCI and SMCCC answers, the distributor's registers, libvmm's refusals, a stray load", async () => {
    const dir = buildFolder("virtkit-c-libvmm-");
    buildTinyVm(dir, "libvmm_guest");
    const output = await runSystem(dir);
    const lines = output.split("\n");
    expect(lines.slice(1, 11)).toEqual([
      "VMM|ERROR: virq_inject: IRQ 40 on vCPU 0 was never registered: call virq_register first",
      "vmm: inject before register: 0",
      "vmm: controller: 1",
      "VMM|ERROR: virq_register: IRQ 3 on vCPU 0: give a PPI (16-31) or an SPI (32-255) and a vCPU below 4",
      "vmm: register SGI 3: 0",
      "VMM|ERROR: virq_register: IRQ 40 on vCPU 4: give a PPI (16-31) or an SPI (32-255) and a vCPU below 4",
      "vmm: register SPI 40 on vCPU 4: 0",
      "VMM|INFO: starting guest at 0x40000000, DTB at 0x0, initial RAM disk at 0x0",
      "VMM|ERROR: vCPU 4: libvmm handles vCPUs 0 to 3",
      "vmm: start vCPU 4: 0",
    ]);
    const register = (name: string): string => {
      const match = new RegExp(`\\b${name}\\s+0x([0-9a-f]{16})`).exec(output);
      expect(match, `no ${name} in:\n${output}`).not.toBeNull();
      return match![1]!;
    };
    expect(register("x19")).toBe("0000000000010001"); // PSCI 1.1
    expect(register("x20")).toBe("ffffffffffffffff"); // NOT_SUPPORTED
    expect(register("x21")).toBe("0000000000000007"); // GICD_TYPER: 256 lines, one CPU
    expect(register("x22")).toBe("0000000000000002"); // INTID 33 enabled
    expect(register("x23")).toBe("00000000000000a0"); // a priority keeps its top 5 bits
    expect(register("x24")).toBe("ffffffffffffffa0"); // LDRSB sign-extends into an X register
    expect(output).toContain(
      "vmm: vCPU 0 wrote 0x34 (1 bytes) at offset 3\nvmm: vCPU 0 wrote 0x1234 (2 bytes) at offset 6\n",
    );
    expect(register("x25")).toBe("1122334455667790"); // the VMM's read answer
    expect(output).toContain("SMCCC call 0xc2000001 at pc 0x40000018 is not one this VMM answers");
    expect(output).toMatch(
      /VMM\|ERROR: vCPU 0: unhandled read of 4 bytes at guest address 0x20000000 \(pc 0x400000[0-9a-f]{2}, ESR 0x9[0-9a-f]+\): no <map> of the <virtual_machine> and no emulated device covers it: map a memory region there, or register a handler with fault_register_vm_exception_handler\n/,
    );
    expect(output).toContain(
      "VMM|ERROR: vCPU 0 stopped; the rest of the system keeps running\nvmm: vCPU 0 left stopped\n",
    );
  });

  test("two vCPUs: PSCI AFFINITY_INFO and CPU_ON start the second with its context", async () => {
    const dir = buildFolder("virtkit-c-libvmm-smp-");
    buildTinyVm(dir, "libvmm_smp_guest", 2);
    const output = await runSystem(dir);
    const registers = (vcpu: number): Record<string, string> => {
      const dump = output.split(`VMM|INFO: vCPU ${vcpu} registers:\n`)[1]?.split("VMM|")[0];
      expect(dump, `no register dump of vCPU ${vcpu} in:\n${output}`).toBeDefined();
      return Object.fromEntries([...dump!.matchAll(/\b(x\d+)\s+0x([0-9a-f]{16})/g)].map((m) => [m[1], m[2]]));
    };
    expect(output).toMatch(/VMM\|INFO: starting vCPU 1 at 0x400000[0-9a-f]{2}\n/);
    const boot = registers(0);
    expect(boot.x19).toBe("0000000000000001"); // AFFINITY_INFO (SMC32, x1 cut to 32 bits): off
    expect(boot.x20).toBe("0000000000000000"); // CPU_ON: SUCCESS
    expect(boot.x21).toBe("fffffffffffffffc"); // CPU_ON again: ALREADY_ON
    expect(boot.x22).toBe("0000000000000000"); // AFFINITY_INFO: on
    const second = registers(1);
    expect(second.x19).toBe("0000000000001234"); // CPU_ON's context in x0
    expect(second.x20).toBe("0000000080000001"); // its MPIDR_EL1: Aff0 1
  });

  test("eight SPIs at once: list registers, the queue behind them, each EOI's ack", async () => {
    const dir = buildFolder("virtkit-c-libvmm-irq-");
    buildTinyVm(dir, "libvmm_irq_guest");
    const output = await runSystem(dir);
    const acks = [...output.matchAll(/^vmm: vCPU 0 EOI of (\d+)$/gm)].map((m) => Number(m[1]));
    expect(acks.sort((a, b) => a - b)).toEqual([32, 33, 34, 35, 36, 37, 38, 39]);
    expect(output).toMatch(/\bx19\s+0x0000000000000008\b/); // eight interrupts taken
    expect(output).toMatch(/\bx20\s+0x00000000000000ff\b/); // INTIDs 32-39, each once
  });

  // The UART's interrupt as /proc/interrupts names it, and where each board's guest starts.
  test.each([
    { board: "qemu_virt_aarch64", uart: "uart-pl011", start: "0x40000000, DTB at 0x4f000000" },
    { board: "odroidc4", uart: "ttyAML0", start: "0x20000000, DTB at 0x2f000000" },
  ])(
    "examples/c-simple on $board: make builds the image; virtkit run boots to a login, runs commands and powers off",
    async ({ board, uart, start }) => {
      await ensureGuestImages({ kernel: "minimal", board: boardNamed(board) });
      const build = buildFolder("virtkit-c-simple-");
      execFileSync(
        "make",
        [
          "-s",
          "-C",
          join(ROOT, "examples/c-simple"),
          `MICROKIT_SDK=${sdkPath()}`,
          `MICROKIT_BOARD=${board}`,
          `BUILD_DIR=${build}`,
          `VIRTKIT=${process.execPath} ${VIRTKIT}`,
        ],
        { stdio: "pipe" },
      );
      const run = startVirtkit(["run", join(build, "loader.img"), "--console", "stdio"]);
      try {
        await run.waitFor('VMM|INFO: starting "VMM"');
        await run.waitFor(`VMM|INFO: starting guest at ${start}`);
        await run.waitFor("psci: PSCIv1.1 detected in firmware.");
        await run.waitFor("buildroot login: ");
        run.type("root\n");
        await run.waitFor("# ");
        run.type("uname -m\n");
        await run.waitFor("aarch64\r\n");
        await run.waitFor("# ");
        // The timer's PPI and the UART's SPI, as the guest counted them through the emulated distributor.
        run.type("cat /proc/interrupts\n");
        await run.waitFor("# ");
        const interrupts = run.output().slice(run.output().lastIndexOf("cat /proc/interrupts"));
        const count = (name: string): number => {
          const line = interrupts.split("\n").find((l) => l.includes(name));
          expect(line, `/proc/interrupts has no ${name} line:\n${interrupts}`).toBeDefined();
          return Number(line!.trim().split(/\s+/)[1]);
        };
        expect(count("arch_timer")).toBeGreaterThan(10);
        expect(count(uart)).toBeGreaterThan(0);
        // With its input closed, the run ends once the powered-off guest leaves nothing to happen.
        run.child.stdin!.end("poweroff\n");
        await run.waitFor("reboot: Power down");
        await run.waitFor("VMM|INFO: the guest powered off (PSCI SYSTEM_OFF)");
        expect((await run.exited).code).toBe(0);
        expect(run.output()).not.toContain("ERROR");
      } finally {
        run.child.kill();
      }
    },
    180_000,
  );
});
