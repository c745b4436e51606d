// Field-by-field comparison of two end states, described for people.
import { SNAPSHOT_SIZE, decodeSnapshot, type CpuState, type Snapshot } from "./state.ts";

export interface Difference {
  field: string;
  qemu: string;
  virtkit: string;
}

const hex64 = (v: bigint) => `0x${v.toString(16).padStart(16, "0")}`;
const hex32 = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, "0")}`;

/** The first item whose snapshot differs between the two logs, with what differs in it. */
export function firstDifferentSnapshot(
  qemu: Uint8Array,
  virtkit: Uint8Array,
): { index: number; differences: Difference[] } | undefined {
  const count = Math.min(qemu.length, virtkit.length) / SNAPSHOT_SIZE;
  for (let i = 0; i < count; i++) {
    const q = qemu.subarray(i * SNAPSHOT_SIZE, (i + 1) * SNAPSHOT_SIZE);
    const k = virtkit.subarray(i * SNAPSHOT_SIZE, (i + 1) * SNAPSHOT_SIZE);
    if (!Buffer.from(q.buffer, q.byteOffset, q.length).equals(k)) {
      return { index: i, differences: compareSnapshots(decodeSnapshot(qemu, i), decodeSnapshot(virtkit, i)) };
    }
  }
  if (qemu.length !== virtkit.length) {
    const field = "snapshot count";
    return {
      index: count,
      differences: [
        { field, qemu: String(qemu.length / SNAPSHOT_SIZE), virtkit: String(virtkit.length / SNAPSHOT_SIZE) },
      ],
    };
  }
  return undefined;
}

/** What differs between two snapshots: registers, SP, flags and the scratch area (by its hash). */
function compareSnapshots(qemu: Snapshot, virtkit: Snapshot): Difference[] {
  const out = compareRegisters(qemu, virtkit);
  if (qemu.sp !== virtkit.sp) out.push({ field: "sp", qemu: hex64(qemu.sp), virtkit: hex64(virtkit.sp) });
  if (qemu.scratchHash !== virtkit.scratchHash) {
    const field = "scratch (hash after the item; the item run alone shows the bytes)";
    out.push({ field, qemu: hex64(qemu.scratchHash), virtkit: hex64(virtkit.scratchHash) });
  }
  return out;
}

/** Registers and flags that differ between two snapshots or states. */
function compareRegisters(
  qemu: Pick<Snapshot, "x" | "nzcv" | "fpsr" | "v">,
  virtkit: Pick<Snapshot, "x" | "nzcv" | "fpsr" | "v">,
): Difference[] {
  const out: Difference[] = [];
  qemu.x.forEach((q, i) => {
    if (q !== virtkit.x[i]) out.push({ field: `x${i}`, qemu: hex64(q), virtkit: hex64(virtkit.x[i]!) });
  });
  if (qemu.nzcv !== virtkit.nzcv) {
    out.push({ field: "nzcv", qemu: nzcvText(qemu.nzcv), virtkit: nzcvText(virtkit.nzcv) });
  }
  if (qemu.fpsr !== virtkit.fpsr) {
    out.push({ field: "fpsr", qemu: fpsrText(qemu.fpsr), virtkit: fpsrText(virtkit.fpsr) });
  }
  qemu.v.forEach((q, i) => {
    const k = virtkit.v[i]!;
    if (q.lo !== k.lo || q.hi !== k.hi)
      out.push({ field: `v${i}`, qemu: vectorText(q), virtkit: vectorText(k) });
  });
  return out;
}

/** Everything that differs between two end states: registers, SP, flags, FPCR/FPSR and scratch memory. */
export function compareStates(qemu: CpuState, virtkit: CpuState): Difference[] {
  const out = compareRegisters(qemu, virtkit);
  if (qemu.sp !== virtkit.sp) out.push({ field: "sp", qemu: hex64(qemu.sp), virtkit: hex64(virtkit.sp) });
  if (qemu.fpcr !== virtkit.fpcr)
    out.push({ field: "fpcr", qemu: hex32(qemu.fpcr), virtkit: hex32(virtkit.fpcr) });
  for (let i = 0; i < qemu.scratch.length; i += 8) {
    const q = qemu.scratch.subarray(i, i + 8);
    const k = virtkit.scratch.subarray(i, i + 8);
    if (q.some((b, j) => b !== k[j])) {
      out.push({ field: `scratch+0x${i.toString(16)}`, qemu: bytesText(q), virtkit: bytesText(k) });
    }
  }
  return out;
}

export function vectorText(v: { lo: bigint; hi: bigint }): string {
  return `0x${v.hi.toString(16).padStart(16, "0")}_${v.lo.toString(16).padStart(16, "0")}`;
}

export function nzcvText(nzcv: number): string {
  return `${"NZCV"
    .split("")
    .map((f, i) => ((nzcv >>> (31 - i)) & 1 ? f : f.toLowerCase()))
    .join("")} (${hex32(nzcv)})`;
}

const FPSR_FLAGS: [number, string][] = [
  [27, "QC"],
  [7, "IDC"],
  [4, "IXC"],
  [3, "UFC"],
  [2, "OFC"],
  [1, "DZC"],
  [0, "IOC"],
];

export function fpsrText(fpsr: number): string {
  const flags = FPSR_FLAGS.filter(([bit]) => (fpsr >>> bit) & 1).map(([, name]) => name);
  return `${hex32(fpsr)} (${flags.join(" ") || "no flags"})`;
}

function bytesText(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}
