// `virtkit run --kernel/--initrd/--dtb/--append` reach the guest: a bare-metal program, booted as a raw
// binary (it has no arm64 Image header), prints the device tree it was handed.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { guestDtb } from "../../src/guest/dtb/guest-dtb.ts";
import { guestLayout } from "../../src/guest/layout.ts";
import { ensureGuestImages } from "../../src/guest/images.ts";
import { boardNamed } from "../../src/machine/boards/index.ts";
import { CROSS, ensureCpuTestTools, runTool } from "../cpu/toolchain.ts";
import { GUEST_CFLAGS } from "../guests/build.ts";

const ROOT = join(import.meta.dirname, "../..");
const SOURCE = join(import.meta.dirname, "guests");
const OUT = join(ROOT, "build", "guests");
const program = join(OUT, "boot-info.bin");

function run(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync(
    process.execPath,
    ["bin/virtkit.mjs", "run", "--console", "stdio", "examples/simple", "--kernel", program, ...args],
    { cwd: ROOT, input: "", encoding: "latin1", timeout: 120_000 },
  );
  return { status: result.status, output: result.stdout + result.stderr };
}

describe("guest boot options", () => {
  beforeAll(async () => {
    const missing = ensureCpuTestTools();
    if (missing) throw new Error(missing);
    mkdirSync(OUT, { recursive: true });
    const elf = join(OUT, "boot-info.elf");
    runTool(CROSS.gcc, [
      ...GUEST_CFLAGS,
      "-T",
      join(SOURCE, "boot-info.ld"),
      "-o",
      elf,
      join(SOURCE, "boot-info.c"),
    ]);
    runTool(CROSS.objcopy, ["-O", "binary", elf, program]);
    await ensureGuestImages({ kernel: "minimal" });
  }, 900_000);

  it("boots a raw binary at RAM base + 0x80000 with --append's bootargs and no initrd", () => {
    const { status, output } = run("--initrd", "none", "--append", "virtkit says hello");
    expect(output).toContain("raw binary (no arm64 Image header) at 0x40080000");
    expect(output).toContain("boot-info: bootargs: virtkit says hello\n");
    expect(output).toContain("boot-info: initrd: none\n");
    expect(status).toBe(0);
  });

  it("gives the guest the board's default bootargs and the built initrd without them", () => {
    const { status, output } = run();
    expect(output).toContain(`boot-info: bootargs: ${boardNamed().guest.bootargs}\n`);
    expect(output).toContain("boot-info: initrd: described\n");
    expect(status).toBe(0);
  });

  it("hands the guest --dtb's tree as it is", () => {
    const dtb = join(mkdtempSync(join(tmpdir(), "virtkit-dtb-")), "mine.dtb");
    const layout = guestLayout(boardNamed());
    writeFileSync(dtb, guestDtb({ ...layout.deviceTree(undefined, "from my own tree"), model: "my board" }));
    const { status, output } = run("--initrd", "none", "--dtb", dtb);
    expect(output).toContain("boot-info: model: my board\n");
    expect(output).toContain("boot-info: bootargs: from my own tree\n");
    expect(status).toBe(0);
  });
});
