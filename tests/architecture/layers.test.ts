// The layer rule holds for src/, and the checker really fires on a tree that breaks it.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkLayers } from "../../scripts/check-layers.ts";

describe("layers", () => {
  it("no import in src/ runs up the layers, and device models use no Node API", () => {
    expect(checkLayers(join(import.meta.dirname, "../../src"))).toEqual([]);
  });

  it("reports an import up the layers and a device model's Node import, with file and line", () => {
    const violations = checkLayers(join(import.meta.dirname, "fixtures/src"));
    expect(violations).toEqual([
      {
        file: "machine/devices/uplink.ts",
        line: 2,
        message:
          "device models and boards may not use node:fs: reach the host through a back-end interface (src/machine/backends)",
      },
      {
        file: "machine/devices/uplink.ts",
        line: 3,
        message:
          "src/machine may not import from src/libvmm (../../libvmm/helper.ts): layers use only the layers below them " +
          "(util < sdf < machine < kernel < microkit < sddf < libvmm < host < guest < cli)",
      },
    ]);
  });
});
