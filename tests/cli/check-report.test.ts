// The `check` and `report` commands as a user runs them: real processes, exit codes, stderr.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

function virtkit(...args: string[]) {
  const result = spawnSync(process.execPath, ["bin/virtkit.mjs", ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    firstErrorLine: result.stderr.split("\n")[0],
  };
}

const folder = mkdtempSync(join(tmpdir(), "virtkit-cli-"));
function systemFile(name: string, text: string): string {
  const path = join(folder, name);
  writeFileSync(path, text);
  return path;
}

describe("virtkit check", () => {
  it("accepts both examples", () => {
    for (const file of ["examples/wordle/part4.system", "examples/simple/qemu_virt_aarch64/simple.system"]) {
      const result = virtkit("check", file);
      expect(result.status).toBe(0);
      expect(result.stderr).toBe("");
      expect(result.stdout).toMatch(/: valid \(/);
    }
  });

  it("checks for the board --board names, and refuses a board it does not know", () => {
    const ok = virtkit("check", "--board", "qemu_virt_aarch64", "examples/wordle/part4.system");
    expect(ok.status).toBe(0);
    const report = virtkit(
      "report",
      "--json",
      "--board",
      "qemu_virt_aarch64",
      "examples/wordle/part4.system",
    );
    expect(JSON.parse(report.stdout).platform.name).toBe("qemu_virt_aarch64");
    const unknown = virtkit("check", "--board", "imaginary", "examples/wordle/part4.system");
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain("option '--board <name>' argument 'imaginary' is invalid");
    expect(unknown.stderr).toContain("qemu_virt_aarch64");
  });

  it("exits 1 with the located error as the first line of stderr", () => {
    const file = systemFile(
      "ppc.system",
      [
        "<system>",
        '  <protection_domain name="a" priority="2"><program_image path="a"/></protection_domain>',
        '  <protection_domain name="b" priority="1"><program_image path="b"/></protection_domain>',
        '  <channel><end pd="a" id="1" pp="true"/><end pd="b" id="1"/></channel>',
        "</system>",
      ].join("\n"),
    );
    const result = virtkit("check", file);
    expect(result.status).toBe(1);
    expect(result.firstErrorLine).toBe(
      `Error: PPCs must be to protection domains of strictly higher priorities; channel with PPC exists from pd a (priority: 2) to pd b (priority: 1) @ ${file}:4:12`,
    );
    expect(result.stderr.split("\n")[1]).toBe("hint: Raise the priority of 'b' above 2, or lower 'a'.");
    expect(result.stdout).toBe("");
  });

  it("exits 1 on binary garbage and on a missing file, without a stack trace", () => {
    const garbage = join(folder, "garbage.system");
    writeFileSync(garbage, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0xff, 0xfe]));
    const result = virtkit("check", garbage);
    expect(result.status).toBe(1);
    expect(result.firstErrorLine).toBe(`Could not parse '${garbage}': disallowed character @ ${garbage}:1:5`);
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/);
    const missing = virtkit("check", join(folder, "nope.system"));
    expect(missing.status).toBe(1);
    expect(missing.firstErrorLine).toBe(`Error: cannot read '${join(folder, "nope.system")}': no such file`);
  });

  it("prints warnings on stderr and still exits 0", () => {
    const file = systemFile(
      "unused.system",
      '<system>\n  <memory_region name="spare" size="0x1000"/>\n  <protection_domain name="a"><program_image path="a"/></protection_domain>\n</system>\n',
    );
    const result = virtkit("check", file);
    expect(result.status).toBe(0);
    expect(result.stderr).toBe(`WARNING: unused memory region 'spare' @ ${file}:2:3\n`);
  });

  it("takes --cores and --search-path", () => {
    const sub = mkdtempSync(join(folder, "blobs-"));
    writeFileSync(join(sub, "blob.bin"), "data");
    const file = systemFile(
      "options.system",
      [
        "<system>",
        '  <memory_region name="blob" prefill_path="blob.bin"/>',
        '  <protection_domain name="a" cpu="1"><program_image path="a"/><map mr="blob" vaddr="0x1000"/></protection_domain>',
        "</system>",
      ].join("\n"),
    );
    expect(virtkit("check", file, "--search-path", sub).firstErrorLine).toBe(
      `Error: cpu core must be less than 1, got 1 on element 'protection_domain': ${file}:3:3`,
    );
    expect(virtkit("check", file, "--cores", "2").firstErrorLine).toBe(
      `Error: unable to find prefill file: 'blob.bin' on element 'memory_region': ${file}:2:3`,
    );
    expect(
      virtkit("check", file, "--cores", "2", "--search-path", "/nonexistent", "--search-path", sub).status,
    ).toBe(0);
    const badCores = virtkit("check", file, "--cores", "zero");
    expect(badCores.status).toBe(1);
    expect(badCores.firstErrorLine).toBe(
      "error: option '--cores <n>' argument 'zero' is invalid. give a whole number of cores from 1 to 256.",
    );
  });

  it("describes every option in --help", () => {
    const help = virtkit("check", "--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--cores <n>");
    expect(help.stdout).toContain("--search-path <dir>");
  });
});

