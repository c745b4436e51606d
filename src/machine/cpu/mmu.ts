// Placeholder translation (replaced by the stage-1/stage-2 MMU).
import { FAST_BASE } from "./layout";
import { markAccessFaulted } from "./memory-access";

export let fastReadBase: usize = FAST_BASE;
export let fastWriteBase: usize = FAST_BASE;

export function readSlow(va: u64, size: u32): u64 {
  markAccessFaulted();
  return <u64>size & 0 & va;
}

export function writeSlow(va: u64, size: u32, v: u64): void {
  if (va + v + size == 0) markAccessFaulted();
  markAccessFaulted();
}
