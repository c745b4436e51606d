// The C facts of the SDK's libvmm, generated from the TypeScript side so each lives in one place: the
// ESR layouts, PSCI and SMCCC numbers, the arm64 Image header, the vGIC's constants (libvmm/facts.h),
// and where each board's libvmm examples put a guest (libvmm/board.h).
import { ExceptionClass, decodeDataAbort, exceptionClass, isWfe, syndrome } from "../machine/arch/index.ts";
import { virtioMmioSlot, type BoardDescription } from "../machine/boards/board.ts";
import {
  ARM64_IMAGE_HEADER_SIZE,
  ARM64_IMAGE_MAGIC,
  IMAGE_SIZE_FIELD,
  MAGIC_OFFSET,
  TEXT_OFFSET_FIELD,
} from "../libvmm/image-header.ts";
import {
  AFFINITY_INFO_OFF,
  AFFINITY_INFO_ON,
  AFFINITY_MASK,
  MIGRATE_INFO_TYPE_NOT_PRESENT,
  PSCI_VERSION_1_1,
  PsciFunction,
  PsciReturn,
} from "../libvmm/psci.ts";
import {
  SMCCC_ARCH_FEATURES,
  SMCCC_NOT_SUPPORTED,
  SMCCC_VERSION,
  SMCCC_VERSION_1_1,
  SmcccService,
  decodeFunctionId,
  type FunctionId,
} from "../libvmm/smccc.ts";
import {
  CTLR,
  GICV2_DISTRIBUTOR_SIZE,
  SGIR,
  SGIR_FILTER_LIST,
  SGIR_FILTER_OTHERS,
  SGIR_FILTER_SELF,
  TYPER,
} from "../libvmm/vgic/gicv2-distributor.ts";
import { BANKS } from "../libvmm/vgic/register-banks.ts";
import { PRIVATE_IRQ_COUNT, SGI_COUNT, VTIMER_PPI } from "../libvmm/vgic/vgic.ts";
import { PSTATE_EL1H_DAIF_MASKED, VCPU_RESET_SYSREGS } from "../libvmm/vcpu.ts";
import { MAX_VCPUS } from "../libvmm/guest.ts";

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;
/** A macro's value: negative numbers in parentheses, so `x - NAME` stays right. */
const define = (value: string | number): string =>
  typeof value === "number" && value < 0 ? `(${value})` : `${value}`;

/** The one bit of an ISS that makes `probe` true, read off the TypeScript decoder. */
function issBit(base: number, probe: (esr: number) => boolean): number {
  for (let bit = 0; bit < 25; bit++) if (probe(base | (1 << bit))) return bit;
  throw new Error("sdk: no ISS bit answers the probe");
}

/** The one bit of an SMCCC function ID that makes `probe` true, read off the TypeScript decoder. */
function functionIdBit(probe: (id: FunctionId) => boolean): number {
  for (let bit = 0; bit < 32; bit++) if (probe(decodeFunctionId(1n << BigInt(bit)))) return bit;
  throw new Error("sdk: no SMCCC function-ID bit answers the probe");
}

