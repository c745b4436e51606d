// `virtkit report`: PDs, maps, channels, VMs and physical memory, as text or JSON.

import type { Command } from "commander";
import type { RegisterCommand } from "./commands.ts";
import type { SystemOptions } from "./check.ts";
import type { MapSummary, SystemSummary } from "../sdf/summary.ts";
import { addSystemOptions, loadSystemTarget, systemTarget } from "./check.ts";
import { hex } from "../util/hex.ts";
import { summarise } from "../sdf/summary.ts";
import { elfReport } from "../microkit/index.ts";

export const registerReport: RegisterCommand = (program, setExitCode) => {
  addSystemOptions(
    program
      .command("report")
      .description(
        "Check a Microkit system description and describe it: protection domains, memory regions, " +
          "channels, virtual machines and the physical memory layout, including where the tool placed " +
          "regions that have no phys_addr.",
      )
      .argument("<file>", "the .system file (or a system image from the SDK's microkit tool) to report on")
      .option("--json", "print the report as JSON (masks as hex strings) instead of text"),
  ).action((file: string, options: SystemOptions & { json?: boolean }, command: Command) => {
    const target = systemTarget(file);
    const system = loadSystemTarget(target, options, command);
    if (!system) {
      setExitCode(1);
      return;
    }
    // An image's unpacked folder is temporary: name the image the user gave.
    const summary = { ...summarise(system), file: target.ok && target.image ? file : system.file };
    const text = options.json
      ? toJson(summary)
      : [renderReport(summary), ...elfReport(system, options.searchPath)].join("\n");
    process.stdout.write(`${text}\n`);
    setExitCode(0);
  });
};

function toJson(summary: SystemSummary): string {
  return JSON.stringify(summary, (_key, value) => (typeof value === "bigint" ? hex(value) : value), 2);
}

/** The report as aligned plain-text tables, one section per kind of object. */
export function renderReport(summary: SystemSummary): string {
  const { platform } = summary;
  const ramEnd = platform.ram.base + platform.ram.size;
  const lines = [
    `System ${summary.file}`,
    `  board ${platform.name}, ${platform.cores} core(s), RAM [${hex(platform.ram.base)}..${hex(ramEnd)})`,
  ];

  lines.push("", `Protection domains (${summary.protectionDomains.length})`);
  for (const pd of summary.protectionDomains) {
    const role = pd.parent === undefined ? "" : ` (child ${pd.childId} of ${pd.parent})`;
    lines.push(
      "",
      `  ${pd.name}${role}`,
      `    priority ${pd.priority}, budget ${pd.budget} us / period ${pd.period} us, ${pd.passive ? "passive" : "active"}, ` +
        `cpu ${pd.cpu}, stack ${hex(pd.stackSize)}${pd.smc ? ", smc" : ""}${pd.fpu ? "" : ", no fpu"}` +
        `${pd.domain === undefined ? "" : `, domain ${pd.domain}`}`,
      `    program image ${pd.programImage}; ${pd.hasEndpoint ? "has an endpoint" : "no endpoint"}` +
        `${pd.virtualMachine === undefined ? "" : `; runs virtual machine ${pd.virtualMachine}`}`,
      `    masks: irqs ${hex(pd.masks.irqs)}, notifications ${hex(pd.masks.notifications)}, pps ${hex(pd.masks.pps)}`,
    );
    if (pd.maps.length > 0) lines.push("    maps:", ...indent(mapTable(pd.maps), 6));
    if (pd.irqs.length > 0) {
      lines.push(
        "    irqs:",
        ...indent(
          table(
            ["id", "irq", "trigger"],
            pd.irqs.map((irq) => [irq.id, irq.irq, irq.trigger]),
          ),
          6,
        ),
      );
    }
    if (pd.channels.length > 0) {
      const rows = pd.channels.map((end) => [end.id, end.peer, end.peerId, yesNo(end.pp), yesNo(end.notify)]);
      lines.push("    channels:", ...indent(table(["id", "peer", "peer id", "pp", "notify"], rows), 6));
    }
    if (pd.setvars.length > 0) {
      const rows = pd.setvars.map((setvar) => [setvar.symbol, setvar.kind, hex(setvar.value)]);
      lines.push("    setvars:", ...indent(table(["symbol", "from", "value"], rows), 6));
    }
  }

  lines.push("", `Memory regions (${summary.memoryRegions.length})`);
  const regionRows = summary.memoryRegions.map((mr) => [
    mr.name,
    hex(mr.size),
    hex(mr.pageSize),
    hex(mr.paddr),
    mr.placement === "placed" ? "placed by the tool" : "phys_addr",
    mr.prefillPath ?? "",
  ]);
  lines.push(
    ...indent(table(["name", "size", "page size", "physical address", "from", "prefill"], regionRows), 2),
  );

  lines.push("", `Channels (${summary.channels.length})`);
  const channelRows = summary.channels.map(({ a, b }) => [
    `${a.pd}:${a.id}`,
    `${b.pd}:${b.id}`,
    direction(a.pd, b.pd, a.notify, b.notify),
    a.pp ? `${a.pd} -> ${b.pd}` : b.pp ? `${b.pd} -> ${a.pd}` : "",
  ]);
  lines.push(...indent(table(["end a (pd:id)", "end b (pd:id)", "notify", "ppc"], channelRows), 2));

  lines.push("", `Virtual machines (${summary.virtualMachines.length})`);
  for (const vm of summary.virtualMachines) {
    const vcpus = vm.vcpus.map((vcpu) => `vcpu ${vcpu.id} on cpu ${vcpu.cpu}`).join(", ");
    lines.push(
      "",
      `  ${vm.name} (VMM ${vm.vmm})`,
      `    priority ${vm.priority}, budget ${vm.budget} us / period ${vm.period} us; ${vcpus}`,
    );
    if (vm.maps.length > 0) lines.push("    maps (guest physical):", ...indent(mapTable(vm.maps), 6));
  }

  lines.push("", "Physical memory (by address)");
  const physicalRows = summary.physicalMemory.map((range) => [
    hex(range.start),
    hex(range.end),
    hex(range.end - range.start),
    range.mr,
    range.memory,
    range.placement === "placed" ? "placed by the tool" : "phys_addr",
  ]);
  lines.push(...indent(table(["start", "end", "size", "memory region", "memory", "from"], physicalRows), 2));

  if (summary.warnings.length > 0) lines.push("", "Warnings", ...indent(summary.warnings, 2));
  return lines.join("\n");
}

function mapTable(maps: MapSummary[]): string[] {
  const rows = maps.map((map) => [
    map.mr,
    hex(map.vaddr),
    hex(map.size),
    hex(map.pageSize),
    map.perms || "-",
    yesNo(map.cached),
  ]);
  return table(["mr", "vaddr", "size", "page size", "perms", "cached"], rows);
}

function direction(a: string, b: string, aNotifies: boolean, bNotifies: boolean): string {
  if (aNotifies && bNotifies) return "both ways";
  if (aNotifies) return `${a} -> ${b}`;
  if (bNotifies) return `${b} -> ${a}`;
  return "none";
}

function table(headers: string[], rows: (string | number)[][]): string[] {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  return cells.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join("  ")
      .trimEnd(),
  );
}

function indent(lines: string[], spaces: number): string[] {
  return lines.map((line) => " ".repeat(spaces) + line);
}

function yesNo(value: boolean): string {
  return value ? "yes" : "no";
}
