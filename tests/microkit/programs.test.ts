import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { bootSystemFile } from "../../src/microkit/index.ts";
import { HarnessConsole } from "../../src/machine/backends/harness-console.ts";
import { resolveProgramModule } from "../../src/microkit/program.ts";
import { pd, runToIdle } from "./harness.ts";

const SRC = join(import.meta.dirname, "../../src/microkit/index.ts");

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "virtkit-pd-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const counter = (name: string) =>
  `import { definePd } from ${JSON.stringify(SRC)};\n` +
  `let count = 0;\n` +
  `export default definePd({ init(pd) { count++; pd.dbgPuts(\`${name} \${pd.name} \${count}\\n\`); }, notified() {} });\n`;

async function run(system: string, searchPaths: string[] = []): Promise<string> {
  const console = new HarnessConsole();
  const booted = await bootSystemFile(system, { console, searchPaths, ramSize: 64 * 1024 * 1024 });
  console.endInput();
  await booted.run();
  return console.output;
}

describe("program_image names a TypeScript module", () => {
  test("x.elf is x.ts beside the .system file, or x.js; a path naming a module is used as is", async () => {
    const dir = folder({
      "a.ts": counter("ts"),
      "b.js": `export default { init(pd) { pd.dbgPuts("js " + pd.name + "\\n"); }, notified() {} };\n`,
      "c.ts": counter("direct"),
      "s.system": `<system>${pd("a", 'priority="3"')}${pd("b", 'priority="2"')}<protection_domain name="c" priority="1"><program_image path="c.ts"/></protection_domain></system>`,
    });
    expect(await run(join(dir, "s.system"))).toBe(
      "MON|INFO: Microkit Monitor started!\nts a 1\njs b\ndirect c 1\n",
    );
  });

  test("search paths are looked in after the .system file's folder", async () => {
    const modules = folder({ "a.ts": counter("found") });
    const dir = folder({ "s.system": `<system>${pd("a")}</system>` });
    expect(await run(join(dir, "s.system"), [modules])).toContain("found a 1\n");
  });

  test("a missing module is an error naming the PD, the image and where it looked", () => {
    const dir = folder({});
    expect(() => resolveProgramModule("vmm", "vmm.elf", join(dir, "s.system"), ["/nowhere"])).toThrow(
      `Error: protection domain 'vmm': program_image 'vmm.elf' has no TypeScript module: looked for vmm.ts, vmm.js, vmm.mjs in ${dir}, /nowhere. Write vmm.ts beside the .system file (see docs/writing-a-pd.md) or pass --search-path.`,
    );
  });

  test("a module without init and notified is refused", async () => {
    const dir = folder({
      "a.ts": "export default { init() {} };\n",
      "s.system": `<system>${pd("a")}</system>`,
    });
    await expect(run(join(dir, "s.system"))).rejects.toThrow(
      /protection domain 'a': .*a\.ts must export default definePd\(\{ init\(pd\) \{\.\.\.\}, notified\(pd, channel\) \{\.\.\.\} \}\); it has no 'notified' entry point/,
    );
  });

  test("a factory that throws is the PD's error, named, not a crash", async () => {
    const dir = folder({
      "vmm.ts": "export default () => { throw new Error('the guest kernel /nowhere does not exist'); };\n",
      "s.system": `<system>${pd("vmm")}</system>`,
    });
    const failure = run(join(dir, "s.system"));
    await expect(failure).rejects.toThrow(
      /^Error: protection domain 'vmm' \(.*vmm\.ts\) could not start: the guest kernel \/nowhere does not exist$/,
    );
    await expect(failure).rejects.toHaveProperty("name", "ProgramError");
  });

  test("one module object used by two PDs is refused; a factory gives each PD its own state", async () => {
    const shared = folder({
      "drv.ts": counter("drv"),
      "s.system": `<system><protection_domain name="one"><program_image path="drv.elf"/></protection_domain><protection_domain name="two"><program_image path="drv.elf"/></protection_domain></system>`,
    });
    await expect(run(join(shared, "s.system"))).rejects.toThrow(
      /protection domains 'one' and 'two' both use .*drv\.ts: export a factory/,
    );
    const factory = folder({
      "drv.ts":
        `import { definePd } from ${JSON.stringify(SRC)};\n` +
        `export default definePd(() => { let count = 0; return { init(pd) { count++; pd.dbgPuts(pd.name + " " + count + "\\n"); }, notified() {} }; });\n`,
      "s.system": `<system><protection_domain name="one" priority="2"><program_image path="drv.elf"/></protection_domain><protection_domain name="two" priority="1"><program_image path="drv.elf"/></protection_domain></system>`,
    });
    expect(await run(join(factory, "s.system"))).toContain("one 1\ntwo 1\n");
  });

  test("a fault report points at the line of the PD's source", async () => {
    const dir = folder({
      "bad.ts": `export default {\n  init(pd) {\n    pd.memory.write32(0x10, 1);\n  },\n  notified() {},\n};\n`,
      "s.system": `<system>${pd("bad")}</system>`,
    });
    expect(await run(join(dir, "s.system"))).toContain("MON|ERROR:    at bad.ts:3:15\n");
  });
});

describe("memory regions", () => {
  test("a prefilled region holds its file's bytes; setvar_prefill_size is the file's length", async () => {
    const dir = folder({
      "data.bin": "virtkit!",
      "reader.ts":
        `export default { init(pd) { const b = pd.memory.view(pd.setvars.data, pd.setvars.data_len); ` +
        `pd.dbgPuts(Buffer.from(b).toString("latin1") + " " + pd.setvars.data_len + " " + pd.memory.read8(pd.setvars.data + 8) + "\\n"); }, notified() {} };\n`,
      "s.system":
        `<system><memory_region name="blob" prefill_path="data.bin" />` +
        `${pd("reader", "", '<map mr="blob" vaddr="0x400000" perms="r" setvar_vaddr="data" setvar_prefill_size="data_len" />')}</system>`,
    });
    expect(await run(join(dir, "s.system"))).toContain("virtkit! 8 0\n");
  });
});

describe("device memory", () => {
  test("a map of device space reaches the board's device model by offset", async () => {
    const out = await runToIdle(
      '<memory_region name="nic" size="0x1000" phys_addr="0xa003000" />' +
        pd("probe", "", '<map mr="nic" vaddr="0x3000000" perms="rw" cached="false" />'),
      {
        probe: {
          init(p) {
            p.dbgPuts(`${p.memory.read32(0x3000e00).toString(16)} ${p.memory.read32(0x3000e04)}\n`);
            p.memory.read32(0x3000e02);
          },
          notified() {},
        },
      },
    );
    expect(out).toContain("74726976 2\n");
    expect(out).toContain("dfsc = alignment fault (0x00000021)");
  });
});
