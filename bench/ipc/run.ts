// `npm run bench:ipc`: a C client PPCing a C server ROUNDS times, and a notify ping-pong between two C
// PDs (each built with virtkit's SDK, run at EL0 on the core), with the same two exchanges between
// TypeScript PDs for comparison: instructions executed and wall time per round trip. Results in
// bench/results/ipc-<date>.json and .md.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { CROSS_PREFIX, defaultSdkPath, ensureSdk } from "../../src/cli/sdk.ts";
import { ElfProgram, bootSystemFile, type RunningSystem } from "../../src/microkit/index.ts";
import { HarnessConsole } from "../../src/machine/backends/harness-console.ts";

const ROUNDS = Number(process.env.IPC_ROUNDS ?? 1_000_000);
const HERE = import.meta.dirname;
const RESULTS = join(HERE, "../results");
const MICROKIT = JSON.stringify(join(HERE, "../../src/microkit/index.ts"));

function build(dir: string, sdk: string, source: string, elf: string, defines: string[]): void {
  const board = join(sdk, "board/qemu_virt_aarch64/release");
  const object = join(dir, `${elf}.o`);
  const flags = ["-ffreestanding", "-nostdlib", "-O2", "-mstrict-align", `-DROUNDS=${ROUNDS}`];
  execFileSync(`${CROSS_PREFIX}gcc`, [
    ...flags,
    ...defines,
    "-I",
    join(board, "include"),
    "-c",
    join(HERE, source),
    "-o",
    object,
  ]);
  execFileSync(`${CROSS_PREFIX}ld`, [
    "-L",
    join(board, "lib"),
    object,
    "-lmicrokit",
    "-Tmicrokit.ld",
    "-o",
    join(dir, elf),
  ]);
}

const pd = (name: string, image: string, priority: number): string =>
  `<protection_domain name="${name}" priority="${priority}"><program_image path="${image}"/></protection_domain>`;

/** The same exchanges as TypeScript PDs. */
const TS_PDS: Record<string, string> = {
  "tsclient.ts":
    `import { definePd } from ${MICROKIT};\n` +
    `export default definePd({ init(pd) { let sum = 0n;\n` +
    `  for (let i = 0; i < ${ROUNDS}; i++) { pd.mrSet(0, i); pd.ppcall(0, pd.msginfoNew(0, 1)); sum += pd.mrGet(0); }\n` +
    `  pd.dbgPuts(sum === BigInt(${ROUNDS}) * BigInt(${ROUNDS + 1}) / 2n ? "client: replies OK\\n" : "client: WRONG replies\\n"); },\n` +
    `  notified() {} });\n`,
  "tsserver.ts":
    `import { definePd } from ${MICROKIT};\n` +
    `export default definePd({ init() {}, notified() {},\n` +
    `  protected(pd) { pd.mrSet(0, pd.mrGet(0) + 1n); return pd.msginfoNew(0, 1); } });\n`,
  "tsping.ts":
    `import { definePd } from ${MICROKIT};\n` +
    `export default definePd(() => { let count = 0; return { init(pd) { pd.notify(0); },\n` +
    `  notified(pd) { if (++count === ${ROUNDS}) { pd.dbgPuts("ping: done\\n"); return; } pd.notify(0); } }; });\n`,
  "tspong.ts":
    `import { definePd } from ${MICROKIT};\n` +
    `export default definePd({ init() {}, notified(pd) { pd.notify(0); } });\n`,
};

interface Measurement {
  exchange: string;
  pds: "C" | "TypeScript";
  rounds: number;
  wallSeconds: number;
  wallNsPerRoundTrip: number;
  /** Instructions the C PDs executed per round trip (both sides, the syscall stubs and libmicrokit included). */
  instructionsPerRoundTrip?: number;
  output: string;
}

