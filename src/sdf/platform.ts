// What the system description checks need to know about the board and the seL4 build, and the
// address-space limits that follow from them.

/**
 * The Microkit tool reads these facts from the SDK's kernel configuration for the chosen board;
 * virtkit's boards (src/machine/boards) carry them, and the caller hands them in.
 */
export interface Platform {
  name: string;
  /** Physical RAM where the tool places memory regions that have no phys_addr. */
  ram: { base: number; size: number };
  /** Highest user virtual address, inclusive (seL4_UserTop). */
  userTop: number;
  cores: number;
  /** KernelNumDomains and KernelNumDomainSchedules of the Microkit kernel build. */
  numDomains: number;
  numDomainSchedules: number;
  /** RAM as the seL4 build describes it, when it has holes (default: `ram` alone). */
  ramRegions?: readonly { base: number; size: number }[];
  /** Devices only the kernel maps: no memory region may cover them. */
  kernelDevices?: readonly { name: string; base: number; size: number }[];
  /**
   * Where device memory ends (PADDR_USER_DEVICE_TOP). With it, every phys_addr must lie inside one
   * untyped of the seL4 build, as the Microkit tool requires: in one RAM region, or in device memory
   * outside RAM and below this top, clear of the kernel's devices.
   */
  physicalAddressTop?: number;
}

/** The RAM regions the tool places memory regions in. */
export function platformRam(platform: Platform): readonly { base: number; size: number }[] {
  return platform.ramRegions ?? [platform.ram];
}

export const SMALL_PAGE = 0x1000;
export const LARGE_PAGE = 0x200000;
export const PAGE_SIZES = [SMALL_PAGE, LARGE_PAGE] as const;

/**
 * A PD's stack and IPC buffer sit at the top of its address space: the IPC buffer in the
 * highest page, a guard page below it, then the stack. Maps must end below the stack.
 */
export function pdMapMaxVaddr(platform: Platform, stackSize: number): number {
  const ipcBuffer = platform.userTop - (platform.userTop % SMALL_PAGE);
  return ipcBuffer - SMALL_PAGE - stackSize;
}

/** A VM has no stack or IPC buffer: its maps may reach the top of the address space. */
export function vmMapMaxVaddr(platform: Platform): number {
  return platform.userTop + 1;
}
