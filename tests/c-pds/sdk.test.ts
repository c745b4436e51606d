// virtkit's Microkit SDK as a user meets it: `virtkit sdk`, a Makefile written for Microkit's SDK,
// the SDK's bin/microkit writing a system image, `virtkit run` and `virtkit report` on the result.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { toolchainProblem } from "./harness.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const problem = toolchainProblem();

function virtkit(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [join(ROOT, "bin/virtkit.mjs"), ...args], {
    encoding: "utf8",
    timeout: 120_000,
    input: "",
    env: { ...process.env, ...env },
  });
}

describe.skipIf(problem !== undefined)("virtkit's Microkit SDK", () => {
  const cache = mkdtempSync(join(tmpdir(), "virtkit-sdk-cache-"));
  let sdk: string;

  beforeAll(() => {
    const printed = virtkit(["sdk", "--print-path"], { VIRTKIT_CACHE: cache });
    expect(printed.stderr).toBe("");
    expect(printed.status).toBe(0);
    sdk = printed.stdout.trim();
  }, 120_000);

  test("--print-path builds the SDK in the user cache once, shaped like Microkit's", () => {
    expect(sdk).toBe(join(cache, "sdk"));
    for (const board of ["qemu_virt_aarch64", "maaxboard", "odroidc4"]) {
      for (const config of ["debug", "release"]) {
        const dir = join(sdk, "board", board, config);
        for (const file of [
          "include/microkit.h",
          "include/sel4/sel4.h",
          "include/sel4/abi.h",
          "include/kernel/gen_config.h",
          "lib/libmicrokit.a",
          "lib/microkit.ld",
        ]) {
          expect(existsSync(join(dir, file)), `${board}/${config}/${file}`).toBe(true);
        }
      }
    }
    const stamp = statSync(join(sdk, ".virtkit-sdk")).mtimeMs;
    expect(virtkit(["sdk", "--print-path"], { VIRTKIT_CACHE: cache }).stdout.trim()).toBe(sdk);
    expect(statSync(join(sdk, ".virtkit-sdk")).mtimeMs).toBe(stamp);
    const config = readFileSync(
      join(sdk, "board/qemu_virt_aarch64/debug/include/kernel/gen_config.h"),
      "utf8",
    );
    expect(config).toMatch(/^#define CONFIG_SEL4_ARCH {2}aarch64$/m);
    expect(config).toMatch(/^#define CONFIG_KERNEL_MCS {2}1$/m);
  });

  test("examples/c-hello builds with make as a Microkit example does, and its image runs", () => {
    const build = mkdtempSync(join(tmpdir(), "virtkit-c-hello-"));
    execFileSync(
      "make",
      ["-s", "-C", join(ROOT, "examples/c-hello"), `MICROKIT_SDK=${sdk}`, `BUILD_DIR=${build}`],
      {
        stdio: "pipe",
      },
    );
    // The image is unpacked into the temporary folder and removed when virtkit exits.
    const scratch = mkdtempSync(join(tmpdir(), "virtkit-tmp-"));
    const run = virtkit(["run", join(build, "loader.img"), "--console", "stdio"], { TMPDIR: scratch });
    expect(run.stdout).toBe("MON|INFO: Microkit Monitor started!\nhello, world from C\n");
    expect(run.status).toBe(0);
    expect(readdirSync(scratch)).toEqual([]);
    const check = virtkit(["check", join(build, "loader.img")], { TMPDIR: scratch });
    expect(check.stdout).toBe(
      `${join(build, "loader.img")}: valid (1 protection domain, 0 memory regions, 0 channels, 0 virtual machines)\n`,
    );
    expect(check.status).toBe(0);
    const described = virtkit(["report", join(build, "loader.img")], { TMPDIR: scratch });
    expect(described.stdout).toContain("entry 0x200000");
    expect(described.stdout.split("\n")[0]).toBe(`System ${join(build, "loader.img")}`);
    expect(described.status).toBe(0);
    expect(readdirSync(scratch)).toEqual([]);
    const report = readFileSync(join(build, "report.txt"), "utf8");
    expect(report).toContain(`hello: ${join(build, "hello.elf")}\n    entry 0x200000\n`);
    expect(report).toMatch(/segment \[0x200000\.\.0x[0-9a-f]+\) r-x/);
    expect(report).toMatch(/IPC buffer 0x[0-9a-f]+000\n/);
  });

  test("the tool refuses a system whose program image was not built, naming it and the remedy", () => {
    const dir = mkdtempSync(join(tmpdir(), "virtkit-c-missing-"));
    writeFileSync(
      join(dir, "x.system"),
      '<system><protection_domain name="x"><program_image path="x.elf"/></protection_domain></system>',
    );
    const tool = spawnSync(
      join(sdk, "bin/microkit"),
      ["x.system", "--search-path", dir, "-o", "x.img", "-r", "r.txt"],
      {
        cwd: dir,
        encoding: "utf8",
      },
    );
    expect(tool.status).toBe(1);
    expect(tool.stderr).toContain("Error: unable to find program image: 'x.elf' (protection domain 'x')");
    expect(existsSync(join(dir, "x.img"))).toBe(false);
    writeFileSync(join(dir, "x.ts"), "export default { init() {}, notified() {} };\n");
    const mixed = spawnSync(join(sdk, "bin/microkit"), ["x.system", "-o", "x.img", "-r", "r.txt"], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(mixed.status).toBe(1);
    expect(mixed.stderr).toContain(
      `it is the TypeScript module ${join(dir, "x.ts")}, and an image holds only ELF files; run the .system file`,
    );
  });

  test("the tool refuses, at build time, a setvar the ELF lacks and a map over its program", () => {
    const build = mkdtempSync(join(tmpdir(), "virtkit-c-hello-"));
    execFileSync(
      "make",
      ["-s", "-C", join(ROOT, "examples/c-hello"), `MICROKIT_SDK=${sdk}`, `BUILD_DIR=${build}`],
      {
        stdio: "pipe",
      },
    );
    writeFileSync(
      join(build, "bad.system"),
      '<system><memory_region name="m" size="0x1000"/>' +
        '<protection_domain name="hello"><program_image path="hello.elf"/>' +
        '<map mr="m" vaddr="0x200000" perms="rw" setvar_vaddr="missing_symbol"/></protection_domain></system>',
    );
    const tool = spawnSync(join(sdk, "bin/microkit"), ["bad.system", "-o", "bad.img", "-r", "bad.txt"], {
      cwd: build,
      encoding: "utf8",
    });
    expect(tool.status).toBe(1);
    expect(tool.stderr).toContain(
      `Error: protection domain 'hello': setvar 'missing_symbol' has no symbol in ${join(build, "hello.elf")}: ` +
        "declare it in the program (e.g. uintptr_t missing_symbol;)\n",
    );
    expect(tool.stderr).toContain(
      "Error: protection domain 'hello': the map of memory region 'm' at [0x200000..0x201000) overlaps the program's segment",
    );
    expect(existsSync(join(build, "bad.img"))).toBe(false);
  });
});