async function measure(
  dir: string,
  system: string,
  exchange: string,
  pds: Measurement["pds"],
): Promise<Measurement> {
  const console = new HarnessConsole();
  const booted: RunningSystem = await bootSystemFile(join(dir, system), {
    console,
    ramSize: 64 * 1024 * 1024,
  });
  console.endInput();
  const start = performance.now();
  await booted.run();
  const wallSeconds = (performance.now() - start) / 1000;
  const instructions = [...booted.pds.values()]
    .map((running) => (running.program instanceof ElfProgram ? running.program.instructionsRetired : 0))
    .reduce((a, b) => a + b, 0);
  const output = console.output;
  if (!/replies OK|ping: done/.test(output))
    throw new Error(`${exchange} (${pds}) did not finish:\n${output}`);
  return {
    exchange,
    pds,
    rounds: ROUNDS,
    wallSeconds,
    wallNsPerRoundTrip: (wallSeconds * 1e9) / ROUNDS,
    instructionsPerRoundTrip: pds === "C" ? instructions / ROUNDS : undefined,
    output,
  };
}

async function main(): Promise<void> {
  const sdk = ensureSdk(defaultSdkPath(), (line) => process.stderr.write(`${line}\n`));
  const dir = mkdtempSync(join(tmpdir(), "virtkit-bench-ipc-"));
  build(dir, sdk, "client.c", "client.elf", []);
  build(dir, sdk, "server.c", "server.elf", []);
  build(dir, sdk, "pingpong.c", "ping.elf", ["-DPING"]);
  build(dir, sdk, "pingpong.c", "pong.elf", []);
  for (const [name, text] of Object.entries(TS_PDS)) writeFileSync(join(dir, name), text);
  const systems: [string, string, string, Measurement["pds"]][] = [
    ["ppc-c.system", pd("client", "client.elf", 1) + pd("server", "server.elf", 2), "ppcall", "C"],
    [
      "ppc-ts.system",
      pd("client", "tsclient.ts", 1) + pd("server", "tsserver.ts", 2),
      "ppcall",
      "TypeScript",
    ],
    ["notify-c.system", pd("ping", "ping.elf", 1) + pd("pong", "pong.elf", 1), "notify ping-pong", "C"],
    [
      "notify-ts.system",
      pd("ping", "tsping.ts", 1) + pd("pong", "tspong.ts", 1),
      "notify ping-pong",
      "TypeScript",
    ],
  ];
  const results: Measurement[] = [];
  for (const [file, body, exchange, kind] of systems) {
    const ends =
      exchange === "ppcall"
        ? '<end pd="client" id="0" pp="true"/><end pd="server" id="0"/>'
        : '<end pd="ping" id="0"/><end pd="pong" id="0"/>';
    writeFileSync(join(dir, file), `<system>${body}<channel>${ends}</channel></system>\n`);
    const result = await measure(dir, file, exchange, kind);
    process.stderr.write(
      `${exchange} (${kind}): ${ROUNDS} round trips in ${result.wallSeconds.toFixed(2)} s, ` +
        `${result.wallNsPerRoundTrip.toFixed(0)} ns each` +
        `${result.instructionsPerRoundTrip === undefined ? "" : `, ${result.instructionsPerRoundTrip.toFixed(1)} instructions each`}\n`,
    );
    results.push(result);
  }
  const when = new Date()
    .toISOString()
    .replace(/:/g, "-")
    .replace(/\.\d+Z$/, "Z");
  const machine = { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, load: loadavg()[0] };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(
    join(RESULTS, `ipc-${when}.json`),
    `${JSON.stringify({ date: when, machine, results }, null, 2)}\n`,
  );
  const table = results.map(
    (r) =>
      `| ${r.exchange} | ${r.pds} | ${r.rounds} | ${r.wallSeconds.toFixed(2)} | ${r.wallNsPerRoundTrip.toFixed(0)} | ` +
      `${r.instructionsPerRoundTrip?.toFixed(1) ?? "—"} |`,
  );
  writeFileSync(
    join(RESULTS, `ipc-${when}.md`),
    [
      `# IPC benchmark, ${when}`,
      "",
      `${machine.cpu}, ${machine.cores} cores, load ${machine.load.toFixed(1)}. One round trip: a PPC and its reply, or a`,
      "notification each way. Instructions: what the C PDs executed at EL0 (both sides, syscall stubs",
      "and libmicrokit's handler loop included); the kernel model's work is host time, in the wall time.",
      "",
      "| exchange | PDs | round trips | wall s | wall ns / round trip | instructions / round trip |",
      "|---|---|---|---|---|---|",
      ...table,
      "",
    ].join("\n"),
  );
}

await main();
