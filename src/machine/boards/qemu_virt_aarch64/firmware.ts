// QEMU's built-in EL3 firmware for the virt machine, as an SMC from EL1/EL2 reaches it.

const PSCI_VERSION = 0x8400_0000n;
const PSCI_SYSTEM_OFF = 0x8400_0008n;
const PSCI_1_1 = 0x0001_0001n;
const SMCCC_NOT_SUPPORTED = BigInt.asUintN(64, -1n);

/**
 * It answers PSCI over SMC; the VMM's PSCI handling is libvmm's, so only the version query,
 * SYSTEM_OFF (QEMU exits: a VMM whose guest powered off ends the run this way) and "not
 * supported" remain here.
 */
export function qemuFirmwareCall(args: readonly bigint[], powerOff: () => void): bigint[] {
  const result = [...args];
  if (args[0] === PSCI_SYSTEM_OFF) {
    powerOff();
    result[0] = 0n;
  } else {
    result[0] = args[0] === PSCI_VERSION ? PSCI_1_1 : SMCCC_NOT_SUPPORTED;
  }
  return result;
}
