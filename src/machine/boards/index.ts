// The boards virtkit emulates, by their Microkit names: `--board NAME` chooses one. A new board is
// a folder beside this file and one line in BOARDS (docs/adding-a-board.md).

import type { BoardDescription } from "./board.ts";
import { qemuVirtAarch64 } from "./qemu_virt_aarch64/index.ts";
import { maaxboard } from "./maaxboard/index.ts";
import { odroidC4 } from "./odroidc4/index.ts";

export const BOARDS: readonly BoardDescription[] = [qemuVirtAarch64, maaxboard, odroidC4];

export const DEFAULT_BOARD = "qemu_virt_aarch64";

export class UnknownBoardError extends Error {}

/** The board called `name`, or an error that lists the boards there are. */
export function boardNamed(name: string = DEFAULT_BOARD): BoardDescription {
  const board = BOARDS.find((b) => b.name === name);
  if (!board) {
    throw new UnknownBoardError(
      `Error: unknown board '${name}'; virtkit has ${BOARDS.map((b) => b.name).join(", ")}`,
    );
  }
  return board;
}

export type { Board, BoardDescription, AddressRange } from "./board.ts";
