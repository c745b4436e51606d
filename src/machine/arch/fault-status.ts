// DFSC/IFSC, the fault status code in ISS bits 5:0 of a Data or Instruction Abort, and its ARM ARM name.

/** The codes the core and the kernel model produce. The four levelled kinds add the lookup level (0–3). */
export const FaultStatus = {
  addressSize: (level: number) => 0x00 + level,
  translation: (level: number) => 0x04 + level,
  accessFlag: (level: number) => 0x08 + level,
  permission: (level: number) => 0x0c + level,
  SYNCHRONOUS_EXTERNAL_ABORT: 0x10,
  ALIGNMENT: 0x21,
  TLB_CONFLICT: 0x30,
} as const;

const LEVELLED_KINDS = ["address size fault", "translation fault", "access flag fault", "permission fault"];

/** The DFSC/IFSC of an abort's ESR. */
export function faultStatus(esr: number): number {
  return esr & 0x3f;
}

/** A permission fault: the address is mapped, but without the right the access needs. */
export function isPermissionFault(fsc: number): boolean {
  return (fsc & 0x3c) === 0x0c;
}

/** The fault status code in words ("translation fault, level 2"), or undefined for a code not named here. */
export function faultStatusName(fsc: number): string | undefined {
  // Address size, translation, access flag and permission faults carry the level in bits 1:0.
  if ((fsc & 0x30) === 0) return `${LEVELLED_KINDS[(fsc >> 2) & 3]}, level ${fsc & 3}`;
  switch (fsc) {
    case FaultStatus.SYNCHRONOUS_EXTERNAL_ABORT:
      return "synchronous external abort";
    case FaultStatus.ALIGNMENT:
      return "alignment fault";
    case FaultStatus.TLB_CONFLICT:
      return "TLB conflict abort";
  }
  return undefined;
}
