// The exclusive monitor for LDXR/STXR. The core models the local and global
// monitor as one reservation per running vCPU, keyed by the host address of the
// reserved granule. It is cleared on every exception entry and return and at
// the start of every run slice, which the architecture allows (a store
// exclusive may fail spuriously), and which makes stores by other vCPUs and by
// the host between slices safe without watching every store.

// Exported for the JIT's exclusives (src/machine/cpu/jit/translate.ts), which use them in place.
export const NO_RESERVATION: usize = <usize>-1;
export let reservedAddress: usize = NO_RESERVATION;
export let reservedSize: u32 = 0;

export function setExclusiveMonitor(hostAddress: usize, size: u32): void {
  reservedAddress = hostAddress;
  reservedSize = size;
}

/** True when a store exclusive to this address and size may complete; always clears the monitor. */
export function checkAndClearExclusiveMonitor(hostAddress: usize, size: u32): bool {
  const ok = reservedAddress == hostAddress && reservedSize == size;
  reservedAddress = NO_RESERVATION;
  return ok;
}

export function clearExclusiveMonitor(): void {
  reservedAddress = NO_RESERVATION;
}
