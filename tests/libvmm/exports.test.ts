// What docs/writing-a-vmm.md promises a VMM author can import from src/libvmm/index.ts is there.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as libvmm from "../../src/libvmm/index.ts";

const ROOT = join(import.meta.dirname, "../..");

describe("libvmm's public API", () => {
  it("exports every value the VMM guide names in its examples and its list of pieces", () => {
    const guide = readFileSync(join(ROOT, "docs/writing-a-vmm.md"), "utf8");
    const imports = /import \{([^}]*)\} from "\.\.\/\.\.\/src\/libvmm\/index\.ts"/.exec(guide)![1]!;
    const fromExample = imports
      .split(",")
      .map((name) => name.trim())
      .filter(Boolean);
    const pieces = ["emulateDataAbort", "MmioRegions", "Vgic", "Gicv2Distributor", "Gicv3Distributor"];
    const more = ["Gicv3Redistributors", "SmcccDispatcher", "disassemble", "deviceTreeRegions"];
    for (const name of [...fromExample, ...pieces, ...more, "formatFaultReport"]) {
      expect(libvmm, name).toHaveProperty(name);
    }
  });

  it("names only types that exist in the source (types leave no runtime trace)", () => {
    const index = readFileSync(join(ROOT, "src/libvmm/index.ts"), "utf8");
    for (const type of ["VcpuRegisters", "VcpuControl", "VirtualIrqSink", "PsciPlatform", "MmioDevice"]) {
      expect(index, type).toMatch(new RegExp(`\\btype ${type}\\b|\\b${type}\\b[^\\n]*from`));
    }
  });
});
