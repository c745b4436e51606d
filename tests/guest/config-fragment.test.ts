import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkConfigApplied, parseConfigFragment } from "../../src/guest/kernel/config-fragment.ts";
import { MINIMAL_CONFIG_FRAGMENT } from "../../src/guest/kernel/minimal-kernel.ts";

describe("kernel config fragment", () => {
  it("asks for what the guests need", () => {
    const options = parseConfigFragment(readFileSync(MINIMAL_CONFIG_FRAGMENT, "utf8"), "minimal.config").map(
      (s) => s.option,
    );
    for (const needed of [
      "CONFIG_VIRTIO_MMIO",
      "CONFIG_SND_VIRTIO",
      "CONFIG_DEVMEM",
      "CONFIG_UIO_PDRV_GENIRQ",
      "CONFIG_VFAT_FS",
      "CONFIG_RD_GZIP",
    ]) {
      expect(options).toContain(needed);
    }
  });

  it("parses set and unset options with their lines, and rejects other text", () => {
    expect(
      parseConfigFragment('# comment\nCONFIG_A=y\n\n# CONFIG_B is not set\nCONFIG_C="x"\n', "f"),
    ).toEqual([
      { option: "CONFIG_A", value: "y", line: 2 },
      { option: "CONFIG_B", value: undefined, line: 4 },
      { option: "CONFIG_C", value: '"x"', line: 5 },
    ]);
    expect(() => parseConfigFragment("CONFIG_A=y\nVIRTIO=y\n", "frag")).toThrow(
      /frag:2: "VIRTIO=y" is not a config line/,
    );
  });

  it("names every option that did not end up in .config", () => {
    const settings = parseConfigFragment(
      "CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\nCONFIG_D=y\n",
      "frag",
    );
    expect(() => checkConfigApplied(settings, "CONFIG_A=y\nCONFIG_D=y\n", "frag")).toThrow(
      /frag:2: CONFIG_B=y ended up not set/,
    );
    expect(() =>
      checkConfigApplied(settings, "CONFIG_A=y\nCONFIG_B=m\nCONFIG_C=y\nCONFIG_D=y\n", "frag"),
    ).toThrow(/2 option\(s\)[\s\S]*frag:2: CONFIG_B=y ended up =m\n {2}frag:3: CONFIG_C=n ended up =y/);
    expect(() =>
      checkConfigApplied(settings, "CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\nCONFIG_D=y\n", "frag"),
    ).not.toThrow();
  });
});
