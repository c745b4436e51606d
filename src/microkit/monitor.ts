// The Microkit monitor: the highest-priority thread; it reports top-level PDs' faults and passive requests.
import { faultMessage, type Fault } from "../kernel/index.ts";
import {
  EXCEPTION_CLASS_NAMES,
  ExceptionClass,
  decodeDataAbort,
  exceptionClass,
  faultStatus,
  faultStatusName,
  instructionSpecificSyndrome,
  instructionLength,
} from "../machine/arch/index.ts";
import { BASE_TCB_CAP } from "./cspace.ts";

export interface FaultingPd {
  name: string;
  /** The badge of the PD's fault endpoint at the monitor (PD index + 1). */
  badge: number;
  /** The TypeScript source location of the faulting access or throw, if known. */
  location: string | undefined;
  /** Further lines about the fault (an ELF PD's remedy and registers). */
  details?: readonly string[];
}

export class Monitor {
  constructor(private readonly puts: (text: string) => void) {}

  started(): void {
    this.puts("MON|INFO: Microkit Monitor started!\n");
  }

  passive(pdName: string): void {
    this.puts(`MON|INFO: PD '${pdName}' is now passive!\n`);
  }

  fault(pd: FaultingPd, fault: Fault): void {
    const { label } = faultMessage(fault);
    this.puts(
      `MON|ERROR: received message ${hex32(label)}  badge: ${hex64(pd.badge)}  tcb cap: ${hex64(BASE_TCB_CAP + pd.badge - 1)}\n`,
    );
    this.puts(`MON|ERROR: faulting PD: ${pd.name}\n`);
    for (const line of describeFault(fault)) this.puts(`MON|ERROR: ${line}\n`);
    if (pd.location) this.puts(`MON|ERROR:    at ${pd.location}\n`);
    for (const line of pd.details ?? []) this.puts(`MON|ERROR: ${line}\n`);
  }
}

function describeFault(fault: Fault): string[] {
  switch (fault.kind) {
    case "VMFault": {
      const ec = exceptionClass(fault.fsr);
      const iss = instructionSpecificSyndrome(fault.fsr);
      const status = faultStatus(fault.fsr);
      const kind = fault.prefetch ? "prefetch fault" : "data fault";
      const il = instructionLength(fault.fsr) === 4 ? 1 : 0;
      const lines = [
        `VMFault: ip=${hex64(fault.ip)}  fault_addr=${hex64(fault.addr)}  fsr=${hex64(fault.fsr)}  (${kind})`,
        `   ec: ${hex32(ec)}  ${describeEc(ec)}   il: ${il}   iss: ${hex32(iss)}`,
      ];
      const dataAbort = ec === ExceptionClass.DATA_ABORT_LOWER;
      if (dataAbort || ec === ExceptionClass.INSTRUCTION_ABORT_LOWER) {
        const direction = dataAbort && decodeDataAbort(fault.fsr).write ? " -- write not read" : "";
        const what = faultStatusName(status) ?? "unknown fault status";
        lines.push(`   dfsc = ${what} (${hex32(status)})${direction}`);
      }
      return lines;
    }
    case "UserException":
      return [`UserException: ${firstLine(fault.detail ?? "exception")}`];
    default:
      return [`${fault.kind}`];
  }
}

function describeEc(ec: number): string {
  return EXCEPTION_CLASS_NAMES[ec] ?? EXCEPTION_CLASS_NAMES[ExceptionClass.UNKNOWN]!;
}

function firstLine(text: string): string {
  return text.split("\n")[0]!;
}

function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, "0")}`;
}

function hex64(value: number | bigint): string {
  return `0x${BigInt.asUintN(64, BigInt(value)).toString(16).padStart(16, "0")}`;
}