/** libvmm/facts.h: architecture and firmware-interface numbers the C VMM library decodes. */
export function libvmmFactsHeader(): string {
  const dataAbort = syndrome(ExceptionClass.DATA_ABORT_LOWER, 0);
  const da = (esr: number) => decodeDataAbort(esr);
  const ecShift = 31 - Math.clz32(syndrome(1, 0) ^ syndrome(0, 0));
  const allIss = dataAbort | 0x1ff_ffff;
  const allOnes = decodeFunctionId(0xffff_ffffn);
  const defines: [string, string | number][] = [
    ["ESR_EC_SHIFT", ecShift],
    ["ESR_IL", hex(syndrome(0, 0))],
    ["ESR_EC_MASK", hex(exceptionClass(0xffff_ffff))],
    ...Object.entries(ExceptionClass).map(([name, value]): [string, string] => [
      `ESR_EC_${name}`,
      hex(value),
    ]),
    ["ESR_WFX_WFE", hex(1 << issBit(syndrome(ExceptionClass.WFX, 0), isWfe))],
    ["ESR_DA_ISV", hex(1 << issBit(dataAbort, (e) => da(e).valid))],
    ["ESR_DA_SAS_SHIFT", issBit(dataAbort, (e) => da(e).size === 2)],
    ["ESR_DA_SAS_MASK", hex(Math.log2(da(allIss).size))],
    ["ESR_DA_SSE", hex(1 << issBit(dataAbort, (e) => da(e).signExtend))],
    ["ESR_DA_SRT_SHIFT", issBit(dataAbort, (e) => da(e).register === 1)],
    ["ESR_DA_SRT_MASK", hex(da(allIss).register)],
    ["ESR_DA_SF", hex(1 << issBit(dataAbort, (e) => da(e).sixtyFourBit))],
    ["ESR_DA_WNR", hex(1 << issBit(dataAbort, (e) => da(e).write))],
    ["SMCCC_SERVICE_SHIFT", functionIdBit((id) => id.service === 1)],
    ["SMCCC_SERVICE_MASK", hex(allOnes.service)],
    ["SMCCC_FUNCTION_MASK", hex(allOnes.functionNumber)],
    [
      "SMCCC_SMC64",
      hex(1 << [...Array(32).keys()].find((bit) => decodeFunctionId(1n << BigInt(bit)).smc64)!),
    ],
    ["SMCCC_SERVICE_STANDARD", SmcccService.STANDARD],
    ["SMCCC_VERSION", hex(SMCCC_VERSION)],
    ["SMCCC_ARCH_FEATURES", hex(SMCCC_ARCH_FEATURES)],
    ["SMCCC_VERSION_1_1", hex(SMCCC_VERSION_1_1)],
    ["SMCCC_NOT_SUPPORTED", SMCCC_NOT_SUPPORTED],
    ["PSCI_VERSION_1_1", hex(PSCI_VERSION_1_1)],
    ...Object.entries(PsciFunction).map(([name, value]): [string, string] => [`PSCI_${name}`, hex(value)]),
    ...Object.entries(PsciReturn).map(([name, value]): [string, number] => [`PSCI_RET_${name}`, value]),
    ["PSCI_MIGRATE_INFO_TYPE_NOT_PRESENT", MIGRATE_INFO_TYPE_NOT_PRESENT],
    ["PSCI_AFFINITY_INFO_ON", AFFINITY_INFO_ON],
    ["PSCI_AFFINITY_INFO_OFF", AFFINITY_INFO_OFF],
    ["MPIDR_AFFINITY_MASK", `${hex(AFFINITY_MASK)}ull`],
    ["ARM64_IMAGE_MAGIC", hex(ARM64_IMAGE_MAGIC)],
    ["ARM64_IMAGE_HEADER_SIZE", ARM64_IMAGE_HEADER_SIZE],
    ["ARM64_IMAGE_TEXT_OFFSET", TEXT_OFFSET_FIELD],
    ["ARM64_IMAGE_IMAGE_SIZE", IMAGE_SIZE_FIELD],
    ["ARM64_IMAGE_MAGIC_OFFSET", MAGIC_OFFSET],
    ["PSTATE_EL1H_DAIF_MASKED", hex(PSTATE_EL1H_DAIF_MASKED)],
    ["VCPU_RESET_SCTLR_EL1", hex(VCPU_RESET_SYSREGS.SCTLR_EL1)],
    ["VCPU_RESET_CNTV_CTL_EL0", hex(VCPU_RESET_SYSREGS.CNTV_CTL_EL0)],
    ["GUEST_MAX_VCPUS", MAX_VCPUS],
    ["GIC_SGI_COUNT", SGI_COUNT],
    ["GIC_PRIVATE_IRQ_COUNT", PRIVATE_IRQ_COUNT],
    ["GIC_VTIMER_PPI", VTIMER_PPI],
    ["GICV2_DISTRIBUTOR_SIZE", hex(GICV2_DISTRIBUTOR_SIZE)],
    ["GICD_CTLR", hex(CTLR)],
    ["GICD_TYPER", hex(TYPER)],
    ["GICD_SGIR", hex(SGIR)],
    ["GICD_SGIR_FILTER_LIST", SGIR_FILTER_LIST],
    ["GICD_SGIR_FILTER_OTHERS", SGIR_FILTER_OTHERS],
    ["GICD_SGIR_FILTER_SELF", SGIR_FILTER_SELF],
    ...BANKS.flatMap((bank): [string, string | number][] => [
      [`GICD_${bank.name}`, hex(bank.offset)],
      [`GICD_${bank.name}_BITS`, bank.bitsPerIrq],
    ]),
  ];
  return [
    "/* Generated by `virtkit sdk` from virtkit's ARM facts and libvmm (src/machine/arch, src/libvmm); do not edit. */",
    "#pragma once",
    "",
    ...defines.map(([name, value]) => `#define ${name} ${define(value)}`),
    "",
  ].join("\n");
}

/** libvmm/board.h: where libvmm's examples put a guest on `board`, its GIC, its UART and its NIC. */
export function libvmmBoardHeader(board: BoardDescription): string {
  const { guest, virtioMmio } = board;
  const defines: [string, string | number][] = [
    ["GUEST_RAM_PADDR", hex(guest.ram.base)],
    ["GUEST_RAM_SIZE", hex(guest.ram.size)],
    ["GUEST_DTB_VADDR", hex(guest.dtbAddress)],
    ["GUEST_INIT_RAM_DISK_VADDR", hex(guest.initrdAddress)],
    ["GIC_VERSION", guest.gic.version],
    ["GIC_DIST_PADDR", hex(guest.gic.distributor.base)],
    ["SERIAL_IRQ", guest.uart.irq],
    // The INTID of the NIC a VMM passes through (`virtkit images path --nic` lists it for the guest).
    ...(virtioMmio
      ? [["NIC_IRQ", virtioMmioSlot(virtioMmio, virtioMmio.nicSlot).irq] as [string, number]]
      : []),
  ];
  return [
    `/* Generated by \`virtkit sdk\` from the ${board.name} board's guest layout; do not edit. */`,
    "#pragma once",
    "",
    ...defines.map(([name, value]) => `#define ${name} ${define(value)}`),
    "",
  ].join("\n");
}
