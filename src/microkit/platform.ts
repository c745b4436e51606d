// The Microkit tool's view of a board: its SDK facts plus the core count of the seL4 build.

import type { BoardDescription } from "../machine/boards/index.ts";
import type { Platform } from "../sdf/index.ts";

/** What `--board B` and `--cores N` give the system checks. */
export function microkitPlatform(board: BoardDescription, cores = 1): Platform {
  return { name: board.name, cores, ...board.microkit };
}
