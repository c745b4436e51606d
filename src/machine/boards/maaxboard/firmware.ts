// The MaaXBoard's EL3 firmware (NXP's TF-A) as an SMC from EL1/EL2 reaches it: PSCI's version and
// SYSTEM_OFF; every other call answers NOT_SUPPORTED. Its SiP calls (the SoC revision, 0xc2000006)
// are not modelled: a VMM answers its guest's (examples/simple/maaxboard/vmm.ts).

const PSCI_VERSION = 0x8400_0000n;
const PSCI_SYSTEM_OFF = 0x8400_0008n;
const PSCI_1_1 = 0x0001_0001n;
const SMCCC_NOT_SUPPORTED = BigInt.asUintN(64, -1n);

export function maaxboardFirmwareCall(args: readonly bigint[], powerOff: () => void): bigint[] {
  const result = [...args];
  if (args[0] === PSCI_SYSTEM_OFF) {
    powerOff();
    result[0] = 0n;
  } else {
    result[0] = args[0] === PSCI_VERSION ? PSCI_1_1 : SMCCC_NOT_SUPPORTED;
  }
  return result;
}
