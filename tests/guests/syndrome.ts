// Decodes the ESR_EL2 syndrome of a stage-2 abort exit (ARM ARM D13.2.39, ISS for EC 0x24/0x20).

export interface AbortSyndrome {
  ec: number;
  /** Instruction length: 1 for a 32-bit instruction. */
  il: number;
  /** Instruction syndrome valid: SAS, SSE, SRT, SF and AR mean something. */
  isv: number;
  /** Access size: 0 byte, 1 halfword, 2 word, 3 doubleword. */
  sas: number;
  sse: number;
  srt: number;
  sf: number;
  ar: number;
  wnr: number;
  /** DFSC (data) or IFSC (instruction) fault status code. */
  fsc: number;
}

export function decodeAbort(esr: number): AbortSyndrome {
  return {
    ec: (esr >>> 26) & 0x3f,
    il: (esr >>> 25) & 1,
    isv: (esr >>> 24) & 1,
    sas: (esr >>> 22) & 3,
    sse: (esr >>> 21) & 1,
    srt: (esr >>> 16) & 0x1f,
    sf: (esr >>> 15) & 1,
    ar: (esr >>> 14) & 1,
    wnr: (esr >>> 6) & 1,
    fsc: esr & 0x3f,
  };
}

/**
 * The register value a load of `size` bytes puts in Xt, as the host must emulate it from the syndrome:
 * sign-extended to 32 or 64 bits (SF) when SSE is set, W results zero-extended.
 */
export function extendLoad(raw: bigint, sas: number, sse: number, sf: number): bigint {
  const bits = 8 << sas;
  let v = BigInt.asUintN(bits, raw);
  if (sse) v = BigInt.asUintN(sf ? 64 : 32, BigInt.asIntN(bits, v));
  return v;
}
