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

/** Records libmicrokit vCPU calls, holding one FakeRegisters per vCPU. */
export class FakeVcpuControl {
  readonly regs: FakeRegisters[];
  readonly calls: string[] = [];
  constructor(vcpuCount: number) {
    this.regs = Array.from({ length: vcpuCount }, () => new FakeRegisters());
  }
  registers(vcpuId: number): FakeRegisters {
    return this.regs[vcpuId]!;
  }
  restart(vcpuId: number, pc: bigint): void {
    this.calls.push(`restart ${vcpuId} 0x${pc.toString(16)}`);
  }
  stop(vcpuId: number): void {
    this.calls.push(`stop ${vcpuId}`);
  }
  writeSystemRegister(vcpuId: number, name: string, value: bigint): void {
    this.calls.push(`${name} ${vcpuId} 0x${value.toString(16)}`);
  }
}

export function recordingLog(pd = "vmm") {
  const lines: string[] = [];
  return {
    lines,
    info: (m: string) => lines.push(...m.split("\n").map((l) => `${pd}|INFO: ${l}`)),
    error: (m: string) => lines.push(...m.split("\n").map((l) => `${pd}|ERROR: ${l}`)),
  };
}