describe("virtkit report", () => {
  it("reports the Wordle system as text, with a physical memory table sorted by address", () => {
    const result = virtkit("report", "examples/wordle/part4.system");
    expect(result.status).toBe(0);
    const out = result.stdout;
    for (const heading of [
      "Protection domains (4)",
      "Memory regions (6)",
      "Channels (3)",
      "Virtual machines (1)",
      "Physical memory (by address)",
    ]) {
      expect(out).toContain(heading);
    }
    expect(out).toContain("priority 101, budget 1000 us / period 1000 us, active");
    expect(out).toMatch(/1 +wordle_server +2 +yes +yes/);
    expect(out).toMatch(/2 +79 +edge/);
    const physical = out.slice(out.indexOf("Physical memory"));
    const starts = [...physical.matchAll(/^ {2}(0x[0-9a-f]+) /gm)].map((match) => Number(match[1]));
    expect(starts).toEqual([0x8040000, 0x9000000, 0xa003000, 0x40000000, 0x50000000, 0x50001000]);
  });

  it("gives the same data as JSON, masks as hex strings", () => {
    const result = virtkit("report", "examples/wordle/part4.system", "--json");
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    const vmm = report.protectionDomains.find((pd: { name: string }) => pd.name === "vmm");
    expect(vmm.masks).toEqual({ irqs: "0x4", notifications: "0x2", pps: "0x2" });
    expect(vmm.channels).toEqual([{ id: 1, peer: "wordle_server", peerId: 2, pp: true, notify: true }]);
    expect(report.virtualMachines[0]).toMatchObject({
      name: "linux",
      vmm: "vmm",
      vcpus: [{ id: 0, cpu: 0 }],
    });
    expect(report.memoryRegions.find((mr: { name: string }) => mr.name === "serial_to_client")).toEqual({
      name: "serial_to_client",
      size: 4096,
      pageSize: 4096,
      paddr: 0x50000000,
      placement: "placed",
    });
    expect(report.physicalMemory.map((range: { mr: string }) => range.mr)).toEqual([
      "gic_vcpu",
      "uart",
      "ethernet",
      "guest_ram",
      "serial_to_client",
      "client_to_serial",
    ]);
  });

  it("fails like check on an invalid system", () => {
    const file = systemFile("empty.system", "<system/>");
    const result = virtkit("report", file, "--json");
    expect(result.status).toBe(1);
    expect(result.firstErrorLine).toBe(`Error: at least one protection domain must be defined @ ${file}:1:1`);
    expect(result.stdout).toBe("");
  });

  it("describes --json in --help", () => {
    expect(virtkit("report", "--help").stdout).toContain("--json");
  });
});
