// The ODROID-C4's EL3 firmware (Amlogic's BL31) as an SMC from EL1/EL2 reaches it: PSCI's version and
// SYSTEM_OFF; every other call answers NOT_SUPPORTED. Its secure-monitor calls (0x82000020 onwards,
// which Linux's meson_sm driver makes) are not modelled; the guest's device tree leaves that driver out.

const PSCI_VERSION = 0x8400_0000n;
const PSCI_SYSTEM_OFF = 0x8400_0008n;
const PSCI_1_0 = 0x0001_0000n;
const SMCCC_NOT_SUPPORTED = BigInt.asUintN(64, -1n);

export function odroidC4FirmwareCall(args: readonly bigint[], powerOff: () => void): bigint[] {
  const result = [...args];
  if (args[0] === PSCI_SYSTEM_OFF) {
    powerOff();
    result[0] = 0n;
  } else {
    result[0] = args[0] === PSCI_VERSION ? PSCI_1_0 : SMCCC_NOT_SUPPORTED;
  }
  return result;
}
