// A plain-object vCPU for libvmm's unit tests: registers only, no core.
import type { VcpuRegisters } from "../../src/libvmm/vcpu.ts";

export class FakeRegisters implements VcpuRegisters {
  readonly x: bigint[] = new Array<bigint>(31).fill(0n);
  pc = 0n;
  pstate = 0;
  getX(n: number): bigint {
    if (n < 0 || n > 30) throw new Error(`x${n} is not a general-purpose register`);
    return this.x[n]!;
  }
  setX(n: number, value: bigint): void {
    if (n < 0 || n > 30) throw new Error(`x${n} is not a general-purpose register`);
    this.x[n] = value;
  }
}

export interface DataAbortFields {
  isv?: boolean;
  size: 1 | 2 | 4 | 8;
  sse?: boolean;
  srt: number;
  sf?: boolean;
  write: boolean;
  dfsc?: number;
}

/** ESR_EL2 for a data abort from a lower EL with IL = 1. */
export function dataAbortEsr(f: DataAbortFields): number {
  const sas = Math.log2(f.size);
  return (
    ((0x24 << 26) |
      (1 << 25) |
      (((f.isv ?? true) ? 1 : 0) << 24) |
      (sas << 22) |
      ((f.sse ? 1 : 0) << 21) |
      (f.srt << 16) |
      (((f.sf ?? true) ? 1 : 0) << 15) |
      ((f.write ? 1 : 0) << 6) |
      (f.dfsc ?? 0x07)) >>>
    0
  );
}
