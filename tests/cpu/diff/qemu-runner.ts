// Runs a test program under qemu-aarch64 (user mode, Cortex-A53) and returns the state it reports.
import { spawnSync } from "node:child_process";
import { CROSS } from "../toolchain.ts";
import { REPORT_SIZE, decodeReport, type CpuState } from "./state.ts";

/** The end state and the snapshot log (one SNAPSHOT_SIZE record per item). */
export type QemuOutcome = { ok: true; state: CpuState; log: Uint8Array } | { ok: false; problem: string };

export function runInQemu(elf: string): QemuOutcome {
  const result = spawnSync(CROSS.qemu, ["-cpu", "cortex-a53", elf], {
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  if (result.error) return { ok: false, problem: `could not run ${CROSS.qemu}: ${result.error.message}` };
  const stdout = new Uint8Array(result.stdout);
  if (result.status !== 0 || stdout.length < REPORT_SIZE) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with ${result.status}`;
    return {
      ok: false,
      problem: `qemu-aarch64 ${how} after writing ${stdout.length} of ${REPORT_SIZE} bytes${result.stderr.length ? `: ${result.stderr.toString().trim()}` : ""}`,
    };
  }
  return {
    ok: true,
    state: decodeReport(stdout.subarray(0, REPORT_SIZE)),
    log: stdout.subarray(REPORT_SIZE),
  };
}
